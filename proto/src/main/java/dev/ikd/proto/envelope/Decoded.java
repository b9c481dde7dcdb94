package dev.ikd.proto.envelope;

import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.v1.Envelope;

/**
 * What the consumer side gets for each record: a checked envelope, or the raw bytes with the reason
 * they could not be decoded. Decoding never throws, so one bad record cannot stall a partition.
 */
public sealed interface Decoded {

    /** @param signed the record's value and signature headers, for a run that signs its messages (null when not read from Kafka) */
    record Valid(Envelope envelope, Signatures.Signed signed) implements Decoded {

        public Valid(Envelope envelope) {
            this(envelope, null);
        }
    }

    record Malformed(byte[] raw, String reason) implements Decoded {
    }
}
