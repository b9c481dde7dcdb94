package dev.ikd.core.data;

/** A data set the run needs is not on this machine, or not readable; the message says how to get it. */
public final class MissingDataException extends RuntimeException {
    public MissingDataException(String message) {
        super(message);
    }

    public MissingDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
