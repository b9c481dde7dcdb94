package dev.ikd.proto.envelope;

import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.sign.SigningKey;
import dev.ikd.proto.v1.Envelope;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka value serializer for {@link Envelope}; given a {@link SigningKey}, it signs every value it
 * writes into the record's headers ({@link Signatures}).
 */
public final class EnvelopeSerializer implements Serializer<Envelope> {

    private final SigningKey key;

    public EnvelopeSerializer() {
        this(null);
    }

    /** @param key signs every record; null writes them unsigned */
    public EnvelopeSerializer(SigningKey key) {
        this.key = key;
    }

    @Override
    public byte[] serialize(String topic, Envelope envelope) {
        return envelope == null ? null : Envelopes.encode(envelope);
    }

    @Override
    public byte[] serialize(String topic, Headers headers, Envelope envelope) {
        byte[] value = serialize(topic, envelope);
        if (key != null && value != null) {
            Signatures.sign(key, value, headers);
        }
        return value;
    }
}
