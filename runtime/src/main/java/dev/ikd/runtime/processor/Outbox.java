package dev.ikd.runtime.processor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.Parts;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.utils.Utils;

/**
 * Step 4 of every record (docs/architecture.md §6): what it caused goes out, stamped with the moment
 * it is handed to the producer, where hop times start. A send that fails after the client's
 * retries stops the service.
 */
final class Outbox {

    /** Longer than the producer's own delivery timeout (120 s): the client gives up first and says why. */
    static final long SEND_WAIT_S = 180;

    private final Context<?> c;

    Outbox(Context<?> c) {
        this.c = c;
    }

    /** Sends {@code envelopes}; completes when every record is acknowledged, or exceptionally with the client's error. */
    CompletableFuture<Void> send(List<Envelope> envelopes) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Envelope e : envelopes) {
            long now = Envelopes.micros(c.clock);
            Envelope stamped = e.toBuilder().setEventTimeUs(now).setEventTimeMs(now / 1_000).build();
            for (ProducerRecord<String, Envelope> r : records(stamped)) {
                CompletableFuture<Void> acked = new CompletableFuture<>();
                c.producer.send(r, (meta, error) -> {
                    if (error != null) {
                        acked.completeExceptionally(error);
                    } else {
                        c.metrics.sent(r.topic(), meta.serializedValueSize());
                        acked.complete(null);
                    }
                });
                all.add(acked);
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /**
     * Sends {@code envelopes} one after the other, each once the one before is acknowledged: for
     * records a service sends at start to partitions a topic has only just made. Sent together, a
     * first record that meets a retriable error can be overtaken by the second, and the idempotent
     * producer then retries the first for ever as out of sequence (KAFKA-14359).
     */
    CompletableFuture<Void> sendInTurn(List<Envelope> envelopes) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (Envelope e : envelopes) {
            chain = chain.thenCompose(v -> send(List.of(e)));
        }
        return chain;
    }

    /** Sends and waits for every acknowledgement; false (and the service stopped) if one failed. */
    boolean sendAndWait(List<Envelope> envelopes, String what) {
        if (envelopes.isEmpty()) {
            return true;
        }
        try {
            send(envelopes).get(SEND_WAIT_S, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            c.stop("cannot send " + what + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            c.stop("no acknowledgement for " + what + " after " + SEND_WAIT_S + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.stop("interrupted while sending " + what, e);
        }
        return false;
    }

    /** Sends what answers a refused record (no machine's state behind it), without waiting; a failure stops the service. */
    void answer(List<Envelope> envelopes, String what) {
        if (envelopes.isEmpty()) {
            return;
        }
        send(envelopes).whenComplete((ok, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                c.stop("cannot send " + what + ": " + cause, cause);
            }
        });
    }

    /**
     * The records one envelope becomes: one to the topic of its kind, keyed by student; the end of a
     * run (a Finish or an Abort with no student) goes to every partition, so every replica of a service
     * hears it. An envelope larger than the record limit goes out in parts, in order, under its key
     * (docs/architecture.md §4), except on the topics keyed by something else than a student: a teacher
     * block's compaction would keep only its last part, so a block too large is refused by the producer.
     */
    List<ProducerRecord<String, Envelope>> records(Envelope e) {
        String topic = Topics.topicOf(e.getKind());
        if (e.getKind() != Kind.TEACHER_BLOCK && e.getKind() != Kind.JOURNAL_ENTRY
            && !Parts.fits(e, c.settings.maxRecordBytes())) {
            return Parts.split(e, c.settings.maxRecordBytes()).stream()
                .map(part -> new ProducerRecord<>(topic, Topics.keyOf(e), part)).toList();
        }
        if ((e.getKind() == Kind.FINISH || e.getKind() == Kind.ABORT) && e.getStudentId().isEmpty()) {
            List<ProducerRecord<String, Envelope>> all = new ArrayList<>();
            for (PartitionInfo p : c.producer.partitionsFor(topic)) {
                all.add(new ProducerRecord<>(topic, p.partition(), "", e));
            }
            return all;
        }
        return List.of(new ProducerRecord<>(topic, Topics.keyOf(e), e));
    }

    /** The partition a record with this key goes to on {@code topic}: Kafka's own murmur2 of the key. */
    int partitionOf(String topic, String key) {
        int partitions = c.producer.partitionsFor(topic).size();
        return Utils.toPositive(Utils.murmur2(key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
    }
}
