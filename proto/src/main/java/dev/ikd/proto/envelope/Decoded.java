package dev.ikd.proto.envelope;

import dev.ikd.proto.v1.Envelope;

/**
 * What the consumer side gets for each record: a checked envelope, or the raw bytes with the reason
 * they could not be decoded. Decoding never throws, so one bad record cannot stall a partition.
 */
public sealed interface Decoded {

    record Valid(Envelope envelope) implements Decoded {
    }

    record Malformed(byte[] raw, String reason) implements Decoded {
    }
}
