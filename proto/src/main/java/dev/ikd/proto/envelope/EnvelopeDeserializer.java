package dev.ikd.proto.envelope;

import java.util.Map;

import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.sign.Signatures;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka value deserializer that never throws: a record that is not a valid envelope comes out as
 * {@link Decoded.Malformed} for {@link DeadLetters} to publish.
 */
public final class EnvelopeDeserializer implements Deserializer<Decoded> {

    /** Consumer property: the largest record value accepted, in bytes. */
    public static final String MAX_MESSAGE_BYTES = "ikd.max.message.bytes";
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;

    public EnvelopeDeserializer() {
    }

    public EnvelopeDeserializer(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Object limit = configs.get(MAX_MESSAGE_BYTES);
        if (limit != null) {
            maxMessageBytes = Integer.parseInt(limit.toString());
        }
    }

    @Override
    public Decoded deserialize(String topic, Headers headers, byte[] data) {
        Decoded d = deserialize(topic, data);
        return d instanceof Decoded.Valid v ? new Decoded.Valid(v.envelope(), Signatures.Signed.of(data, headers)) : d;
    }

    @Override
    public Decoded deserialize(String topic, byte[] data) {
        if (data != null && data.length > maxMessageBytes) {
            return new Decoded.Malformed(data, "message has " + data.length + " bytes, over the limit of "
                + maxMessageBytes);
        }
        try {
            return new Decoded.Valid(Envelopes.decode(data));
        } catch (MalformedMessageException e) {
            return new Decoded.Malformed(data, e.getMessage());
        }
    }
}
