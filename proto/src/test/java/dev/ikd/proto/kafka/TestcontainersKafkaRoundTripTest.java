package dev.ikd.proto.kafka;

import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/** The same wire contract against the official Kafka image, where a Docker engine exists. */
@Testcontainers(disabledWithoutDocker = true)
class TestcontainersKafkaRoundTripTest extends KafkaRoundTripContract {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:3.9.1");

    @Override
    protected String bootstrapServers() {
        return KAFKA.getBootstrapServers();
    }
}
