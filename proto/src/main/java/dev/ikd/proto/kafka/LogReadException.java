package dev.ikd.proto.kafka;

/** A topic could not be read from its start before the deadline: the message names the topics and how far it got. */
public final class LogReadException extends RuntimeException {
    public LogReadException(String message) {
        super(message);
    }

    public LogReadException(String message, Throwable cause) {
        super(message, cause);
    }
}
