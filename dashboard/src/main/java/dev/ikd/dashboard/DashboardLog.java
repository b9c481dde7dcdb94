package dev.ikd.dashboard;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The dashboard's view of the log: one thread reads every ikd topic from its beginning and keeps
 * following it, feeding each run's {@link RunProjection}. Nothing is written and no consumer group
 * is joined, so any number of dashboards can watch a run without touching it.
 */
public final class DashboardLog implements AutoCloseable {

    /** A finished run's projection nobody has read for this long is let go; it is read from the log again when asked for. */
    public static final long EVICT_AFTER_MS = 10 * 60_000;

    private final Consumer<String, Decoded> consumer;
    private final Map<String, RunProjection> runs = new TreeMap<>();
    /** The headers of runs whose projections were let go, for the list of runs. */
    private final Map<String, JsonObject> evicted = new TreeMap<>();
    private final Map<String, Long> lastReadMs = new java.util.HashMap<>();
    /** Builds one run's projection again from the log; null: never let one go. */
    private final Function<String, RunProjection> rebuild;
    private final java.util.function.LongSupplier clock;
    /** The run's keys, when known: every record is checked, and one that fails is marked on the page. */
    private final dev.ikd.proto.sign.RunManifest manifest;
    private final Thread thread;
    private volatile boolean closed;
    private volatile RuntimeException failure;
    private final java.util.concurrent.CountDownLatch caughtUp = new java.util.concurrent.CountDownLatch(1);

    public DashboardLog(KafkaAccess kafka, dev.ikd.proto.sign.RunManifest manifest) {
        this(new KafkaConsumer<>(KafkaClients.readerConfig(kafka, "ikd-dashboard"), new StringDeserializer(),
            new EnvelopeDeserializer()), manifest, run -> reread(kafka, manifest, run), System::currentTimeMillis);
    }

    DashboardLog(Consumer<String, Decoded> consumer) {
        this(consumer, null, null, System::currentTimeMillis);
    }

    DashboardLog(Consumer<String, Decoded> consumer, dev.ikd.proto.sign.RunManifest manifest, Function<String, RunProjection> rebuild,
                 java.util.function.LongSupplier clock) {
        this.consumer = consumer;
        this.manifest = manifest;
        this.rebuild = rebuild;
        this.clock = clock;
        this.thread = new Thread(this::follow, "ikd-dashboard-log");
        thread.setDaemon(true);
    }

    /** Run {@code runId}'s projection folded again from the whole log, as the live one was. */
    private static RunProjection reread(KafkaAccess kafka, dev.ikd.proto.sign.RunManifest manifest, String runId) {
        RunProjection p = new RunProjection(runId);
        KafkaClients.readFromStart(kafka, Topics.ALL, "ikd-dashboard-reread", Duration.ofSeconds(120), r -> {
            if (r.value() instanceof Decoded.Valid v && runId.equals(runOf(v.envelope()))) {
                feed(p, manifest, r, v);
            }
        }, null);
        return p;
    }

    public DashboardLog start() {
        thread.start();
        return this;
    }

