package dev.ikd.runtime.processor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Envelope;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processor's input thread: polls, takes records in up to the bound per partition (a full
 * partition pauses until it drains), sends each to its verdict (docs/architecture.md §6), hears
 * which records are done, and commits the offsets below which every record is done (step 5), at
 * most once a second. It alone touches the consumer and the {@link Intake}.
 */
final class InputLoop<M extends Machine> {

    private static final Logger LOG = LoggerFactory.getLogger(Processor.class);
    private static final Duration POLL = Duration.ofMillis(100);
    static final long DRAIN_WAIT_MS = 60_000;

    private final Context<M> c;
    private final Edge edge;
    private final Outbox outbox;
    private final Lanes<M> lanes;
    private final Intake intake;
    private final Joiner joiner = new Joiner();
    /** Done records, from any thread, for the input thread to account for. */
    private final ConcurrentLinkedQueue<Lanes.Done> done = new ConcurrentLinkedQueue<>();
    private final List<Lanes.Done> commitFaults = new ArrayList<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile boolean anyPaused;
    private volatile Thread thread;
    private long nextCommitMs;
    private long nextTickMs;

    InputLoop(Context<M> c, Edge edge, Outbox outbox, Lanes<M> lanes) {
        this.c = c;
        this.edge = edge;
        this.outbox = outbox;
        this.lanes = lanes;
        this.intake = new Intake(c.settings.queueBound());
    }

    Intake intake() {
        return intake;
    }

    /** Partitions given up: nothing of theirs is tracked any more, parts waiting included. */
    void forget(Collection<TopicPartition> partitions) {
        intake.forget(partitions);
        joiner.forget(partitions);
    }

    CompletableFuture<Void> closed() {
        return closed;
    }

    /**
     * Reads until stopped, on this thread; {@code begin} subscribes or assigns and completes
     * {@code started}, which fails with the reason if reading could not begin.
     */
    void run(Runnable begin, CompletableFuture<Void> started) {
        thread = Thread.currentThread();
        try {
            begin.run();
            nextTickMs = c.clock.millis() + c.settings.tickMs();
            while (c.running) {
                account();
                commit();
                tick();
                ConsumerRecords<String, Decoded> records;
                try {
                    records = c.consumer.poll(POLL);
                } catch (WakeupException e) {
                    continue;
                }
                take(records);
            }
            if (!c.failure.isDone()) {
                shutDown();
            }
        } catch (RuntimeException | Error e) {
            started.completeExceptionally(e);
            c.stop("reading its input failed: " + e, e);
        } finally {
            try {
                c.consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("{}: closing the consumer: {}", c.serviceId(), e.toString());
            }
            closed.complete(null);
        }
    }

    boolean onInputThread() {
        return Thread.currentThread() == thread;
    }

    /** Takes polled records in, partition by partition, pausing a partition that reaches its bound. */
    private void take(ConsumerRecords<String, Decoded> records) {
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<String, Decoded> record : records.records(tp)) {
                if (intake.full(tp)) {
                    // The rest of this batch is read again after the partition resumes.
                    pause(tp);
                    c.consumer.seek(tp, record.offset());
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
            c.consumer.pause(List.of(tp));
            c.metrics.paused(tp.topic());
        }
    }

    private void route(ConsumerRecord<String, Decoded> record, TopicPartition tp) {
        act(record, tp, edge.judge(record));
    }

    private void act(ConsumerRecord<String, Decoded> record, TopicPartition tp, Edge.Verdict verdict) {
        if (verdict instanceof Edge.Verdict.Refused r) {
            deadLetterNow(record, r.raw(), r.reason(), tp);
            outbox.answer(r.answers(), "the answer to a refused " + record.topic() + " record");
        } else if (verdict instanceof Edge.Verdict.Take t) {
            lanes.submit(t.key(), record, t.envelope(), tp, t.arrived());
        } else if (verdict instanceof Edge.Verdict.Part p) {
            join(record, tp, p);
        } else {
            // Passed over: done as soon as it is seen, it never counts against the partition's bound (docs/architecture.md §11).
            finished(tp, record.offset());
        }
    }

    /** A part of a larger envelope: held until its whole is in, which then goes on as the record of its last part. */
    private void join(ConsumerRecord<String, Decoded> record, TopicPartition tp, Edge.Verdict.Part p) {
        Joiner.Outcome outcome = joiner.accept(tp, record, p.part());
        if (outcome instanceof Joiner.Outcome.Refused r) {
            deadLetterNow(record, Envelopes.encode(p.part()), r.reason(), tp);
            for (ConsumerRecord<String, Decoded> orphan : r.alsoRefused()) {
                Envelope e = ((Decoded.Valid) orphan.value()).envelope();
                deadLetterNow(orphan, Envelopes.encode(e), "part " + e.getPart().getIndex() + " of " + e.getPart().getCount() + " of "
                    + e.getPart().getWholeKey() + " cannot be joined: " + r.reason(), tp);
            }
            return;
        }
        List<Long> replaced = outcome instanceof Joiner.Outcome.Waiting w ? w.replaced() : ((Joiner.Outcome.Whole) outcome).replaced();
        for (long offset : replaced) {
            c.metrics.skipped(record.topic(), "replaced_part");
            finished(tp, offset);
        }
        if (outcome instanceof Joiner.Outcome.Whole w) {
            act(record, tp, edge.joined(record, w.whole(), p.arrived()));
        } else if (intake.hold(tp, record.offset())) {
            c.consumer.resume(List.of(tp));
            anyPaused = intake.anyPaused();
        }
    }

