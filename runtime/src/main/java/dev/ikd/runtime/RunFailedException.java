package dev.ikd.runtime;

/** A run could not go on (a refusal, an abort, a timeout): the message says why, for the user. */
public final class RunFailedException extends RuntimeException {
    public RunFailedException(String message) {
        super(message);
    }
}
