package dev.ikd.launcher;

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
final class DashboardLog implements AutoCloseable {

    private final Consumer<String, Decoded> consumer;
    private final Map<String, RunProjection> runs = new TreeMap<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile RuntimeException failure;
    private final java.util.concurrent.CountDownLatch caughtUp = new java.util.concurrent.CountDownLatch(1);

    DashboardLog(KafkaAccess kafka) {
        this(new KafkaConsumer<>(KafkaClients.readerConfig(kafka, "ikd-dashboard"), new StringDeserializer(),
            new EnvelopeDeserializer()));
    }

    DashboardLog(Consumer<String, Decoded> consumer) {
        this.consumer = consumer;
        this.thread = new Thread(this::follow, "ikd-dashboard-log");
        thread.setDaemon(true);
    }

    DashboardLog start() {
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
                        take(r.topic(), r.timestamp(), v.envelope());
                    }
                }
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

    private final java.util.concurrent.BlockingQueue<JsonObject> pageTimings = new java.util.concurrent.LinkedBlockingQueue<>();

    /** A page's report of how long it took to show its run. */
    void pageTiming(JsonObject timing) {
        pageTimings.offer(timing);
    }

    /** The next page timing reported, or null after {@code timeout}. */
    JsonObject nextPageTiming(Duration timeout) throws InterruptedException {
        return pageTimings.poll(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Waits until the log as it was when reading began has been read; false if that took longer than {@code timeout}. */
    boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        boolean done = caughtUp.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        failIfBroken();
        return done;
    }

    /** The runs in the log, newest first. */
    JsonArray runs() {
        failIfBroken();
        synchronized (runs) {
            List<RunProjection> all = new ArrayList<>(runs.values());
            all.sort((a, b) -> Long.compare(b.firstMs(), a.firstMs()));
            JsonArray list = new JsonArray();
            for (RunProjection p : all) {
                JsonObject run = p.header(System.currentTimeMillis());
                run.remove("options");
                list.add(run);
            }
            return list;
        }
    }

    /** {@code f} of run {@code runId}'s projection under the lock, or null if the log has no such run (yet). */
    <T> T read(String runId, Function<RunProjection, T> f) {
        failIfBroken();
        synchronized (runs) {
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
