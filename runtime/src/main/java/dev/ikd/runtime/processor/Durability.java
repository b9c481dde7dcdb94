package dev.ikd.runtime.processor;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import dev.ikd.proto.v1.Envelope;

/**
 * Where a service's state survives the process: checkpoint files ({@code CheckpointFiles}) for
 * students and teachers, the coordinator's event journal on Kafka. The {@link Processor} calls
 * {@link #record} after a record changed a machine and before anything it caused is sent, and
 * {@link #recover} when it gains partitions.
 */
public interface Durability {

    /**
     * The saved machines whose keys {@code belongs} accepts, each with the input it covers and what
     * it last sent. A damaged newest checkpoint falls back to the one before it; nothing usable stops
     * the service with the reason.
     */
    <M extends Machine> Map<String, Recovered<M>> recover(Service<M> service, Predicate<String> belongs);

    /** Makes one handled record durable; returns once it is (fsync'd, or acknowledged by the brokers). */
    void record(Handled handled);

    /**
     * One record as the machine of {@code key} handled it.
     *
     * @param refusal  why it was refused (the state did not change), or null if applied
     * @param outbox   what it causes to be sent: answers, or the dead letter of a refusal
     * @param covered  the input the machine's state now covers, this record included
     */
    record Handled(String key, Machine machine, Input input, String refusal, List<Envelope> outbox, Positions covered) {
    }

    /** A machine as it was saved: the input it covers, and what it last sent (sent again, the first may be lost). */
    record Recovered<M extends Machine>(M machine, Positions covered, List<Envelope> outbox) {
    }

    /** For tests and in-memory runs: nothing survives the process. */
    Durability NONE = new Durability() {
        @Override
        public <M extends Machine> Map<String, Recovered<M>> recover(Service<M> service, Predicate<String> belongs) {
            return Map.of();
        }

        @Override
        public void record(Handled handled) {
        }
    };
}
