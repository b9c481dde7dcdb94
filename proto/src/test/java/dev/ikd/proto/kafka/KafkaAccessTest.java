package dev.ikd.proto.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaAccessTest {

    @TempDir
    Path dir;

    @Test
    void aConfigFilesSettingsReachTheClientsAndItsSecretsStayOutOfToString() throws Exception {
        Path f = Files.writeString(dir.resolve("c.properties"), "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
            + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"s3cret\";\n");
        KafkaAccess a = KafkaAccess.withConfig("h:1", f);
        var producer = KafkaClients.producerConfig(a, "p");
        assertThat(producer).containsEntry("security.protocol", "SASL_SSL").containsEntry("bootstrap.servers", "h:1")
            .containsEntry("enable.idempotence", true);
        assertThat(a.toString()).isEqualTo("h:1 (SASL_SSL)").doesNotContain("s3cret");
    }

    @Test
    void settingsIkdDecidesCannotBeOverriddenAndAMissingFileIsNamed() throws Exception {
        Path f = Files.writeString(dir.resolve("c.properties"), "enable.auto.commit=true\n");
        assertThatThrownBy(() -> KafkaAccess.withConfig("h:1", f)).hasMessageContaining("enable.auto.commit is set by ikd");
        assertThatThrownBy(() -> KafkaAccess.withConfig("h:1", dir.resolve("none"))).hasMessageContaining("cannot read it");
        Path linger = Files.writeString(dir.resolve("l.properties"), "linger.ms=5\n");
        assertThatThrownBy(() -> KafkaAccess.withConfig("h:1", linger)).hasMessageContaining("set linger.ms with --kafka-linger-ms");
    }

    @Test
    void anyOtherClientSettingPassesThroughToEveryClient() throws Exception {
        Path f = Files.writeString(dir.resolve("c.properties"), "compression.type=zstd\nrequest.timeout.ms=15000\nclient.rack=r1\n");
        KafkaAccess a = KafkaAccess.withConfig("h:1", f);
        for (Map<String, Object> config : List.of(KafkaClients.producerConfig(a, "p"), KafkaClients.consumerConfig(a, "g", "c"),
            KafkaClients.adminConfig(a))) {
            assertThat(config).containsEntry("compression.type", "zstd").containsEntry("request.timeout.ms", "15000")
                .containsEntry("client.rack", "r1").containsEntry("bootstrap.servers", "h:1");
        }
    }
}
