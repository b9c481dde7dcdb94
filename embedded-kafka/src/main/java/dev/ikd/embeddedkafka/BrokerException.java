package dev.ikd.embeddedkafka;

/** The embedded broker could not be set up or started; the message says why. */
public final class BrokerException extends RuntimeException {
    public BrokerException(String message) {
        super(message);
    }

    public BrokerException(String message, Throwable cause) {
        super(message, cause);
    }
}
