package dev.ikd.proto.codec;

/**
 * A message, or a tensor inside one, is not what the wire contract allows. The message names the
 * problem precisely enough to be a dead-letter reason.
 */
public class MalformedMessageException extends RuntimeException {
    public MalformedMessageException(String reason) {
        super(reason);
    }

    public MalformedMessageException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
