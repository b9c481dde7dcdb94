package dev.ikd.proto.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.UUID;

import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
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
        try (var producer = new KafkaProducer<String, Envelope>(KafkaClients.producerConfig(KafkaAccess.plain(bootstrapServers()), "restart"))) {
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

    /** Reading a topic from its start has a deadline: past it, a clear failure naming the topic, never a silent return. */
    @Test
    void aReadFromTheStartThatCannotFinishFailsAtItsDeadlineNamingTheTopic() throws Exception {
        createTopics();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> KafkaClients.readFromStart(KafkaAccess.plain(bootstrapServers()), java.util.List.of(Topics.TEACHER_BLOCKS), "deadline",
            java.time.Duration.ofSeconds(2), r -> { }, () -> false)).isInstanceOf(LogReadException.class)
            .hasMessage("could not read ikd.teacher-blocks from " + bootstrapServers() + " (PLAINTEXT) within 2 s");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(30);

        try (var closed = new java.net.ServerSocket(0)) {
            String nobody = "127.0.0.1:" + closed.getLocalPort();
            closed.close();
            assertThatThrownBy(() -> KafkaClients.readFromStart(KafkaAccess.plain(nobody), java.util.List.of(Topics.CONTROL), "deadline",
                java.time.Duration.ofSeconds(2), r -> { }, null)).isInstanceOf(LogReadException.class)
                .hasMessageStartingWith("could not read ikd.control from " + nobody + " (PLAINTEXT) within 2 s");
        }
    }
}
