package dev.ikd.runtime;

/**
 * One record's way from its sender into the handler of its receiver, as moments in microseconds
 * since the epoch (-1 where not known): handed to the producer, appended by the broker (its log
 * append time, millisecond resolution), returned by the receiver's poll, taken up by its handler,
 * applied by the machine, persisted (made durable), and done (answers acknowledged). Sender and receiver on different machines
 * read different clocks: their differences then include the clocks' offset.
 */
public record Hop(long sentUs, long appendedUs, long receivedUs, long startedUs, long appliedUs, long persistedUs, long doneUs) {

    /** A record on its way in: polled, not yet taken up. */
    public static Hop arrived(long sentUs, long appendedUs, long receivedUs) {
        return new Hop(sentUs, appendedUs, receivedUs, -1, -1, -1, -1);
    }

    /** This record's hop, handled: taken up at {@code startedUs}, then applied, persisted and done. */
    public Hop handled(long startedUs, long appliedUs, long persistedUs, long doneUs) {
        return new Hop(sentUs, appendedUs, receivedUs, startedUs, appliedUs, persistedUs, doneUs);
    }

    /** Send to broker append (network, request handling, the append itself). */
    public long produceUs() {
        return span(sentUs, appendedUs);
    }

    /** Broker append to the receiver's poll returning it (the fetch, and deserialisation). */
    public long fetchUs() {
        return span(appendedUs, receivedUs);
    }

    /** Poll to handler start: waiting for a worker, and for the key's records before it. */
    public long queueUs() {
        return span(receivedUs, startedUs);
    }

    /** The handler: apply, checkpoint, send the answers and wait for their acknowledgements. */
    public long handleUs() {
        return span(startedUs, doneUs);
    }

    /** The machine's apply: decoding done, the learning step or protocol check, the answers built. */
    public long applyUs() {
        return span(startedUs, appliedUs);
    }

    /** Making the new state durable: the checkpoint written and fsync'd, or the journal appended. */
    public long persistUs() {
        return span(appliedUs, persistedUs);
    }

    /** Sending the answers and waiting for their acknowledgements. */
    public long ackUs() {
        return span(persistedUs, doneUs);
    }

    /** Send to receive: the hop as the receiver sees it. */
    public long latencyUs() {
        return span(sentUs, receivedUs);
    }

    private static long span(long from, long to) {
        return from < 0 || to < 0 ? -1 : Math.max(0, to - from);
    }
}
