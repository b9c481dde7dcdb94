package dev.ikd.runtime.processor;

import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.Position;

/**
 * One input as a machine sees it: the decoded envelope, where it was read, and the time it is
 * applied at (in milliseconds, and in microseconds for the event times of what it sends). Time
 * comes with the input, so a machine that needs a clock (the coordinator's
 * timeouts) still applies the same inputs the same way when its journal is folded again.
 */
public record Input(Envelope envelope, Position at, long nowMs, long nowUs) {

    /** An input applied at a time known to the millisecond (a journal's, a replay's). */
    public Input(Envelope envelope, Position at, long nowMs) {
        this(envelope, at, nowMs, nowMs * 1_000);
    }
}
