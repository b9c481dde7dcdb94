package dev.ikd.runtime.processor;

import java.util.Map;
import java.util.TreeMap;

import dev.ikd.runtime.Position;

/**
 * The input one key's state covers: per partition ({@code topic/partition}), the offset of the next
 * record it has not seen. A record below that is already in the state (or was refused and changed
 * nothing), so after a restart it is skipped instead of applied twice. Touched by one key's task at
 * a time.
 */
public final class Positions {

    private final Map<String, Long> next;
    private long records;

    public Positions(Map<String, Long> next, long records) {
        this.next = new TreeMap<>(next);
        this.records = records;
    }

    public static Positions none() {
        return new Positions(Map.of(), 0);
    }

    /** Whether the state already includes (or refused) the record at {@code at}. */
    public boolean covers(Position at) {
        Long n = next.get(at.partitionName());
        return n != null && at.offset() < n;
    }

    /** The record at {@code at} is now in the state. */
    public void advance(Position at) {
        next.merge(at.partitionName(), at.offset() + 1, Math::max);
        records++;
    }

    /** How many records the state has applied or refused: its progress, which only grows. */
    public long records() {
        return records;
    }

    /** Per partition, the next offset not seen. */
    public Map<String, Long> asMap() {
        return Map.copyOf(next);
    }

    @Override
    public String toString() {
        return next + " after " + records + " records";
    }
}
