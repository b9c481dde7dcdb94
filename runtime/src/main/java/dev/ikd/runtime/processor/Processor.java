package dev.ikd.runtime.processor;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;

import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.envelope.DeadLetters;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.sign.RunManifest;
import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Hop;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.ServiceMetrics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable processor every service runs on (docs/architecture.md §6). For
 * every record, in this order:
 * <ol>
 *   <li>decode and validate once, at the edge (a record that is not a valid envelope is dead-lettered;
 *       one of another run, or one the service does not read, is skipped and counted);</li>
 *   <li>apply it to the machine of its key (a refusal is dead-lettered with its reason and changes nothing);</li>
 *   <li>make the result durable ({@link Durability}: the checkpoint, fsync'd, with the input it covers);</li>
 *   <li>send what it caused and wait for the acknowledgements;</li>
 *   <li>commit the offsets below which every record is done.</li>
 * </ol>
 * When it gains partitions it recovers their keys' machines, sends their last answers again and
 * seeks every partition to the lowest position a checkpoint or the group's committed offset
 * covers; records a machine already covers are skipped. Crash-only: a broken guarantee (a
 * checkpoint that cannot be written, a send that fails after the client's retries, an exception in
 * a handler) stops the processor at once with one log line; {@link #failure()} then fails and the
 * process should exit, to resume when started again. Backpressure: at most {@code queueBound}
 * records per partition are taken and not yet done; a full partition is paused, and resumed when it
 * drains.
 */
public final class Processor<M extends Machine> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Processor.class);
    private static final Duration POLL = Duration.ofMillis(100);
    /**
     * Offsets are hints (a checkpoint's positions win), so they are committed at most this often: a
     * commit per record was a third of the broker's requests on the critical path of a step.
     */
    static final long COMMIT_INTERVAL_MS = 1_000;
    /** Longer than the producer's own delivery timeout (120 s): the client gives up first and says why. */
    private static final long SEND_WAIT_S = 180;
    private static final long DRAIN_WAIT_MS = 60_000;

    /**
     * @param queueBound records per partition taken from Kafka and not yet done; at the bound the partition pauses
     * @param tickMs     how often every machine hears time pass (0: never)
     */
    /**
     * @param unacked records of one key whose answers may still await their acknowledgements while the
     *                key's next record is applied (1: each record's answers are acknowledged before the
     *                next is applied). Every answer not yet acknowledged is in the key's checkpoint, so a
     *                crash sends it again; offsets are committed only past acknowledged answers.
     */
    /**
     * @param manifest the keys of a run that signs its messages: a record that is not signed by the
     *                 sender its kind requires is dead-lettered with the reason and changes nothing
     *                 ({@link Signatures}); null when the run does not sign
     */
    public record Settings(String runId, String serviceId, int queueBound, long tickMs, FaultPoints faults, int unacked,
                           RunManifest manifest) {

        public Settings(String runId, String serviceId, int queueBound, long tickMs, FaultPoints faults) {
            this(runId, serviceId, queueBound, tickMs, faults, 1, null);
        }

        public Settings(String runId, String serviceId, int queueBound, long tickMs, FaultPoints faults, int unacked) {
            this(runId, serviceId, queueBound, tickMs, faults, unacked, null);
        }

        public Settings {
            if (unacked < 1) {
                throw new IllegalArgumentException("unacknowledged records per key must be at least 1, got " + unacked);
            }
            if (queueBound < 1) {
                throw new IllegalArgumentException("the queue bound must be at least 1 record, got " + queueBound);
            }
            if (tickMs < 0) {
                throw new IllegalArgumentException("the tick interval must be >= 0 ms, got " + tickMs);
            }
        }
    }

    /** Which partitions to read. */
    public sealed interface Inputs {
        /** The topics read. */
        Set<String> topics();

        /** A consumer group over whole topics: the group spreads their partitions over its members. */
        record Group(Set<String> topics) implements Inputs {
        }

        /** Only the partition that records keyed {@code key} go to, in each of {@code topics}: a student reads its own. */
        record OwnPartition(Set<String> topics, String key) implements Inputs {
        }
    }

    /** Hears what the processor does; called on its threads, so keep it short. */
    public interface Listener<M> {
        /** A valid record of this run arrived (before it is routed). */
        default void received(Envelope e) {
        }

        /** {@code key}'s machine applied or refused {@code input}, and what that caused was sent. */
        default void handled(String key, M machine, Input input) {
        }

        /** {@code key}'s machine was recovered from its saved state (its last answers are sent next). */
        default void recovered(String key, M machine) {
        }
    }

    private final Settings settings;
    private final Inputs inputs;
    private final Consumer<String, Decoded> consumer;
    private final Producer<String, Envelope> producer;
    private final Service<M> service;
    private final Durability durability;
    private final ServiceMetrics metrics;
    private final Clock clock;
    private final Listener<M> listener;
    private final KeyedExecutor keyed;
    private final DeadLetters deadLetters;

    private final Map<String, M> machines = new ConcurrentHashMap<>();
    private final Map<String, Positions> covered = new ConcurrentHashMap<>();
    /** Done records, from any thread, for the input thread to account for. */
    private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> failure = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    // Owned by the input thread.
    private final Intake intake;
    private final List<Done> commitFaults = new ArrayList<>();
    private long nextTickMs;

    private volatile boolean running = true;
    /** Whether a partition is paused (read by workers to decide whether to wake the input thread; stale true is harmless). */
    private volatile boolean anyPaused;
    private long nextCommitMs;
    private volatile Thread inputThread;

    /** A record that needs no more work: handled, skipped or dead-lettered. {@code faultStep} >= 0 halts once it is committed. */
    private record Done(TopicPartition tp, long offset, long faultStep) {
    }

    /** A handled record whose answers are on their way: done once {@code acked} completes and the key's turn comes. */
    private record InFlight(ConsumerRecord<String, Decoded> record, Envelope envelope, TopicPartition tp, Input input, String refusal,
                            List<Envelope> out, CompletableFuture<Void> acked, Hop hop) {
        boolean applied() {
            return refusal == null;
        }
    }

    /** Per key, its records in flight, oldest first; touched only on the key's turn. */
    private final Map<String, ArrayDeque<InFlight>> inFlight = new ConcurrentHashMap<>();

    public Processor(Settings settings, Inputs inputs, Consumer<String, Decoded> consumer, Producer<String, Envelope> producer,
                     Service<M> service, Durability durability, ServiceMetrics metrics, Executor workers, Clock clock,
                     Listener<M> listener) {
        this.settings = settings;
        this.inputs = inputs;
        this.consumer = consumer;
        this.producer = producer;
        this.service = service;
        this.durability = durability;
        this.metrics = metrics;
        this.clock = clock;
        this.listener = listener;
        this.keyed = new KeyedExecutor(workers, (key, e) -> stop("a task of " + key + " failed: " + e, e));
        this.deadLetters = new DeadLetters(producer, settings.serviceId(), settings.runId(), clock);
        this.intake = new Intake(settings.queueBound());
    }

    /**
     * Starts reading on a thread of its own. The future completes once reading has begun; for
     * {@link Inputs.OwnPartition} only after the key's machine is recovered (or made fresh).
     */
    public CompletableFuture<Void> start() {
        Thread t = new Thread(this::run, "ikd-" + settings.serviceId() + "-input");
        t.setDaemon(true);
        inputThread = t;
        t.start();
        return started;
    }

    /** Fails, with a {@link ServiceStoppedException} naming the reason, if the processor had to stop; never completes otherwise. */
    public CompletableFuture<Void> failure() {
        return failure;
    }

    /** The machine of {@code key} now, or null: for health and reports, read-only. */
    public M machine(String key) {
        return machines.get(key);
    }

    /** The keys held now. */
    public Set<String> keys() {
        return Set.copyOf(machines.keySet());
    }

    /**
     * Runs {@code action} on {@code key}'s machine in turn with its inputs and sends what it returns
     * (a student's enrollment, which no input causes). Nothing happens if the key has no machine.
     */
    public CompletableFuture<Void> act(String key, Function<M, List<Envelope>> action) {
        return keyed.submit(key, () -> {
            M m = machines.get(key);
            if (m != null && running) {
                sendAndWait(action.apply(m), "what " + key + " sends");
            }
        });
    }

    /**
     * Sends envelopes (as well those no input caused, a teacher's blocks); completes when every one is
     * acknowledged. Each is stamped with the moment it is handed to the producer, where hop times
     * start.
     */
    /**
     * Sends {@code envelopes} one after the other, each once the one before is acknowledged: for
     * records a service sends at start to partitions a topic has only just made. Sent together, a
     * first record that meets a retriable error can be overtaken by the second, and the idempotent
     * producer then retries the first for ever as out of sequence (KAFKA-14359; seen with a
     * teacher's blocks two stages of which share a partition).
     */
    public CompletableFuture<Void> sendInTurn(List<Envelope> envelopes) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (Envelope e : envelopes) {
            chain = chain.thenCompose(v -> send(List.of(e)));
        }
        return chain;
    }

    public CompletableFuture<Void> send(List<Envelope> envelopes) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Envelope e : envelopes) {
            long now = Envelopes.micros(clock);
            Envelope stamped = e.toBuilder().setEventTimeUs(now).setEventTimeMs(now / 1_000).build();
            for (ProducerRecord<String, Envelope> r : records(stamped)) {
                CompletableFuture<Void> acked = new CompletableFuture<>();
                producer.send(r, (meta, error) -> {
                    if (error != null) {
                        acked.completeExceptionally(error);
                    } else {
                        metrics.sent(r.topic(), meta.serializedValueSize());
                        acked.complete(null);
                    }
                });
                all.add(acked);
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    // ---------------------------------------------------------------- the input thread

    private void run() {
        try {
            if (inputs instanceof Inputs.Group g) {
                consumer.subscribe(g.topics(), new Rebalance());
                started.complete(null);
            } else {
                Inputs.OwnPartition own = (Inputs.OwnPartition) inputs;
                List<TopicPartition> mine = new ArrayList<>();
                for (String topic : own.topics()) {
                    mine.add(new TopicPartition(topic, partitionOf(topic, own.key())));
                }
                consumer.assign(mine);
                assigned(mine);
                machines.computeIfAbsent(own.key(), service::fresh);
                covered.computeIfAbsent(own.key(), k -> Positions.none());
                started.complete(null);
            }
            nextTickMs = clock.millis() + settings.tickMs();
            while (running) {
                account();
                commit();
                tick();
                ConsumerRecords<String, Decoded> records;
                try {
                    records = consumer.poll(POLL);
                } catch (WakeupException e) {
                    continue;
                }
                take(records);
            }
            if (!failure.isDone()) {
                shutDown();
            }
        } catch (RuntimeException | Error e) {
            started.completeExceptionally(e);
            stop("reading its input failed: " + e, e);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("{}: closing the consumer: {}", settings.serviceId(), e.toString());
            }
            closed.complete(null);
        }
    }

    /** Takes polled records in, partition by partition, pausing a partition that reaches its bound. */
    private void take(ConsumerRecords<String, Decoded> records) {
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<String, Decoded> record : records.records(tp)) {
                if (intake.full(tp)) {
                    // The rest of this batch is read again after the partition resumes.
                    pause(tp);
                    consumer.seek(tp, record.offset());
                    break;
                }
                intake.take(tp, record.offset());
                route(record, tp);
            }
            if (intake.full(tp)) {
                pause(tp);
            }
        }
    }

    private void pause(TopicPartition tp) {
        if (intake.pause(tp)) {
            anyPaused = true;
            consumer.pause(List.of(tp));
            metrics.paused(tp.topic());
        }
    }

    /** Step 1: decode and validate once; what is not for a machine is done here. */
    private void route(ConsumerRecord<String, Decoded> record, TopicPartition tp) {
        Decoded decoded = record.value();
        int size = Math.max(0, record.serializedValueSize());
        if (decoded == null || decoded instanceof Decoded.Malformed) {
            metrics.received(record.topic(), size, -1);
            String reason = decoded == null ? "record has no value" : ((Decoded.Malformed) decoded).reason();
            deadLetterNow(record, decoded == null ? null : ((Decoded.Malformed) decoded).raw(), reason, tp);
            return;
        }
        Envelope e = ((Decoded.Valid) decoded).envelope();
        if (!settings.runId().equals(e.getRunId())) {
            metrics.received(record.topic(), size, -1);
            metrics.skipped(record.topic(), "other_run");
            passedOver(tp, record.offset());
            return;
        }
        long receivedUs = Envelopes.micros(clock);
        long sentUs = e.getEventTimeUs() > 0 ? e.getEventTimeUs() : -1;
        long appendedUs = record.timestampType() == TimestampType.LOG_APPEND_TIME ? record.timestamp() * 1_000 : -1;
        metrics.received(record.topic(), size, sentUs < 0 ? -1 : Math.max(0, receivedUs - sentUs));
        // A genuine record copied to another topic or key is refused before anyone hears of it; so is a forged one.
        String misplaced = Topics.misplaced(record.topic(), record.key(), e);
        if (misplaced != null) {
            deadLetterNow(record, Envelopes.encode(e), misplaced, tp);
            return;
        }
        if (settings.manifest() != null) {
            String forged = Signatures.problem(settings.manifest(), e, ((Decoded.Valid) decoded).signed());
            if (forged != null) {
                deadLetterNow(record, Envelopes.encode(e), forged, tp);
                answer(service.answerToForgery(e, forged), "the answer to a forged " + e.getKind());
                return;
            }
        }
        listener.received(e);
        String skip = service.skip(e);
        if (skip != null) {
            metrics.skipped(record.topic(), skip);
            passedOver(tp, record.offset());
            return;
        }
        String key = service.keyOf(e);
        keyed.submit(key, () -> handle(key, record, e, tp, Hop.arrived(sentUs, appendedUs, receivedUs)));
    }

    /**
     * A record of another run, or one this service does not read, is done as soon as it is seen: it
     * never counts against the partition's queue bound. Counted, a new run's services reading a
     * shared log from its start paused every few dozen old records, and each resumption waited out
     * another partition's empty fetch (fetch.max.wait.ms): a minute's delay at a run's first step
     * after a few runs on one broker (BENCHMARKS.md, overhead).
     */
    private void passedOver(TopicPartition tp, long offset) {
        intake.done(tp, offset);
    }

    /** A record no machine can read: its dead letter goes out without holding up the partition. */
    private void deadLetterNow(ConsumerRecord<String, Decoded> record, byte[] raw, String reason, TopicPartition tp) {
        LOG.warn("{}: dead-lettering {}/{}@{}: {}", settings.serviceId(), record.topic(), record.partition(), record.offset(), reason);
        metrics.deadLettered(record.topic());
        producer.send(deadLetters.letter(record, raw, reason), (meta, error) -> {
            if (error != null) {
                stop("cannot dead-letter " + record.topic() + "/" + record.partition() + "@" + record.offset() + ": " + error, error);
            } else {
                completed(new Done(tp, record.offset(), -1));
            }
        });
    }

    /** Steps 2 to 4 for one record, on its key's turn: apply, make durable, send and wait for the acknowledgements. */
    private void handle(String key, ConsumerRecord<String, Decoded> record, Envelope e, TopicPartition tp, Hop arrived) {
        if (!running) {
            return; // stopping: the record stays in flight and is never committed
        }
        long startedUs = Envelopes.micros(clock);
        M machine;
        try {
            machine = machines.computeIfAbsent(key, service::fresh);
        } catch (RuntimeException bug) {
            stop("cannot set up " + key + ": " + bug.getMessage(), bug);
            return;
        }
        Positions positions = covered.computeIfAbsent(key, k -> Positions.none());
        Position at = new Position(record.topic(), record.partition(), record.offset());
        if (positions.covers(at)) {
            metrics.skipped(record.topic(), "covered");
            completed(new Done(tp, record.offset(), -1));
            return;
        }
        Input input = new Input(e, at, clock.millis());
        List<Envelope> out;
        String refusal = null;
        try {
            out = machine.apply(input);
        } catch (RejectedMessageException | MalformedMessageException refused) {
            refusal = refused.getMessage();
            LOG.warn("{}: dead-lettering {}/{}@{} ({}): {}", settings.serviceId(), record.topic(), record.partition(),
                record.offset(), e.getIdempotencyKey(), refusal);
            metrics.deadLettered(record.topic());
            out = List.of(deadLetters.letter(record, Envelopes.encode(e), refusal).value());
        } catch (RuntimeException | Error bug) {
            stop("handling " + e.getIdempotencyKey() + " from " + at.partitionName() + "@" + at.offset() + " failed: " + bug, bug);
            return;
        }
        boolean applied = refusal == null;
        long appliedUs = Envelopes.micros(clock);
        long step = e.getStep();
        if (applied) {
            settings.faults().reached(settings.serviceId(), FaultPoints.Point.AFTER_APPLY, step);
        }
        positions.advance(at);
        try {
            long t0 = System.nanoTime();
            List<Envelope> outbox = unacknowledged(key);
            if (!outbox.isEmpty()) {
                outbox = new ArrayList<>(outbox);
                outbox.addAll(out);
            }
            durability.record(new Durability.Handled(key, machine, input, refusal, outbox.isEmpty() ? out : outbox, positions));
            metrics.checkpointed(System.nanoTime() - t0);
        } catch (RuntimeException | Error broken) {
            stop("cannot make the state of " + key + " durable: " + broken.getMessage(), broken);
            return;
        }
        long persistedUs = Envelopes.micros(clock);
        if (applied) {
            settings.faults().reached(settings.serviceId(), FaultPoints.Point.AFTER_CHECKPOINT, step);
        }
        String what = what(e, refusal);
        CompletableFuture<Void> acked;
        try {
            acked = send(out);
        } catch (RuntimeException broken) {
            stop("cannot send " + what + ": " + broken, broken);
            return;
        }
        ArrayDeque<InFlight> queue = inFlight.computeIfAbsent(key, k -> new ArrayDeque<>());
        queue.addLast(new InFlight(record, e, tp, input, refusal, out, acked, arrived.handled(startedUs, appliedUs, persistedUs, -1)));
        acked.whenComplete((ok, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                stop("cannot send " + what + ": " + cause, cause);
            } else {
                keyed.submit(key, () -> settle(key, false));
            }
        });
        settle(key, false);
    }

    /** Sends what answers a refused record (no machine's state behind it); a failure stops the service like any other send. */
    private void answer(List<Envelope> envelopes, String what) {
        if (envelopes.isEmpty()) {
            return;
        }
        send(envelopes).whenComplete((ok, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                stop("cannot send " + what + ": " + cause, cause);
            }
        });
    }

    private static String what(Envelope e, String refusal) {
        return refusal == null ? "the answers to " + e.getIdempotencyKey() : "the dead letter of " + e.getIdempotencyKey();
    }

    /** The answers of {@code key}'s records in flight, oldest first: what a checkpoint keeps to send again after a crash. */
    private List<Envelope> unacknowledged(String key) {
        ArrayDeque<InFlight> queue = inFlight.get(key);
        if (queue == null || queue.isEmpty()) {
            return List.of();
        }
        List<Envelope> all = new ArrayList<>();
        queue.forEach(f -> all.addAll(f.out()));
        return all;
    }

    /**
     * On {@code key}'s turn: its records whose answers are acknowledged are done, oldest first. Waits
     * for acknowledgements while more than {@code unacked - 1} records are in flight, or, with
     * {@code all}, until none is.
     */
    private void settle(String key, boolean all) {
        ArrayDeque<InFlight> queue = inFlight.get(key);
        while (queue != null && !queue.isEmpty() && !failure.isDone()) {
            InFlight f = queue.peekFirst();
            if (!f.acked().isDone()) {
                if (!all && queue.size() < settings.unacked()) {
                    return;
                }
                try {
                    f.acked().get(SEND_WAIT_S, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    return; // the processor stops: the callback says why
                } catch (TimeoutException e) {
                    stop("no acknowledgement for " + what(f.envelope(), f.refusal()) + " after " + SEND_WAIT_S + " s", e);
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stop("interrupted while sending " + what(f.envelope(), f.refusal()), e);
                    return;
                }
            }
            if (f.acked().isCompletedExceptionally()) {
                return;
            }
            queue.pollFirst();
            acknowledged(key, f, queue.isEmpty());
        }
    }

    /** A record's answers are acknowledged: the record is done. The listener hears of the machine once all its answers are out. */
    private void acknowledged(String key, InFlight f, boolean last) {
        long step = f.envelope().getStep();
        if (f.applied()) {
            settings.faults().reached(settings.serviceId(), FaultPoints.Point.AFTER_SEND, step);
        }
        M machine = machines.get(key);
        if (last && machine != null) {
            listener.handled(key, machine, f.input());
        }
        Hop h = f.hop();
        metrics.handled(f.record().topic(), f.envelope(), h.handled(h.startedUs(), h.appliedUs(), h.persistedUs(), Envelopes.micros(clock)));
        boolean haltOnCommit = f.applied() && settings.faults().armed(settings.serviceId(), FaultPoints.Point.AFTER_COMMIT, step);
        completed(new Done(f.tp(), f.record().offset(), haltOnCommit ? step : -1));
    }

    /** Sends and waits for every acknowledgement; false (and the processor stopped) if one failed. */
    private boolean sendAndWait(List<Envelope> envelopes, String what) {
        if (envelopes.isEmpty()) {
            return true;
        }
        try {
            send(envelopes).get(SEND_WAIT_S, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            stop("cannot send " + what + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            stop("no acknowledgement for " + what + " after " + SEND_WAIT_S + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop("interrupted while sending " + what, e);
        }
        return false;
    }

    /**
     * The records one envelope becomes: one to the topic of its kind, keyed by student; the end of a
     * run (a Finish or an Abort with no student) goes to every partition, so every replica of a service hears it.
     */
    private List<ProducerRecord<String, Envelope>> records(Envelope e) {
        String topic = Topics.topicOf(e.getKind());
        if ((e.getKind() == Kind.FINISH || e.getKind() == Kind.ABORT) && e.getStudentId().isEmpty()) {
            List<ProducerRecord<String, Envelope>> all = new ArrayList<>();
            for (PartitionInfo p : producer.partitionsFor(topic)) {
                all.add(new ProducerRecord<>(topic, p.partition(), "", e));
            }
            return all;
        }
        return List.of(new ProducerRecord<>(topic, Topics.keyOf(e), e));
    }

    /**
     * A record is done. The input thread hears of it at its next poll; it is woken at once only when
     * that matters: a paused partition may resume, or a fault waits for the commit.
     */
    private void completed(Done d) {
        done.add(d);
        if (Thread.currentThread() != inputThread && (anyPaused || d.faultStep() >= 0)) {
            consumer.wakeup();
        }
    }

    /** Accounts for done records: frees their places, resumes partitions below their bound. */
    private void account() {
        Done d;
        while ((d = done.poll()) != null) {
            if (!intake.holds(d.tp())) {
                continue; // a partition this consumer has since given up
            }
            if (d.faultStep() >= 0) {
                commitFaults.add(d);
            }
            if (intake.done(d.tp(), d.offset())) {
                consumer.resume(List.of(d.tp()));
                anyPaused = intake.anyPaused();
            }
        }
    }

    /**
     * Step 5: per partition, the offset below which every record is done, committed once it moved,
     * at most every {@link #COMMIT_INTERVAL_MS} unless a fault waits for it.
     */
    private void commit() {
        long now = clock.millis();
        if (now < nextCommitMs && commitFaults.isEmpty()) {
            return;
        }
        nextCommitMs = now + COMMIT_INTERVAL_MS;
        Map<TopicPartition, OffsetAndMetadata> offsets = intake.toCommit(intake.partitions());
        if (offsets.isEmpty()) {
            return;
        }
        consumer.commitAsync(offsets, (o, error) -> {
            if (error != null) {
                // Offsets are only where to start when no checkpoint says more; the next commit carries them.
                LOG.warn("{}: cannot commit {}: {}", settings.serviceId(), o, error.toString());
                return;
            }
            o.forEach((tp, m) -> intake.committed(tp, m.offset()));
            for (Done f : commitFaults) {
                Long c = intake.committed(f.tp());
                if (c != null && c > f.offset()) {
                    settings.faults().reached(settings.serviceId(), FaultPoints.Point.AFTER_COMMIT, f.faultStep());
                }
            }
        });
    }

    private void tick() {
        if (settings.tickMs() <= 0) {
            return;
        }
        long now = clock.millis();
        if (now < nextTickMs) {
            return;
        }
        nextTickMs = now + settings.tickMs();
        for (String key : machines.keySet()) {
            keyed.submit(key, () -> {
                M m = machines.get(key);
                if (m != null && running) {
                    sendAndWait(m.tick(now), "what " + key + " re-issues");
                }
            });
        }
    }

    /** Partitions gained: their keys' machines recovered, their last answers sent again, and every partition sought. */
    private void assigned(Collection<TopicPartition> partitions) {
        Predicate<String> belongs = service.placement() == Service.Placement.ALL ? k -> true
            : k -> partitions.stream().anyMatch(tp -> partitionOf(tp.topic(), k) == tp.partition());
        Map<String, Durability.Recovered<M>> recovered = durability.recover(service,
            k -> !machines.containsKey(k) && belongs.test(k));
        recovered.forEach((key, r) -> {
            machines.put(key, r.machine());
            covered.put(key, r.covered());
            LOG.info("{}: resumed {} from its saved state ({} records applied{})", settings.serviceId(), key, r.covered().records(),
                r.outbox().isEmpty() ? "" : "; sending its last answers again");
            listener.recovered(key, r.machine());
            if (!r.outbox().isEmpty()) {
                keyed.submit(key, () -> sendAndWait(r.outbox(), "the last answers of " + key));
            }
        });
        Map<TopicPartition, OffsetAndMetadata> groupOffsets = consumer.committed(new HashSet<>(partitions));
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata c = groupOffsets.get(tp);
            Long from = c == null ? null : c.offset();
            for (Map.Entry<String, Positions> k : covered.entrySet()) {
                if (belongs.test(k.getKey())) {
                    Long p = k.getValue().asMap().get(tp.topic() + "/" + tp.partition());
                    if (p != null) {
                        from = from == null ? p : Math.min(from, p);
                    }
                }
            }
            if (from != null) {
                consumer.seek(tp, from);
                intake.committed(tp, from);
            }
        }
    }

    /**
     * Partitions given up (to another member of the group): their records in flight are waited for
     * and, unless the partitions were lost, committed; then the machines of their keys are let go.
     * Their state is in their checkpoints, where the new owner finds it.
     */
    private void giveUp(Set<TopicPartition> partitions, boolean commit) {
        long deadline = System.currentTimeMillis() + DRAIN_WAIT_MS;
        while (running && System.currentTimeMillis() < deadline && intake.busy(partitions)) {
            sleepBriefly();
            account();
        }
        if (commit) {
            commitNow(partitions);
        }
        if (service.placement() == Service.Placement.BY_KEY_HASH) {
            for (String key : List.copyOf(machines.keySet())) {
                if (partitions.stream().anyMatch(tp -> partitionOf(tp.topic(), key) == tp.partition())) {
                    try {
                        keyed.submit(key, () -> settle(key, true)).get(Math.max(1, deadline - System.currentTimeMillis()),
                            TimeUnit.MILLISECONDS);
                    } catch (TimeoutException e) {
                        // Its answers are in its checkpoint: a stop now loses nothing, and the new owner sends them again.
                        stop("giving up " + key + " on a rebalance: its records were not done within " + DRAIN_WAIT_MS + " ms", e);
                        return;
                    } catch (ExecutionException e) {
                        return; // the task's failure stopped the processor
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        stop("interrupted while giving up " + key + " on a rebalance", e);
                        return;
                    }
                    inFlight.remove(key);
                    M m = machines.remove(key);
                    covered.remove(key);
                    if (m != null) {
                        m.close();
                    }
                }
            }
        }
        intake.forget(partitions);
    }

    /**
     * A normal stop: records not yet started stay undone (and uncommitted), the ones being handled
     * finish, and the offsets below which everything is done are committed.
     */
    private void shutDown() {
        long deadline = System.currentTimeMillis() + DRAIN_WAIT_MS;
        for (String key : List.copyOf(machines.keySet())) {
            try {
                keyed.submit(key, () -> settle(key, true)).get(Math.max(1, deadline - System.currentTimeMillis()),
                    TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("{}: {} did not finish its record before the stop: {}", settings.serviceId(), key, e.toString());
            }
        }
        account();
        if (!failure.isDone()) {
            commitNow(intake.partitions());
        }
    }

    private void commitNow(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = intake.toCommit(partitions);
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets, Duration.ofSeconds(10));
            offsets.forEach((tp, m) -> intake.committed(tp, m.offset()));
        } catch (RuntimeException e) {
            LOG.warn("{}: cannot commit {}: {}", settings.serviceId(), offsets, e.toString());
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (running) {
                giveUp(new HashSet<>(partitions), true);
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (running) {
                giveUp(new HashSet<>(partitions), false);
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (running) {
                assigned(partitions);
            }
        }
    }

    /** The partition a record with this key goes to on {@code topic}: Kafka's own murmur2 of the key. */
    private int partitionOf(String topic, String key) {
        int partitions = producer.partitionsFor(topic).size();
        return Utils.toPositive(Utils.murmur2(key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
    }

    /** Crash-only: stop everything now, with one line that says why. */
    private void stop(String reason, Throwable cause) {
        if (failure.isDone()) {
            return;
        }
        LOG.error("{}: stopping: {}", settings.serviceId(), reason);
        running = false;
        failure.completeExceptionally(new ServiceStoppedException(settings.serviceId() + " stopped: " + reason
            + " (started again with the same command, it resumes from its last checkpoint)", cause));
        consumer.wakeup();
    }

    /** Stops reading, lets the records in flight finish and commits them; the producer is the caller's to close. */
    @Override
    public void close() {
        running = false;
        Thread t = inputThread;
        if (t == null) {
            return;
        }
        consumer.wakeup();
        try {
            closed.get(DRAIN_WAIT_MS + 10_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("{}: the input thread did not stop: {}", settings.serviceId(), e.toString());
        }
        machines.values().forEach(Machine::close);
        machines.clear();
    }
}
