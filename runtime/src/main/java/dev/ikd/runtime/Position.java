package dev.ikd.runtime;

/**
 * Where a record was read: topic, partition, offset. A service's state covers its input up to
 * positions like this one (docs/architecture.md §6): after a restart, what a checkpoint covers is not applied again.
 */
public record Position(String topic, int partition, long offset) {

    /** {@code topic/partition}: the name a checkpoint keeps the next offset under. */
    public String partitionName() {
        return topic + "/" + partition;
    }
}
