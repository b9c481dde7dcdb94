package dev.ikd.runtime.processor;

import java.util.List;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Hop;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;

/**
 * Step 1 of every record (docs/architecture.md §6): decoded and validated once, at the edge, before
 * anything else hears of it. The verdict says what becomes of it: dead-lettered (malformed,
 * misplaced, forged), passed over (another run's, or one this service does not read), taken to
 * its key's machine, or, a part of a larger envelope, joined with the others first.
 */
final class Edge {

    /** What becomes of one record. */
    sealed interface Verdict {
        /** Dead-lettered with {@code reason}; {@code answers} go out beside (a forged enrollment's refusal). */
        record Refused(byte[] raw, String reason, List<Envelope> answers) implements Verdict {
        }

        /** Done as soon as it is seen: another run's ({@code reason} null), or one this service sets aside. */
        record PassOver(String reason) implements Verdict {
        }

        /** For the machine of {@code key}. */
        record Take(String key, Envelope envelope, Hop arrived) implements Verdict {
        }

        /** A part of a larger envelope, genuine and where it belongs: to be joined with the others ({@link Joiner}). */
        record Part(Envelope part, Hop arrived) implements Verdict {
        }
    }

    private final Context<?> c;

    Edge(Context<?> c) {
        this.c = c;
    }

    Verdict judge(ConsumerRecord<String, Decoded> record) {
        Decoded decoded = record.value();
        int size = Math.max(0, record.serializedValueSize());
        if (decoded == null || decoded instanceof Decoded.Malformed) {
            c.metrics.received(record.topic(), size, -1);
            return decoded == null ? new Verdict.Refused(null, "record has no value", List.of())
                : new Verdict.Refused(((Decoded.Malformed) decoded).raw(), ((Decoded.Malformed) decoded).reason(), List.of());
        }
        Envelope e = ((Decoded.Valid) decoded).envelope();
        if (!c.settings.runId().equals(e.getRunId())) {
            c.metrics.received(record.topic(), size, -1);
            c.metrics.skipped(record.topic(), "other_run");
            return new Verdict.PassOver(null);
        }
        long receivedUs = Envelopes.micros(c.clock);
        long sentUs = e.getEventTimeUs() > 0 ? e.getEventTimeUs() : -1;
        long appendedUs = record.timestampType() == TimestampType.LOG_APPEND_TIME ? record.timestamp() * 1_000 : -1;
        c.metrics.received(record.topic(), size, sentUs < 0 ? -1 : Math.max(0, receivedUs - sentUs));
        // A genuine record copied to another topic or key is refused before anyone hears of it; so is a forged one.
        String misplaced = Topics.misplaced(record.topic(), record.key(), e);
        if (misplaced != null) {
            return new Verdict.Refused(Envelopes.encode(e), misplaced, List.of());
        }
        if (c.settings.manifest() != null) {
            String forged = Signatures.problem(c.settings.manifest(), e, ((Decoded.Valid) decoded).signed());
            if (forged != null) {
                return new Verdict.Refused(Envelopes.encode(e), forged, c.service.answerToForgery(e, forged));
            }
        }
        Hop arrived = Hop.arrived(sentUs, appendedUs, receivedUs);
        return e.getKind() == Kind.PART ? new Verdict.Part(e, arrived) : taken(record, e, arrived);
    }

    /**
     * The whole envelope {@code record}, its last part, completed: where it belongs, then for its
     * machine as if it had come in one record.
     */
    Verdict joined(ConsumerRecord<String, Decoded> record, Envelope whole, Hop arrived) {
        String misplaced = Topics.misplaced(record.topic(), record.key(), whole);
        return misplaced != null ? new Verdict.Refused(Envelopes.encode(whole), misplaced, List.of()) : taken(record, whole, arrived);
    }

    private Verdict taken(ConsumerRecord<String, Decoded> record, Envelope e, Hop arrived) {
        c.listener.received(e);
        String skip = c.service.skip(e);
        if (skip != null) {
            c.metrics.skipped(record.topic(), skip);
            return new Verdict.PassOver(skip);
        }
        return new Verdict.Take(c.service.keyOf(e), e, arrived);
    }
}
