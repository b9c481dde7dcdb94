package dev.ikd.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The input one piece of state covers: per partition, the offset of the next record it has not
 * applied. A record below that is already in the state (or was refused and changed nothing), so a
 * restarted service skips it instead of applying it twice. Kept in a checkpoint's metadata as
 * {@code position.topic/partition = next offset}.
 */
public final class Covered {

    private static final String PREFIX = "position.";
    private static final String RECORDS = "records";
    private final Map<String, Long> next = new TreeMap<>();
    private long records;

    public static Covered none() {
        return new Covered();
    }

    /** Whether the state already includes the record at {@code at}. */
    public boolean covers(Position at) {
        Long n = next.get(at.partitionName());
        return n != null && at.offset() < n;
    }

    /** The record at {@code at} is now in the state. */
    public void advance(Position at) {
        next.merge(at.partitionName(), at.offset() + 1, Math::max);
        records++;
    }

    /** How many records this state has applied: its progress, which only grows. */
    public long records() {
        return records;
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new HashMap<>();
        next.forEach((p, o) -> m.put(PREFIX + p, Long.toString(o)));
        m.put(RECORDS, Long.toString(records));
        return m;
    }

    public static Covered fromMetadata(Map<String, String> metadata) {
        Covered c = new Covered();
        metadata.forEach((k, v) -> {
            if (k.startsWith(PREFIX)) {
                c.next.put(k.substring(PREFIX.length()), Long.parseLong(v));
            }
        });
        c.records = Long.parseLong(metadata.getOrDefault(RECORDS, "0"));
        return c;
    }

    @Override
    public String toString() {
        return next.toString();
    }
}
