package dev.ikd.proto.envelope;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import com.google.protobuf.ByteString;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.DeadLetter;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Publishes records that cannot be applied to {@code ikd.dead-letter}, with where they came from
 * (topic, partition, offset), the raw bytes and the reason. Nothing a consumer reads is dropped:
 * it is either handled or dead-lettered.
 */
public final class DeadLetters {

    private final Producer<String, Envelope> producer;
    private final String producerId;
    private final String runId;
    private final Clock clock;

    public DeadLetters(Producer<String, Envelope> producer, String producerId, Clock clock) {
        this(producer, producerId, "", clock);
    }

    /** Dead letters stamped with {@code runId}, the run of the service that refused the records. */
    public DeadLetters(Producer<String, Envelope> producer, String producerId, String runId, Clock clock) {
        this.producer = producer;
        this.producerId = producerId;
        this.runId = runId;
        this.clock = clock;
    }

    /**
     * Hands a valid envelope to {@code handler}; a malformed record, or one the handler rejects
     * (with {@link RejectedMessageException} or {@link MalformedMessageException}), is dead-lettered.
     *
     * @return true if the handler applied the envelope
     */
    public boolean dispatch(ConsumerRecord<String, Decoded> record, Consumer<Envelope> handler) {
        Decoded decoded = record.value();
        if (decoded == null) {
            publish(record, null, "record has no value");
            return false;
        }
        if (decoded instanceof Decoded.Malformed malformed) {
            publish(record, malformed.raw(), malformed.reason());
            return false;
        }
        Envelope envelope = ((Decoded.Valid) decoded).envelope();
        try {
            handler.accept(envelope);
            return true;
        } catch (RejectedMessageException | MalformedMessageException e) {
            publish(record, Envelopes.encode(envelope), e.getMessage());
            return false;
        }
    }

    public Future<RecordMetadata> publish(ConsumerRecord<String, ?> original, byte[] rawValue, String reason) {
        return producer.send(letter(original, rawValue, reason));
    }

    /** The dead-letter record for {@code original}: where it came from, its raw bytes and the reason. */
    public ProducerRecord<String, Envelope> letter(ConsumerRecord<String, ?> original, byte[] rawValue, String reason) {
        return letter(original.topic(), original.partition(), original.offset(), original.timestamp(), original.key(), rawValue,
            reason);
    }

    /** The dead-letter record for the record at {@code topic/partition@offset} (key may be null). */
    public ProducerRecord<String, Envelope> letter(String topic, int partition, long offset, long timestampMs, String key,
                                                   byte[] rawValue, String reason) {
        var letter = DeadLetter.newBuilder()
            .setTopic(topic)
            .setPartition(partition)
            .setOffset(offset)
            .setReason(reason)
            .setOriginalTimestampMs(timestampMs);
        if (rawValue != null) {
            letter.setRawValue(ByteString.copyFrom(rawValue));
        }
        if (key != null) {
            letter.setRawKey(ByteString.copyFrom(key, StandardCharsets.UTF_8));
        }
        String k = key == null ? "" : key;
        Envelope envelope = Envelope.newBuilder()
            .setSchemaVersion(Envelopes.SCHEMA_VERSION)
            .setRunId(runId)
            .setStudentId(k)
            .setKind(Kind.DEAD_LETTER)
            .setProducerId(producerId)
            .setEventTimeMs(clock.millis())
            .setIdempotencyKey(topic + "/" + partition + "/" + offset + "/dead_letter")
            .setDeadLetter(letter)
            .build();
        return new ProducerRecord<>(Topics.DEAD_LETTER, k, envelope);
    }
}
