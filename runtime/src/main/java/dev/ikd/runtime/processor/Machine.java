package dev.ikd.runtime.processor;

import java.util.List;

import com.google.protobuf.Message;
import dev.ikd.proto.v1.Envelope;

/**
 * A service's logic for one key (one student): a state machine whose new state and answers are a
 * function of its state and the input, with no Kafka, Vert.x, files or clock reads in it. The
 * {@link Processor} decides when inputs arrive, makes the state durable and sends the answers.
 */
public interface Machine extends AutoCloseable {

    /**
     * Applies one input and returns what to send. An input it will not apply is refused by throwing
     * {@code RejectedMessageException} (or {@code MalformedMessageException}) with the reason; the
     * state is then exactly as before. Any other exception is a bug, and stops the service.
     */
    List<Envelope> apply(Input input);

    /** Time passing with no input (timeouts): what to send. It changes nothing a checkpoint keeps. */
    default List<Envelope> tick(long nowMs) {
        return List.of();
    }

    /** The whole state as a typed message, for the checkpoint; null while there is nothing worth keeping. */
    Message state();

    /** Frees what the machine holds (native tensors). */
    @Override
    default void close() {
    }
}
