package dev.ikd.proto.envelope;

import dev.ikd.proto.v1.Envelope;
import org.apache.kafka.common.serialization.Serializer;

/** Kafka value serializer for {@link Envelope}. */
public final class EnvelopeSerializer implements Serializer<Envelope> {
    @Override
    public byte[] serialize(String topic, Envelope envelope) {
        return envelope == null ? null : Envelopes.encode(envelope);
    }
}
