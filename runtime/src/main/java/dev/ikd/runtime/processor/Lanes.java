package dev.ikd.runtime.processor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.Hop;
import dev.ikd.runtime.Position;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Steps 2 to 4 of every record, per key (docs/architecture.md §6): its key's machine applies it (a
 * refusal becomes its dead letter), the result is made durable, and what it caused is sent; the
 * record is done once every answer is acknowledged. One key's records run one at a time, in order;
 * different keys in parallel. Up to {@code unacked} records of a key may await their
 * acknowledgements while the next is applied; each checkpoint holds every answer not yet acknowledged.
 */
final class Lanes<M extends Machine> {

    private static final Logger LOG = LoggerFactory.getLogger(Processor.class);

    /** A record that needs no more work. {@code faultStep} >= 0 halts once it is committed. */
    record Done(TopicPartition tp, long offset, long faultStep) {
    }

    private final Context<M> c;
    private final Outbox outbox;
    private final java.util.function.Consumer<Done> done;
    private final KeyedExecutor keyed;
    private final Map<String, M> machines = new ConcurrentHashMap<>();
    private final Map<String, Positions> covered = new ConcurrentHashMap<>();
    private final Acks<M> acks;

    /** @param done hears of every record that needs no more work */
    Lanes(Context<M> c, Outbox outbox, Executor workers, java.util.function.Consumer<Done> done) {
        this.c = c;
        this.outbox = outbox;
        this.done = done;
        this.keyed = new KeyedExecutor(workers, (key, e) -> c.stop("a task of " + key + " failed: " + e, e));
        this.acks = new Acks<>(c, this::machine, done);
    }

    M machine(String key) {
        return machines.get(key);
    }

    java.util.Set<String> keys() {
        return machines.keySet();
    }

    /** The key a consumer of its own partition reads for, before any record: fresh unless recovered. */
    void own(String key) {
        machines.computeIfAbsent(key, c.service::fresh);
        covered.computeIfAbsent(key, k -> Positions.none());
    }

    /** A key's machine as recovered from its saved state, with the input it covers; its last answers go out again. */
    void recovered(String key, Durability.Recovered<M> r) {
        machines.put(key, r.machine());
        covered.put(key, r.covered());
        LOG.info("{}: resumed {} from its saved state ({} records applied{})", c.serviceId(), key, r.covered().records(),
            r.outbox().isEmpty() ? "" : "; sending its last answers again");
        c.listener.recovered(key, r.machine());
        if (!r.outbox().isEmpty()) {
            keyed.submit(key, () -> outbox.sendAndWait(r.outbox(), "the last answers of " + key));
        }
    }

    /** Per key, the input its machine's state covers. */
    Map<String, Positions> covered() {
        return covered;
    }

    /** Queues one record for its key's turn. */
    void submit(String key, ConsumerRecord<String, Decoded> record, Envelope e, TopicPartition tp, Hop arrived) {
        keyed.submit(key, () -> handle(key, record, e, tp, arrived));
    }

    /** Runs {@code action} on {@code key}'s machine in turn with its inputs and sends what it returns. */
    CompletableFuture<Void> act(String key, Function<M, List<Envelope>> action) {
        return keyed.submit(key, () -> {
            M m = machines.get(key);
            if (m != null && c.running) {
                outbox.sendAndWait(action.apply(m), "what " + key + " sends");
            }
        });
    }

    /** Time passing: every machine's tick, each on its key's turn. */
    void tick(long now) {
        for (String key : machines.keySet()) {
            keyed.submit(key, () -> {
                M m = machines.get(key);
                if (m != null && c.running) {
                    outbox.sendAndWait(m.tick(now), "what " + key + " re-issues");
                }
            });
        }
    }

