package dev.ikd.proto.envelope;

/**
 * A well-formed envelope that its receiver will not apply (unknown run, wrong step, bad tensor
 * shape, ...). {@link DeadLetters#dispatch} sends it to the dead-letter topic with this reason.
 */
public final class RejectedMessageException extends RuntimeException {
    public RejectedMessageException(String reason) {
        super(reason);
    }
}
