package dev.ikd.proto.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;

import dev.ikd.proto.envelope.Decoded;

import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The one place that sets up ikd's Kafka producers and consumers. */
public final class KafkaClients {

    private KafkaClients() {
    }

    /**
     * Idempotent, fully acknowledged producer of envelopes keyed by student id: a retried send is
     * written once, and one student's records stay in order in one partition.
     */
    public static Map<String, Object> producerConfig(KafkaAccess access, String clientId) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        c.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, EnvelopeDeserializer.DEFAULT_MAX_MESSAGE_BYTES);
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, EnvelopeSerializer.class);
        return access.apply(c);
    }

    /** An admin client's settings: the cluster, the principal's credentials, a 30 s deadline per call. */
    public static Map<String, Object> adminConfig(KafkaAccess access) {
        return access.apply(Map.of(org.apache.kafka.clients.admin.AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    /**
     * Consumer of envelopes that sees only committed records and commits offsets itself, after a
     * record is handled.
     */
    public static Map<String, Object> consumerConfig(KafkaAccess access, String groupId, String clientId) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // The broker holds an empty fetch this long; a new record completes it at once.
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, EnvelopeDeserializer.DEFAULT_MAX_MESSAGE_BYTES);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, EnvelopeDeserializer.class);
        return access.apply(c);
    }

    /** A consumer that joins no group and commits nothing: it reads partitions it assigns itself (replay, the dashboard). */
    public static Map<String, Object> readerConfig(KafkaAccess access, String clientId) {
        Map<String, Object> config = consumerConfig(access, "unused", clientId);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return config;
    }

    /**
     * Reads {@code topics} from their beginning, with no consumer group, handing every record to
     * {@code each}, until {@code done} says so or, when it is null, until the end each partition
     * had when reading began. Either way it has a deadline: past {@code timeout} it fails with a
     * {@link LogReadException} that names the topics and how far it got, never returning as if
     * it had read everything.
     */
    public static void readFromStart(KafkaAccess access, List<String> topics, String clientId, Duration timeout,
                                     Consumer<ConsumerRecord<String, Decoded>> each, BooleanSupplier done) {
        Map<String, Object> config = readerConfig(access, clientId);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (var consumer = new KafkaConsumer<>(config, new StringDeserializer(), new EnvelopeDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                consumer.partitionsFor(topic, timeout).forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            Predicate<TopicPartition> behind = p -> consumer.position(p, timeout) < end.get(p);
            while (done != null ? !done.getAsBoolean() : partitions.stream().anyMatch(behind)) {
                if (System.nanoTime() > deadline) {
                    throw new LogReadException("could not read " + String.join(", ", topics) + " from " + access
                        + " within " + timeout.toSeconds() + " s" + (done != null ? "" : ": at " + progress(consumer, end, timeout)));
                }
                consumer.poll(Duration.ofMillis(200)).forEach(each);
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new LogReadException("could not read " + String.join(", ", topics) + " from " + access + " within "
                + timeout.toSeconds() + " s: " + e.getMessage(), e);
        }
    }

    private static String progress(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end, Duration timeout) {
        StringBuilder s = new StringBuilder();
        end.forEach((p, e) -> {
            long at = consumer.position(p, timeout);
            if (at < e) {
                s.append(s.length() == 0 ? "" : ", ").append(p).append(" offset ").append(at).append(" of ").append(e);
            }
        });
        return s.toString();
    }
}
