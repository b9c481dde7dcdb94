package dev.ikd.runtime.processor;

/**
 * A service stopped because going on would break its guarantees: a checkpoint that cannot be written,
 * a send that failed after the client's retries, a bug in a handler. Crash-only: nothing is skipped
 * or half-applied, and the same command started again resumes from the last checkpoint.
 */
public final class ServiceStoppedException extends RuntimeException {
    public ServiceStoppedException(String message, Throwable cause) {
        super(message, cause);
    }
}
