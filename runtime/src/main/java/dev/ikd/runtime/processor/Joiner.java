package dev.ikd.runtime.processor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Parts;
import dev.ikd.proto.v1.Envelope;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The parts of envelopes too large for one record (docs/architecture.md §4, §6), joined on the input
 * thread before any machine hears of them. A part waits, held: its offset is not committed until its
 * whole is done, so a restart reads every part of an unfinished whole again. The whole goes to its
 * machine as the record of its last part, whose position it covers; when that record is done, so are
 * the parts before it. A newer send of the same envelope (a sender that crashed half-way sends it again
 * from its checkpoint, stamped anew) replaces the unfinished one, whose parts are then done; a part
 * that cannot belong is refused with the reason, and when that leaves its whole unable to complete,
 * every part of it is refused with it.
 */
final class Joiner {

    /** At most this many bytes of parts wait at once per partition: a dense step over a 32K vocabulary is 8 MiB at 64 positions. */
    static final long MAX_WAITING_BYTES = 1L << 30;

    /** What became of one part. */
    sealed interface Outcome {
        /** Held until the rest of its whole is in; {@code replaced}: the parts of an older send, now done. */
        record Waiting(List<Long> replaced) implements Outcome {
        }

        /** It completed {@code whole}; {@code replaced} as above. */
        record Whole(Envelope whole, List<Long> replaced) implements Outcome {
        }

        /** Refused with {@code reason}, and so are the {@code alsoRefused} parts of its whole, which can no longer complete. */
        record Refused(String reason, List<ConsumerRecord<String, Decoded>> alsoRefused) implements Outcome {
        }
    }

    private final Map<TopicPartition, Parts.Assembler> assemblers = new HashMap<>();
    /** Per partition and whole key, the records of its parts held so far. */
    private final Map<TopicPartition, Map<String, List<ConsumerRecord<String, Decoded>>>> held = new HashMap<>();
    /** Per partition, the offset of a whole's last part to the offsets of the parts before it. */
    private final Map<TopicPartition, Map<Long, List<Long>>> before = new HashMap<>();

    Outcome accept(TopicPartition tp, ConsumerRecord<String, Decoded> record, Envelope part) {
        Parts.Assembler assembler = assemblers.computeIfAbsent(tp, p -> new Parts.Assembler(MAX_WAITING_BYTES));
        Map<String, List<ConsumerRecord<String, Decoded>>> mine = held.computeIfAbsent(tp, p -> new HashMap<>());
        String key = part.getPart().getWholeKey();
        List<Long> replaced = assembler.replacedBy(part) ? offsets(mine.remove(key)) : List.of();
        try {
            var whole = assembler.accept(part);
            if (whole.isEmpty()) {
                mine.computeIfAbsent(key, k -> new ArrayList<>()).add(record);
                return new Outcome.Waiting(replaced);
            }
            List<Long> earlier = offsets(mine.remove(key));
            if (!earlier.isEmpty()) {
                before.computeIfAbsent(tp, p -> new HashMap<>()).put(record.offset(), earlier);
            }
            return new Outcome.Whole(whole.get(), replaced);
        } catch (MalformedMessageException refused) {
            List<ConsumerRecord<String, Decoded>> orphans = assembler.waitingFor(key) == null && mine.containsKey(key)
                ? mine.remove(key) : List.of();
            return new Outcome.Refused(refused.getMessage(), orphans);
        }
    }

    /** The record at {@code offset} is done: the parts before it, if it completed a whole, are done with it. */
    List<Long> done(TopicPartition tp, long offset) {
        Map<Long, List<Long>> b = before.get(tp);
        List<Long> earlier = b == null ? null : b.remove(offset);
        return earlier == null ? List.of() : earlier;
    }

    /** Partitions given up: their parts are read again by whoever takes them over. */
    void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            assemblers.remove(tp);
            held.remove(tp);
            before.remove(tp);
        }
    }

    private static List<Long> offsets(List<ConsumerRecord<String, Decoded>> records) {
        return records == null ? List.of() : records.stream().map(ConsumerRecord::offset).toList();
    }
}
