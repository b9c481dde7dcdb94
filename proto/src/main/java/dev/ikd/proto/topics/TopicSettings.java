package dev.ikd.proto.topics;

/**
 * How ikd's topics are created.
 *
 * @param partitions          partitions per topic; students are spread over them by key
 * @param replicationFactor   replicas per partition (1 on a single broker, 3 on a production cluster)
 * @param minInsyncReplicas   replicas that must have a record before an {@code acks=all} send succeeds
 *                            (2 with 3 replicas: one broker may fail without losing an acknowledged record)
 * @param retentionMs         how long the run log is kept; -1 keeps it for good (it is the record of a run)
 * @param maxMessageBytes     largest record a topic accepts
 * @param compactionSegmentMs segment roll time of the compacted block topic, so compaction can run
 */
public record TopicSettings(int partitions, short replicationFactor, int minInsyncReplicas, long retentionMs,
                            int maxMessageBytes, long compactionSegmentMs) {

    public TopicSettings {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be at least 1, got " + replicationFactor);
        }
        if (minInsyncReplicas < 1 || minInsyncReplicas > replicationFactor) {
            throw new IllegalArgumentException("min.insync.replicas must be between 1 and the replication factor ("
                + replicationFactor + "), got " + minInsyncReplicas);
        }
        if (retentionMs < -1 || retentionMs == 0) {
            throw new IllegalArgumentException("retention must be -1 (for good) or at least 1 ms, got " + retentionMs);
        }
        if (maxMessageBytes < 1024) {
            throw new IllegalArgumentException("max message bytes must be at least 1024, got " + maxMessageBytes);
        }
    }

    public static final int DEFAULT_PARTITIONS = 4;
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    /** One broker: 4 partitions, one replica, kept for good. */
    public static TopicSettings defaults() {
        return new TopicSettings(DEFAULT_PARTITIONS, (short) 1, 1, -1L, DEFAULT_MAX_MESSAGE_BYTES, 60_000L);
    }

    public TopicSettings withPartitions(int n) {
        return new TopicSettings(n, replicationFactor, minInsyncReplicas, retentionMs, maxMessageBytes, compactionSegmentMs);
    }

    public TopicSettings withReplication(int factor, int minInsync) {
        if (factor < 1 || factor > Short.MAX_VALUE) {
            throw new IllegalArgumentException("replication factor must be at least 1, got " + factor);
        }
        return new TopicSettings(partitions, (short) factor, minInsync, retentionMs, maxMessageBytes, compactionSegmentMs);
    }

    public TopicSettings withRetentionMs(long ms) {
        return new TopicSettings(partitions, replicationFactor, minInsyncReplicas, ms, maxMessageBytes, compactionSegmentMs);
    }
}