    /** A record no machine can read: its dead letter goes out without holding up the partition. */
    private void deadLetterNow(ConsumerRecord<String, Decoded> record, byte[] raw, String reason, TopicPartition tp) {
        LOG.warn("{}: dead-lettering {}/{}@{}: {}", c.serviceId(), record.topic(), record.partition(), record.offset(), reason);
        c.metrics.deadLettered(record.topic());
        outbox.send(List.of(c.deadLetters.letter(record, raw, reason).value())).whenComplete((ok, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                c.stop("cannot dead-letter " + record.topic() + "/" + record.partition() + "@" + record.offset() + ": " + cause, cause);
            } else {
                completed(new Lanes.Done(tp, record.offset(), -1));
            }
        });
    }

    /** The record at {@code offset} is done, and with it the parts before it when it completed a whole; resumes its partition if that frees it. */
    private void finished(TopicPartition tp, long offset) {
        boolean resume = intake.done(tp, offset);
        for (long earlier : joiner.done(tp, offset)) {
            resume |= intake.done(tp, earlier);
        }
        if (resume) {
            c.consumer.resume(List.of(tp));
            anyPaused = intake.anyPaused();
        }
    }

    /**
     * A record is done. The input thread hears of it at its next poll; it is woken at once only when
     * that matters: a paused partition may resume, or a fault waits for the commit.
     */
    void completed(Lanes.Done d) {
        done.add(d);
        if (!onInputThread() && (anyPaused || d.faultStep() >= 0)) {
            c.consumer.wakeup();
        }
    }

    /** Accounts for done records: frees their places, resumes partitions below their bound. */
    void account() {
        Lanes.Done d;
        while ((d = done.poll()) != null) {
            if (!intake.holds(d.tp())) {
                continue; // a partition this consumer has since given up
            }
            if (d.faultStep() >= 0) {
                commitFaults.add(d);
            }
            finished(d.tp(), d.offset());
        }
    }

    /** Step 5: per partition, the offset below which every record is done, committed once it moved, at most every second. */
    private void commit() {
        long now = c.clock.millis();
        if (now < nextCommitMs && commitFaults.isEmpty()) {
            return;
        }
        nextCommitMs = now + Processor.COMMIT_INTERVAL_MS;
        Map<TopicPartition, OffsetAndMetadata> offsets = intake.toCommit(intake.partitions());
        if (offsets.isEmpty()) {
            return;
        }
        c.consumer.commitAsync(offsets, (o, error) -> {
            if (error != null) {
                // Offsets are only where to start when no checkpoint says more; the next commit carries them.
                LOG.warn("{}: cannot commit {}: {}", c.serviceId(), o, error.toString());
                return;
            }
            o.forEach((tp, m) -> intake.committed(tp, m.offset()));
            for (Lanes.Done f : commitFaults) {
                Long committed = intake.committed(f.tp());
                if (committed != null && committed > f.offset()) {
                    c.settings.faults().reached(c.serviceId(), FaultPoints.Point.AFTER_COMMIT, f.faultStep());
                }
            }
        });
    }

    private void tick() {
        if (c.settings.tickMs() <= 0) {
            return;
        }
        long now = c.clock.millis();
        if (now < nextTickMs) {
            return;
        }
        nextTickMs = now + c.settings.tickMs();
        lanes.tick(now);
    }

    /** A normal stop: records not yet started stay undone, the ones being handled finish, and what is done is committed. */
    private void shutDown() {
        lanes.settleAll(System.currentTimeMillis() + DRAIN_WAIT_MS);
        account();
        if (!c.failure.isDone()) {
            commitNow(intake.partitions());
        }
    }

    /** Waits until {@code partitions} hold no record in flight, or until {@code deadlineMs}. */
    void drain(Collection<TopicPartition> partitions, long deadlineMs) {
        while (c.running && System.currentTimeMillis() < deadlineMs && intake.busy(partitions)) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            account();
        }
    }

    void commitNow(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = intake.toCommit(partitions);
        if (offsets.isEmpty()) {
            return;
        }
        try {
            c.consumer.commitSync(offsets, Duration.ofSeconds(10));
            offsets.forEach((tp, m) -> intake.committed(tp, m.offset()));
        } catch (RuntimeException e) {
            LOG.warn("{}: cannot commit {}: {}", c.serviceId(), offsets, e.toString());
        }
    }
}