    private void handle(String key, ConsumerRecord<String, Decoded> record, Envelope e, TopicPartition tp, Hop arrived) {
        if (!c.running) {
            return; // stopping: the record stays in flight and is never committed
        }
        long startedUs = Envelopes.micros(c.clock);
        M machine;
        try {
            machine = machines.computeIfAbsent(key, c.service::fresh);
        } catch (RuntimeException bug) {
            c.stop("cannot set up " + key + ": " + bug.getMessage(), bug);
            return;
        }
        Positions positions = covered.computeIfAbsent(key, k -> Positions.none());
        Position at = new Position(record.topic(), record.partition(), record.offset());
        if (positions.covers(at)) {
            c.metrics.skipped(record.topic(), "covered");
            done.accept(new Done(tp, record.offset(), -1));
            return;
        }
        long nowUs = Envelopes.micros(c.clock);
        Input input = new Input(e, at, nowUs / 1_000, nowUs);
        List<Envelope> out;
        String refusal = null;
        try {
            out = machine.apply(input);
        } catch (RejectedMessageException | MalformedMessageException refused) {
            refusal = refused.getMessage();
            LOG.warn("{}: dead-lettering {}/{}@{} ({}): {}", c.serviceId(), record.topic(), record.partition(),
                record.offset(), e.getIdempotencyKey(), refusal);
            c.metrics.deadLettered(record.topic());
            out = List.of(c.deadLetters.letter(record, Envelopes.encode(e), refusal).value());
        } catch (RuntimeException | Error bug) {
            c.stop("handling " + e.getIdempotencyKey() + " from " + at.partitionName() + "@" + at.offset() + " failed: " + bug, bug);
            return;
        }
        boolean applied = refusal == null;
        long appliedUs = Envelopes.micros(c.clock);
        long step = e.getStep();
        if (applied) {
            c.settings.faults().reached(c.serviceId(), FaultPoints.Point.AFTER_APPLY, step);
        }
        positions.advance(at);
        try {
            long t0 = System.nanoTime();
            List<Envelope> outboxed = acks.unacknowledged(key);
            if (!outboxed.isEmpty()) {
                outboxed = new ArrayList<>(outboxed);
                outboxed.addAll(out);
            }
            c.durability.record(new Durability.Handled(key, machine, input, refusal, outboxed.isEmpty() ? out : outboxed, positions));
            c.metrics.checkpointed(System.nanoTime() - t0);
        } catch (RuntimeException | Error broken) {
            c.stop("cannot make the state of " + key + " durable: " + broken.getMessage(), broken);
            return;
        }
        long persistedUs = Envelopes.micros(c.clock);
        if (applied) {
            c.settings.faults().reached(c.serviceId(), FaultPoints.Point.AFTER_CHECKPOINT, step);
        }
        String what = what(e, refusal);
        CompletableFuture<Void> acked;
        try {
            acked = outbox.send(out);
        } catch (RuntimeException broken) {
            c.stop("cannot send " + what + ": " + broken, broken);
            return;
        }
        acks.add(key, new Acks.InFlight(record, e, tp, input, refusal, out, acked, arrived.handled(startedUs, appliedUs, persistedUs, -1)));
        acked.whenComplete((ok, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                c.stop("cannot send " + what + ": " + cause, cause);
            } else {
                keyed.submit(key, () -> acks.settle(key, false));
            }
        });
        acks.settle(key, false);
    }

    static String what(Envelope e, String refusal) {
        return (refusal == null ? "the answers to " : "the dead letter of ") + e.getIdempotencyKey();
    }

    /**
     * Lets {@code key} go (its partition went to another member): its records in flight finish by
     * {@code deadlineMs}, or the service stops (a stop loses nothing: its answers are in its
     * checkpoint); then its machine is closed.
     */
    boolean release(String key, long deadlineMs) {
        try {
            keyed.submit(key, () -> acks.settle(key, true)).get(Math.max(1, deadlineMs - System.currentTimeMillis()),
                TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            c.stop("giving up " + key + " on a rebalance: its records were not done in time", e);
            return false;
        } catch (ExecutionException e) {
            return false; // the task's failure stopped the processor
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.stop("interrupted while giving up " + key + " on a rebalance", e);
            return false;
        }
        acks.forget(key);
        M m = machines.remove(key);
        covered.remove(key);
        if (m != null) {
            m.close();
        }
        return true;
    }

    /** A normal stop: every key's records being handled finish by {@code deadlineMs}. */
    void settleAll(long deadlineMs) {
        for (String key : List.copyOf(machines.keySet())) {
            try {
                keyed.submit(key, () -> acks.settle(key, true)).get(Math.max(1, deadlineMs - System.currentTimeMillis()),
                    TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("{}: {} did not finish its record before the stop: {}", c.serviceId(), key, e.toString());
            }
        }
    }

    /** Closes every machine (the processor has stopped). */
    void closeAll() {
        machines.values().forEach(Machine::close);
        machines.clear();
    }
}
