package dev.ikd.launcher.service;

import dev.ikd.proto.topics.TopicSettings;
import picocli.CommandLine.Option;

/**
 * How ikd's topics are made when a command finds them missing: one broker needs the defaults; a
 * production cluster wants 3 replicas, {@code min.insync.replicas} 2 and perhaps a retention.
 * Topics that exist are left as they are ({@code ikd topics describe} shows them).
 */
public final class TopicOptions {

    @Option(names = "--partitions", defaultValue = "" + TopicSettings.DEFAULT_PARTITIONS,
        description = "Partitions per ikd topic; students are spread over them by key. Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(names = "--replication-factor", paramLabel = "N",
        description = "Replicas of each partition. Default: 1; on a node of a cluster ('ikd broker --controller-quorum'), "
            + "the number of nodes up to 3.")
    Integer replicationFactor;

    @Option(names = "--min-insync-replicas", paramLabel = "N",
        description = "Replicas that must hold a record before a send succeeds (acks=all). Default: 2 with 3 replicas or "
            + "more (every acknowledged record outlives one broker), else 1.")
    Integer minInsyncReplicas;

    @Option(names = "--retention-ms", defaultValue = "-1", paramLabel = "MS",
        description = "How long the run log is kept (-1: for good; it is the record of every run). Default: ${DEFAULT-VALUE}")
    long retentionMs;

    /** The settings, or a one-line refusal naming the option at fault. */
    TopicSettings settings() {
        return settings(1);
    }

    /** The settings, with {@code defaultReplicas} unless --replication-factor says otherwise. */
    TopicSettings settings(int defaultReplicas) {
        int replicationFactor = this.replicationFactor == null ? defaultReplicas : this.replicationFactor;
        int minInsyncReplicas = this.minInsyncReplicas == null ? (replicationFactor >= 3 ? 2 : 1) : this.minInsyncReplicas;
        if (partitions < 1) {
            throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
        }
        if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
            throw new IllegalArgumentException("--replication-factor must be at least 1, got " + replicationFactor);
        }
        if (minInsyncReplicas < 1 || minInsyncReplicas > replicationFactor) {
            throw new IllegalArgumentException("--min-insync-replicas must be between 1 and --replication-factor ("
                + replicationFactor + "), got " + minInsyncReplicas);
        }
        if (retentionMs < -1 || retentionMs == 0) {
            throw new IllegalArgumentException("--retention-ms must be -1 (for good) or at least 1, got " + retentionMs);
        }
        return TopicSettings.defaults().withPartitions(partitions).withReplication(replicationFactor, minInsyncReplicas)
            .withRetentionMs(retentionMs);
    }
}
