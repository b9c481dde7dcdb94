package dev.ikd.runtime.processor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.Hop;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Each key's handled records whose answers are on their way, oldest first: a record is done once
 * its answers are acknowledged and its turn comes. Up to {@code unacked} of a key may wait; every
 * answer not yet acknowledged is in the key's next checkpoint, so a crash sends it again. Touched
 * only on the key's turn.
 */
final class Acks<M extends Machine> {

    /** A handled record whose answers are on their way. */
    record InFlight(ConsumerRecord<String, Decoded> record, Envelope envelope, TopicPartition tp, Input input, String refusal,
                    List<Envelope> out, CompletableFuture<Void> acked, Hop hop) {
        boolean applied() {
            return refusal == null;
        }
    }

    private final Context<M> c;
    private final Function<String, M> machines;
    private final java.util.function.Consumer<Lanes.Done> done;
    private final Map<String, ArrayDeque<InFlight>> inFlight = new ConcurrentHashMap<>();

    Acks(Context<M> c, Function<String, M> machines, java.util.function.Consumer<Lanes.Done> done) {
        this.c = c;
        this.machines = machines;
        this.done = done;
    }

    void add(String key, InFlight f) {
        inFlight.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(f);
    }

    void forget(String key) {
        inFlight.remove(key);
    }

    /** The answers of {@code key}'s records in flight, oldest first: what a checkpoint keeps to send again after a crash. */
    List<Envelope> unacknowledged(String key) {
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
    void settle(String key, boolean all) {
        ArrayDeque<InFlight> queue = inFlight.get(key);
        while (queue != null && !queue.isEmpty() && !c.failure.isDone()) {
            InFlight f = queue.peekFirst();
            if (!f.acked().isDone()) {
                if (!all && queue.size() < c.settings.unacked()) {
                    return;
                }
                try {
                    f.acked().get(Outbox.SEND_WAIT_S, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    return; // the processor stops: the callback says why
                } catch (TimeoutException e) {
                    c.stop("no acknowledgement for " + Lanes.what(f.envelope(), f.refusal()) + " after " + Outbox.SEND_WAIT_S + " s", e);
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    c.stop("interrupted while sending " + Lanes.what(f.envelope(), f.refusal()), e);
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
            c.settings.faults().reached(c.serviceId(), FaultPoints.Point.AFTER_SEND, step);
        }
        M machine = machines.apply(key);
        if (last && machine != null) {
            c.listener.handled(key, machine, f.input());
        }
        Hop h = f.hop();
        c.metrics.handled(f.record().topic(), f.envelope(), h.handled(h.startedUs(), h.appliedUs(), h.persistedUs(),
            Envelopes.micros(c.clock)));
        boolean haltOnCommit = f.applied() && c.settings.faults().armed(c.serviceId(), FaultPoints.Point.AFTER_COMMIT, step);
        done.accept(new Lanes.Done(f.tp(), f.record().offset(), haltOnCommit ? step : -1));
    }
}
