package dev.ikd.proto.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.UUID;

import dev.ikd.broker.BrokerSettings;
import dev.ikd.broker.EmbeddedKafka;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.SampleEnvelopes;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wire contract on the embedded KRaft broker, plus what only an embedded broker can show: a restart. */
class EmbeddedKafkaRoundTripTest extends KafkaRoundTripContract {

    @TempDir
    static Path dataDir;
    static EmbeddedKafka broker;

    @BeforeAll
    static void start() {
        broker = EmbeddedKafka.start(BrokerSettings.loopback(dataDir));
        System.out.println("embedded broker started in " + broker.startTime().toMillis() + " ms");
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Override
    protected String bootstrapServers() {
        return broker.bootstrapServers();
    }

    @Test
    void aRestartOnTheSameDataDirectoryKeepsTheRecords() throws Exception {
        createTopics();
        String runId = "restart-" + UUID.randomUUID();
        Envelope e = SampleEnvelopes.oneOfEachKind(runId).get(6); // soft targets
        try (var producer = new KafkaProducer<String, Envelope>(KafkaClients.producerConfig(bootstrapServers(), "restart"))) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(Topics.SOFT_TARGETS, e.getStudentId(), e));
            }
            producer.flush();
        }
        String before = broker.bootstrapServers();
        broker.close();
        broker = EmbeddedKafka.start(BrokerSettings.loopback(dataDir));
        System.out.println("embedded broker restarted in " + broker.startTime().toMillis() + " ms");
        assertThat(broker.bootstrapServers()).isEqualTo(before);
        var back = consume(java.util.List.of(Topics.SOFT_TARGETS), 100, r -> r.value() instanceof Decoded.Valid v
            && v.envelope().getRunId().equals(runId));
        assertThat(back).allSatisfy(r -> assertThat(((Decoded.Valid) r.value()).envelope()).isEqualTo(e));
    }
}