    private void follow() {
        Set<TopicPartition> assigned = new HashSet<>();
        Map<TopicPartition, Long> ends = null;
        long nextLook = 0;
        try {
            while (!closed) {
                if (ends != null && ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp.countDown();
                    ends = null;
                }
                if (System.nanoTime() >= nextLook) {
                    // Topics made after the dashboard started are followed from their beginning too.
                    List<TopicPartition> all = new ArrayList<>();
                    for (String topic : Topics.ALL) {
                        consumer.partitionsFor(topic, Duration.ofSeconds(10)).forEach(p -> all.add(new TopicPartition(topic, p.partition())));
                    }
                    if (!assigned.containsAll(all)) {
                        List<TopicPartition> fresh = all.stream().filter(p -> !assigned.contains(p)).toList();
                        assigned.addAll(fresh);
                        consumer.assign(assigned);
                        consumer.seekToBeginning(fresh);
                        if (caughtUp.getCount() > 0) {
                            ends = consumer.endOffsets(assigned);
                        }
                    }
                    // Until every topic is there (a dashboard started before the run), look often.
                    boolean allTopics = Topics.ALL.stream().allMatch(t -> assigned.stream().anyMatch(p -> p.topic().equals(t)));
                    nextLook = System.nanoTime() + (allTopics ? Duration.ofSeconds(5) : Duration.ofMillis(500)).toNanos();
                }
                if (assigned.isEmpty()) {
                    Thread.sleep(200);
                    continue;
                }
                for (ConsumerRecord<String, Decoded> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() instanceof Decoded.Valid v) {
                        take(r, v);
                    }
                }
                evictIdle();
            }
        } catch (WakeupException e) {
            // closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            consumer.close();
        }
    }

    /** One record as read: checked where the run's keys are known, then taken. */
    private void take(ConsumerRecord<String, Decoded> r, Decoded.Valid v) {
        String runId = runOf(v.envelope());
        synchronized (runs) {
            if (!runId.isEmpty() && evicted.containsKey(runId)) {
                return; // folded again from the log when someone asks for it
            }
            if (!runId.isEmpty()) {
                feed(runs.computeIfAbsent(runId, RunProjection::new), manifest, r, v);
                return;
            }
        }
        take(r.topic(), r.timestamp(), v.envelope());
    }

    /** A record to its run's projection, marked as unverified when it is misplaced or, with the run's keys, not its sender's. */
    private static void feed(RunProjection p, dev.ikd.proto.sign.RunManifest manifest, ConsumerRecord<String, Decoded> r,
                             Decoded.Valid v) {
        Envelope e = v.envelope();
        String problem = e.getKind() == Kind.DEAD_LETTER ? null : Topics.misplaced(r.topic(), r.key(), e);
        if (problem == null && manifest != null && e.getKind() != Kind.DEAD_LETTER) {
            problem = dev.ikd.proto.sign.Signatures.problem(manifest, e, v.signed());
        }
        if (problem != null) {
            p.unverified(r.topic(), r.timestamp(), e, problem);
        } else {
            p.apply(r.topic(), r.timestamp(), e);
        }
    }

    /** One record: to its run's projection; a dead letter to the run it names, or to every run live at its time. */
    void take(String topic, long timestampMs, Envelope e) {
        synchronized (runs) {
            String runId = runOf(e);
            if (!runId.isEmpty()) {
                runs.computeIfAbsent(runId, RunProjection::new).apply(topic, timestampMs, e);
                return;
            }
            for (RunProjection p : runs.values()) {
                if (p.firstMs() <= timestampMs && ("running".equals(p.status()) || timestampMs <= p.lastMs() + 60_000)) {
                    p.deadLetter(timestampMs, e);
                }
            }
        }
    }

    private static String runOf(Envelope e) {
        if (e.getKind() != Kind.DEAD_LETTER || !e.getRunId().isEmpty()) {
            return e.getRunId();
        }
        try {
            return Envelope.parseFrom(e.getDeadLetter().getRawValue()).getRunId();
        } catch (InvalidProtocolBufferException ex) {
            return "";
        }
    }

    /**
     * Lets go of the projections of finished runs nobody has read for {@link #EVICT_AFTER_MS}: a
     * dashboard that follows a log of many runs keeps only those it is asked for.
     */
    void evictIdle() {
        if (rebuild == null) {
            return;
        }
        long now = clock.getAsLong();
        synchronized (runs) {
            for (String id : List.copyOf(runs.keySet())) {
                RunProjection p = runs.get(id);
                long seen = Math.max(lastReadMs.getOrDefault(id, 0L), p.lastMs());
                if (!"running".equals(p.status()) && now - seen >= EVICT_AFTER_MS) {
                    JsonObject header = p.header(now);
                    header.remove("options");
                    evicted.put(id, header);
                    runs.remove(id);
                }
            }
        }
    }

    /** Page timings kept for 'ikd bench dashboard'; null: the endpoint is not served (the default). */
    private volatile java.util.concurrent.BlockingQueue<JsonObject> pageTimings;

    /** Serve POST /api/page-timing, for the benchmark; at most 64 reports wait to be read, more are dropped. */
    public DashboardLog acceptPageTimings() {
        pageTimings = new java.util.concurrent.ArrayBlockingQueue<>(64);
        return this;
    }

    boolean acceptsPageTimings() {
        return pageTimings != null;
    }

    /** A page's report of how long it took to show its run. */
    void pageTiming(JsonObject timing) {
        if (pageTimings != null) {
            pageTimings.offer(timing);
        }
    }

    /** The next page timing reported, or null after {@code timeout}. */
    public JsonObject nextPageTiming(Duration timeout) throws InterruptedException {
        return pageTimings.poll(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Waits until the log as it was when reading began has been read; false if that took longer than {@code timeout}. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        boolean done = caughtUp.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        failIfBroken();
        return done;
    }

    /** The runs in the log, newest first. */
    public JsonArray runs() {
        failIfBroken();
        synchronized (runs) {
            List<JsonObject> all = new ArrayList<>(evicted.values());
            for (RunProjection p : runs.values()) {
                JsonObject run = p.header(clock.getAsLong());
                run.remove("options");
                all.add(run);
            }
            all.sort((a, b) -> Long.compare(b.getLong("first_ms", 0L), a.getLong("first_ms", 0L)));
            JsonArray list = new JsonArray();
            all.forEach(list::add);
            return list;
        }
    }

    /** {@code f} of run {@code runId}'s projection under the lock, or null if the log has no such run (yet). */
    public <T> T read(String runId, Function<RunProjection, T> f) {
        failIfBroken();
        boolean gone;
        synchronized (runs) {
            gone = evicted.containsKey(runId);
        }
        RunProjection again = gone ? rebuild.apply(runId) : null;
        synchronized (runs) {
            if (again != null && evicted.remove(runId) != null) {
                runs.put(runId, again);
            }
            lastReadMs.put(runId, clock.getAsLong());
            RunProjection p = runs.get(runId);
            return p == null ? null : f.apply(p);
        }
    }

    private void failIfBroken() {
        if (failure != null) {
            throw new IllegalStateException("the dashboard stopped reading the log: " + failure.getMessage(), failure);
        }
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
