package dev.ikd.runtime.processor;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.sign.SigningKey;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.ServiceMetrics;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** A {@link Processor} on real Kafka clients, with the settings a service needs; closing it closes them too. */
public final class KafkaProcessor<M extends Machine> implements AutoCloseable {

    /**
     * How a service reaches Kafka.
     *
     * @param groupId the consumer group: replicas of one service share it; it keeps the committed offsets
     * @param signer  signs every record this service writes; null in a run that does not sign
     */
    public record Connection(KafkaAccess access, String groupId, KafkaTuning tuning, SigningKey signer) {

        public Connection(KafkaAccess access, String groupId, KafkaTuning tuning) {
            this(access, groupId, tuning, null);
        }

        /** A producer of this service's envelopes, signed when the run signs. */
        public KafkaProducer<String, Envelope> producer(String clientId) {
            return new KafkaProducer<>(tuning.producer(KafkaClients.producerConfig(access, clientId)), new StringSerializer(),
                new EnvelopeSerializer(signer));
        }
    }

    private final Processor<M> processor;
    private final Producer<String, Envelope> producer;
    private final KafkaClientMetrics consumerMetrics;

    public KafkaProcessor(Connection c, Processor.Settings settings, Processor.Inputs inputs, Service<M> service,
                          Durability durability, ServiceMetrics metrics, Executor workers, Processor.Listener<M> listener) {
        // A dead-letter count of 0 from the start: the first dead letter is then an increase Prometheus sees.
        inputs.topics().forEach(metrics::watchDeadLetters);
        Map<String, Object> config = c.tuning().consumer(
            KafkaClients.consumerConfig(c.access(), c.groupId(), settings.serviceId()));
        if (inputs instanceof Processor.Inputs.Group) {
            // Static membership: a service started again after a crash takes its old place in the group
            // at once, instead of waiting out the dead member's session before partitions are assigned.
            config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, settings.serviceId());
        }
        // A replica that died for good hands its partitions to the others after this long (Kafka's default is 45 s).
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        // Range assignment gives a replica the same partition numbers of every topic it reads: a
        // student's control and feedback records (same key, same partition number) reach one replica.
        config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
        var consumer = new KafkaConsumer<String, Decoded>(config, new StringDeserializer(),
            new EnvelopeDeserializer(c.tuning().maxMessageBytes()));
        this.producer = c.producer(settings.serviceId());
        // Consumer lag and fetch latency, read from the client's own metrics.
        this.consumerMetrics = new KafkaClientMetrics(consumer, List.of(Tag.of("service", metrics.service())));
        consumerMetrics.bindTo(metrics.registry());
        this.processor = new Processor<>(settings, inputs, consumer, producer, service, durability, metrics, workers,
            Clock.systemUTC(), listener);
    }

    public Processor<M> processor() {
        return processor;
    }

    @Override
    public void close() {
        processor.close();
        consumerMetrics.close();
        producer.close(java.time.Duration.ofSeconds(10));
    }
}
