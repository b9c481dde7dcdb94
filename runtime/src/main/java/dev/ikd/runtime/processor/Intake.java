package dev.ikd.runtime.processor;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * What the processor has taken from each input partition: the records not yet done (at most the
 * bound per partition), the offset after the last one taken, the offset last committed, and which
 * partitions are paused because they are full. The parts of a whole envelope not yet joined are held
 * apart: they do not count against the bound (a whole may have more parts than it), but the commit
 * offset stays below them until their whole is done. The commit offset of a partition is the lowest
 * record not yet done, so it only ever passes records that are. Used by the input thread alone.
 */
final class Intake {

    private final int bound;
    private final Map<TopicPartition, TreeSet<Long>> open = new HashMap<>();
    private final Map<TopicPartition, TreeSet<Long>> held = new HashMap<>();
    private final Map<TopicPartition, Long> next = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private final Set<TopicPartition> paused = new HashSet<>();

    Intake(int bound) {
        this.bound = bound;
    }

    /** Whether {@code tp} holds as many records not yet done as it may. */
    boolean full(TopicPartition tp) {
        TreeSet<Long> o = open.get(tp);
        return o != null && o.size() >= bound;
    }

    void take(TopicPartition tp, long offset) {
        open.computeIfAbsent(tp, p -> new TreeSet<>()).add(offset);
        next.put(tp, offset + 1);
    }

    /**
     * The record at {@code offset}, a part of a whole still being joined, no longer counts against the
     * bound but is not done either. True if that makes a paused partition resume.
     */
    boolean hold(TopicPartition tp, long offset) {
        TreeSet<Long> o = open.get(tp);
        if (o == null || !o.remove(offset)) {
            return false;
        }
        held.computeIfAbsent(tp, p -> new TreeSet<>()).add(offset);
        return o.size() < bound && paused.remove(tp);
    }

    /** Whether some partition waits, paused, for its records to be done. */
    boolean anyPaused() {
        return !paused.isEmpty();
    }

    /** Marks {@code tp} paused; false if it already was. */
    boolean pause(TopicPartition tp) {
        return paused.add(tp);
    }

    /**
     * The record at {@code offset} is done (or, held, its whole is). True if that makes a paused
     * partition resume. A record of a partition given up since is ignored.
     */
    boolean done(TopicPartition tp, long offset) {
        TreeSet<Long> o = open.get(tp);
        if (o == null) {
            return false;
        }
        TreeSet<Long> h = held.get(tp);
        if (!o.remove(offset) && h != null) {
            h.remove(offset);
        }
        return o.size() < bound && paused.remove(tp);
    }

    /** Whether {@code tp} is still held (not given up). */
    boolean holds(TopicPartition tp) {
        return open.containsKey(tp);
    }

    /** Whether any of {@code partitions} has records not yet done. */
    boolean busy(Collection<TopicPartition> partitions) {
        return partitions.stream().anyMatch(tp -> open.containsKey(tp) && !open.get(tp).isEmpty());
    }

    /** Per partition, the offset below which every record taken is done, where that moved since the last commit. */
    Map<TopicPartition, OffsetAndMetadata> toCommit(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            Long n = next.get(tp);
            if (n == null) {
                continue;
            }
            TreeSet<Long> o = open.get(tp);
            TreeSet<Long> h = held.get(tp);
            long safe = o == null || o.isEmpty() ? n : o.first();
            if (h != null && !h.isEmpty()) {
                safe = Math.min(safe, h.first());
            }
            if (!Long.valueOf(safe).equals(committed.get(tp))) {
                offsets.put(tp, new OffsetAndMetadata(safe));
            }
        }
        return offsets;
    }

    /** Every partition that has taken records. */
    Set<TopicPartition> partitions() {
        return Set.copyOf(next.keySet());
    }

    void committed(TopicPartition tp, long offset) {
        committed.put(tp, offset);
    }

    Long committed(TopicPartition tp) {
        return committed.get(tp);
    }

    /** Partitions given up: nothing of theirs is tracked any more. */
    void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            open.remove(tp);
            held.remove(tp);
            next.remove(tp);
            committed.remove(tp);
            paused.remove(tp);
        }
    }
}
