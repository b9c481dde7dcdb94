package dev.ikd.runtime.processor;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.sign.RunManifest;
import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.ServiceMetrics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable processor every service runs on (docs/architecture.md §6). For every record, in this
 * order: decode and validate once, at the edge ({@link Edge}: malformed, misplaced or forged records
 * are dead-lettered, another run's or one the service does not read passed over); apply it to its
 * key's machine, make the result durable, send what it caused and wait for the acknowledgements
 * ({@link Lanes}: one key's records in order, keys in parallel; {@link Outbox}); commit the offsets
 * below which every record is done ({@link InputLoop}). Partitions gained recover their keys from
 * their checkpoints and partitions given up let them go ({@link Rebalancing}). Crash-only: a broken
 * guarantee stops the processor at once with one line; {@link #failure()} then fails and the process
 * should exit, to resume when started again. This class wires the parts and is the façade services use.
 */
public final class Processor<M extends Machine> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Processor.class);
    /**
     * Offsets are hints (a checkpoint's positions win), so they are committed at most this often: a
     * commit per record was a third of the broker's requests on the critical path of a step.
     */
    static final long COMMIT_INTERVAL_MS = 1_000;

    /**
     * @param queueBound records per partition taken from Kafka and not yet done; at the bound the partition pauses
     * @param tickMs     how often every machine hears time pass (0: never)
     * @param unacked    records of one key whose answers may still await their acknowledgements while the key's
     *                   next record is applied (1: each record's answers are acknowledged before the next is applied)
     * @param manifest   the keys of a run that signs its messages: a record not signed by the sender its kind
     *                   requires is dead-lettered with the reason ({@link Signatures}); null when the run does not sign
     * @param maxRecordBytes an envelope this service sends that is larger goes out in parts ({@link dev.ikd.proto.envelope.Parts})
     */
    public record Settings(String runId, String serviceId, int queueBound, long tickMs, FaultPoints faults, int unacked,
                           RunManifest manifest, int maxRecordBytes) {

        public Settings(String runId, String serviceId, int queueBound, long tickMs, FaultPoints faults) {
            this(runId, serviceId, queueBound, tickMs, faults, 1);
        }

        public Settings(String runId, String serviceId, int queueBound, long tickMs, FaultPoints faults, int unacked) {
            this(runId, serviceId, queueBound, tickMs, faults, unacked, null, dev.ikd.runtime.KafkaTuning.DEFAULT_MAX_RECORD_BYTES);
        }

        public Settings withMaxRecordBytes(int bytes) {
            return new Settings(runId, serviceId, queueBound, tickMs, faults, unacked, manifest, bytes);
        }

        public Settings {
            if (maxRecordBytes <= 2 * dev.ikd.proto.envelope.Parts.OVERHEAD) {
                throw new IllegalArgumentException("the record size limit must be over " + 2 * dev.ikd.proto.envelope.Parts.OVERHEAD
                    + " bytes (room for a part), got " + maxRecordBytes);
            }
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

    private final Context<M> c;
    private final Inputs inputs;
    private final Outbox outbox;
    private final Lanes<M> lanes;
    private final InputLoop<M> loop;
    private final Rebalancing<M> rebalancing;
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private volatile Thread inputThread;

    public Processor(Settings settings, Inputs inputs, Consumer<String, Decoded> consumer, Producer<String, Envelope> producer,
                     Service<M> service, Durability durability, ServiceMetrics metrics, Executor workers, Clock clock,
                     Listener<M> listener) {
        this.c = new Context<>(settings, consumer, producer, service, durability, metrics, clock, listener);
        this.inputs = inputs;
        this.outbox = new Outbox(c);
        InputLoop<M>[] loopRef = new InputLoop[1];
        this.lanes = new Lanes<>(c, outbox, workers, d -> loopRef[0].completed(d));
        this.loop = new InputLoop<>(c, new Edge(c), outbox, lanes);
        loopRef[0] = loop;
        this.rebalancing = new Rebalancing<>(c, outbox, lanes, loop);
    }

    /**
     * Starts reading on a thread of its own. The future completes once reading has begun; for
     * {@link Inputs.OwnPartition} only after the key's machine is recovered (or made fresh).
     */
    public CompletableFuture<Void> start() {
        Thread t = new Thread(() -> loop.run(this::begin, started), "ikd-" + c.serviceId() + "-input");
        t.setDaemon(true);
        inputThread = t;
        t.start();
        return started;
    }

    private void begin() {
        if (inputs instanceof Inputs.Group g) {
            c.consumer.subscribe(g.topics(), rebalancing);
        } else {
            Inputs.OwnPartition own = (Inputs.OwnPartition) inputs;
            List<TopicPartition> mine = new ArrayList<>();
            for (String topic : own.topics()) {
                mine.add(new TopicPartition(topic, outbox.partitionOf(topic, own.key())));
            }
            c.consumer.assign(mine);
            rebalancing.assigned(mine);
            lanes.own(own.key());
        }
        started.complete(null);
    }

    /** Fails, with a {@link ServiceStoppedException} naming the reason, if the processor had to stop; never completes otherwise. */
    public CompletableFuture<Void> failure() {
        return c.failure;
    }

    /** The machine of {@code key} now, or null: for health and reports, read-only. */
    public M machine(String key) {
        return lanes.machine(key);
    }

    /** The keys held now. */
    public Set<String> keys() {
        return Set.copyOf(lanes.keys());
    }

    /**
     * Runs {@code action} on {@code key}'s machine in turn with its inputs and sends what it returns
     * (a student's enrollment, which no input causes). Nothing happens if the key has no machine.
     */
    public CompletableFuture<Void> act(String key, Function<M, List<Envelope>> action) {
        return lanes.act(key, action);
    }

    /** Sends envelopes no input caused, one after the other, each once the one before is acknowledged (a teacher's blocks). */
    public CompletableFuture<Void> sendInTurn(List<Envelope> envelopes) {
        return outbox.sendInTurn(envelopes);
    }

    /** Sends envelopes no input caused; completes when every one is acknowledged. */
    public CompletableFuture<Void> send(List<Envelope> envelopes) {
        return outbox.send(envelopes);
    }

    /** Stops reading, lets the records in flight finish and commits them; the producer is the caller's to close. */
    @Override
    public void close() {
        c.running = false;
        Thread t = inputThread;
        if (t == null) {
            return;
        }
        c.consumer.wakeup();
        try {
            loop.closed().get(InputLoop.DRAIN_WAIT_MS + 10_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("{}: the input thread did not stop: {}", c.serviceId(), e.toString());
        }
        lanes.closeAll();
    }
}
