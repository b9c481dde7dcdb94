package dev.ikd.learning.blocks;

import dev.ikd.proto.kafka.KafkaAccess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.RunFailedException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IAKD's teacher stages on the compacted topic: a student that comes late reads the newest block of every stage. */
class TeacherBlocksTest {

    @TempDir
    Path dir;

    @Test
    void aLateReaderGetsTheNewestBlockOfEveryStageFromTheCompactedTopic() throws Exception {
        var digits = Datasets.digits();
        Network teacher = Network.build(ModelSpec.parse("mlp:16:32,32"), digits);
        try (EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
             NDManager m = NDManager.newBaseManager()) {
            Topics.ensure(admin, TopicSettings.defaults(), Duration.ofSeconds(30));
            var config = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, Topics.TEACHER_BLOCKS)))
                .all().get().values().iterator().next();
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");

            Params first = teacher.init(1, DataType.FLOAT32, m);
            Params second = teacher.init(2, DataType.FLOAT32, m);
            try (var producer = new KafkaProducer<>(KafkaClients.producerConfig(KafkaAccess.plain(broker.bootstrapServers()), "t"),
                new StringSerializer(), new EnvelopeSerializer())) {
                for (Envelope e : TeacherBlocks.encode("r1", "teacher", teacher.spec(), first, 0, Clock.systemUTC())) {
                    producer.send(new ProducerRecord<>(Topics.TEACHER_BLOCKS, Topics.keyOf(e), e)).get();
                }
                // A newer version of stage2 only, and another run's blocks under the same teacher id.
                for (Envelope e : TeacherBlocks.encode("r1", "teacher", teacher.spec(), second, 1, Clock.systemUTC())) {
                    if (e.getTeacherBlock().getStage().equals("stage2")) {
                        producer.send(new ProducerRecord<>(Topics.TEACHER_BLOCKS, Topics.keyOf(e), e)).get();
                    }
                }
                for (Envelope e : TeacherBlocks.encode("r2", "teacher", teacher.spec(), second, 0, Clock.systemUTC())) {
                    producer.send(new ProducerRecord<>(Topics.TEACHER_BLOCKS, Topics.keyOf(e), e)).get();
                }
            }
            Params fetched = TeacherBlocks.fetch(KafkaAccess.plain(broker.bootstrapServers()), "r1", "teacher", teacher, DataType.FLOAT32,
                Duration.ofSeconds(30), m);
            assertThat(fetched.names()).isEqualTo(first.names());
            for (String name : first.names()) {
                Params expected = name.startsWith("stage2.") ? second : first;
                assertThat(fetched.get(name).toFloatArray()).as(name).containsExactly(expected.get(name).toFloatArray());
            }

            Network other = Network.build(ModelSpec.parse("mlp:16:8,8"), digits);
            assertThatThrownBy(() -> TeacherBlocks.fetch(KafkaAccess.plain(broker.bootstrapServers()), "r1", "teacher", other, DataType.FLOAT32,
                Duration.ofSeconds(30), m)).isInstanceOf(RunFailedException.class).hasMessageContaining("but the teacher model");
            assertThatThrownBy(() -> TeacherBlocks.fetch(KafkaAccess.plain(broker.bootstrapServers()), "r3", "teacher", teacher, DataType.FLOAT32,
                Duration.ofSeconds(2), m)).isInstanceOf(RunFailedException.class)
                .hasMessageContaining("no teacher blocks [head, stage1, stage2] of teacher in run r3");
        }
    }
}
