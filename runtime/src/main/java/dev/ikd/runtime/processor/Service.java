package dev.ikd.runtime.processor;

import com.google.protobuf.Any;
import dev.ikd.proto.v1.Envelope;

/**
 * What one kind of service puts on the {@link Processor}: which records it takes, which machine
 * each goes to, and how machines are made, fresh or from a checkpoint.
 */
public interface Service<M extends Machine> {

    /** Why this service sets {@code e} aside (another student's record, a kind it does not read), or null to take it. */
    String skip(Envelope e);

    /** The key of the machine {@code e} goes to. */
    String keyOf(Envelope e);

    /** A machine for {@code key} that has applied nothing. */
    M fresh(String key);

    /** A machine for {@code key} continued from its checkpointed state. */
    M restore(String key, Any state);

    /**
     * What this service answers to a record whose signature failed, besides its dead letter (the
     * coordinator refuses a forged enrollment on the control topic, so the enroller hears why); it
     * changes no machine's state.
     */
    default java.util.List<Envelope> answerToForgery(Envelope e, String reason) {
        return java.util.List.of();
    }

    /**
     * How keys sit on partitions: {@link Placement#BY_KEY_HASH} when records are keyed by the
     * machine's key, so a key belongs to the consumer that holds its partition (teacher replicas);
     * {@link Placement#ALL} when one consumer holds every key it has, whatever partitions it reads.
     */
    default Placement placement() {
        return Placement.ALL;
    }

    enum Placement { ALL, BY_KEY_HASH }
}
