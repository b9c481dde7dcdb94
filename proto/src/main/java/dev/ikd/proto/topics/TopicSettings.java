package dev.ikd.proto.topics;

/**
 * How ikd's topics are created.
 *
 * @param partitions          partitions per topic; students are spread over them by key
 * @param replicationFactor   replicas per partition (1 on a single broker)
 * @param retentionMs         how long the run log is kept; -1 keeps it for good (it is the record of a run)
 * @param maxMessageBytes     largest record a topic accepts
 * @param compactionSegmentMs segment roll time of the compacted block topic, so compaction can run
 */
public record TopicSettings(int partitions, short replicationFactor, long retentionMs, int maxMessageBytes,
                            long compactionSegmentMs) {

    public TopicSettings {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be at least 1, got " + replicationFactor);
        }
        if (maxMessageBytes < 1024) {
            throw new IllegalArgumentException("max message bytes must be at least 1024, got " + maxMessageBytes);
        }
    }

    public static TopicSettings defaults() {
        return new TopicSettings(4, (short) 1, -1L, 16 * 1024 * 1024, 60_000L);
    }

    public TopicSettings withPartitions(int n) {
        return new TopicSettings(n, replicationFactor, retentionMs, maxMessageBytes, compactionSegmentMs);
    }
}
