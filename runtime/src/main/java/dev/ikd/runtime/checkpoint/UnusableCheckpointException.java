package dev.ikd.runtime.checkpoint;

/** No checkpoint a service could resume from: damaged (and so is the one before it), foreign, or of another model. */
public final class UnusableCheckpointException extends RuntimeException {
    public UnusableCheckpointException(String message) {
        super(message);
    }

    public UnusableCheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
