package dev.ikd.core.checkpoint;

/** A checkpoint cannot be used: missing, truncated, corrupted, or for another model. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
