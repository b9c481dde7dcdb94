package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.text.BytePairEncoding;
import dev.ikd.core.text.LmCorpus;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.learning.export.LanguageModelFile;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runlog.Replay;
import dev.ikd.runlog.RunLog;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.Services;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messages larger than the record limit (docs/architecture.md §4, §6): with every service sending at
 * most {@value #LIMIT} bytes a record, an IKD run whose soft targets and feedback are several times
 * that travels in parts on a real broker, ends on the in-process hashes, and its log replays.
 */
class LargeMessagesTest {

    static final int LIMIT = 6_000;
    static final String RUN_ID = "large";

    @TempDir
    Path dir;

    @Test
    void softTargetsAndFeedbackLargerThanARecordTravelInPartsAndTheRunEndsOnTheInProcessHashes() throws Exception {
        // 256 x 10 float32 a step: 10 KB of soft targets, as much feedback.
        try (BrokerRun run = BrokerRun.start(dir, "--dataset", "digits", "--students", "2", "--steps", "6", "--batch", "256",
            "--exam-batch", "64", "--teacher-mode", "ikd", "--pretrain-steps", "50")) {
            List<String> reference = run.referenceHashes(run.config);
            String bootstrap = run.bootstrap();
            LocalRun.Outcome outcome = run.run(Services.Wiring.of(bootstrap, RUN_ID, dir.resolve("state"))
                .withTuning(KafkaTuning.defaults().withMaxRecordBytes(LIMIT)));
            assertThat(BrokerRun.hashes(outcome)).isEqualTo(reference);

            // On the wire: every record within the limit, and each step's soft targets and feedback in parts. The teacher's
            // blocks are the exception: their topic is compacted by block, which would keep only a block's last part.
            Map<String, Integer> parts = new TreeMap<>();
            List<Integer> sizes = new ArrayList<>();
            KafkaClients.readFromStart(KafkaAccess.plain(bootstrap), Topics.ALL, "test-large", Duration.ofSeconds(60), r -> {
                if (!r.topic().equals(Topics.TEACHER_BLOCKS)) {
                    sizes.add(r.serializedValueSize());
                }
                if (r.value() instanceof Decoded.Valid v && v.envelope().getKind() == Kind.PART) {
                    Envelope e = v.envelope();
                    parts.merge(e.getPart().getWholeKind().name(), 1, Integer::sum);
                }
            }, null);
            System.out.printf("large messages | limit %d bytes | largest record %d bytes | parts per kind %s%n", LIMIT,
                sizes.stream().mapToInt(Integer::intValue).max().orElse(0), parts);
            assertThat(sizes).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(LIMIT));
            // 2 students x 6 steps, each message of 10 KB in at least 2 parts.
            assertThat(parts.get("SOFT_TARGETS")).isGreaterThanOrEqualTo(2 * 2 * 6);
            assertThat(parts.get("FEEDBACK")).isGreaterThanOrEqualTo(2 * 2 * 6);

            // The log joins them again: replay rebuilds both students step by step onto the logged hashes.
            RunLog log = RunLog.read(bootstrap, RUN_ID);
            assertThat(log.forged()).isEmpty();
            List<Replay.Verdict> verdicts = Replay.verifyAll(log, log.students(), run.data);
            assertThat(verdicts).allSatisfy(v -> assertThat(v.verified()).as(v.line()).isTrue());
        }
    }

    /**
     * A language model of 32,768 tokens over Kafka at Kafka's default record limit (1,048,588 bytes):
     * each step's dense soft targets and IKD feedback, 64 positions x 32,768 float32 (8 MiB each),
     * cross the broker in parts, every record within the limit, and the student ends on {@code ikd
     * train}'s hash. The teacher is untrained (what is measured here is the wire): its tokenizer is the
     * bundled text's BPE of 300 tokens with merges of byte 0, which never occurs, up to 32,768.
     */
    @Test
    void aLanguageModelOf32768TokensSendsDenseTargetsAndFeedbackInPartsUnderKafkasDefaultLimit() throws Exception {
        int vocab = 32_768;
        Path model = dir.resolve("lm32k").resolve("teacher.safetensors");
        try (NDManager manager = NDManager.newBaseManager()) {
            StringBuilder merges = new StringBuilder(BytePairEncoding.train(LmCorpus.documents("lm:bundled", dir), 300).toText());
            for (int id = 300; id < vocab; id++) {
                merges.append("0 ").append(id - 1).append('\n');
            }
            BytePairEncoding tokenizer = BytePairEncoding.parse(merges.toString());
            assertThat(tokenizer.vocabSize()).isEqualTo(vocab);
            CausalTransformer teacher = CausalTransformer.parse("gpt:1:16:2:16", vocab);
            LanguageModelFile.write(model, "lm32k", teacher, teacher.init(3, DataType.FLOAT32, manager), tokenizer, "lm:bundled", 0, vocab);
        }
        List<String> run = List.of("--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--student", "gpt:1:16:2:16",
            "--students", "1", "--steps", "3", "--batch", "4", "--teacher-mode", "ikd", "--soft-targets", "dense", "--json");
        var reference = IkdCommandLineTest.ikd(java.util.stream.Stream.concat(java.util.stream.Stream.of("train"), run.stream())
            .toArray(String[]::new));
        assertThat(reference.code()).as(reference.err()).isZero();
        Path data = dir.resolve("run32k");
        var local = IkdCommandLineTest.ikd(java.util.stream.Stream.concat(java.util.stream.Stream.of("local", "--run-id", "lm32k",
            "--data-dir", data.toString(), "--metrics-port", "-1"), run.stream()).toArray(String[]::new));
        assertThat(local.code()).as(local.err()).isZero();
        assertThat(hashOf(local.out())).isEqualTo(hashOf(reference.out()));

        Map<String, Integer> parts = new TreeMap<>();
        List<Integer> sizes = new ArrayList<>();
        try (EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(data.resolve("kafka")))) {
            KafkaClients.readFromStart(KafkaAccess.plain(broker.bootstrapServers()), Topics.ALL, "test-large-lm", Duration.ofSeconds(60),
                r -> {
                    sizes.add(r.serializedValueSize());
                    if (r.value() instanceof Decoded.Valid v && v.envelope().getKind() == Kind.PART) {
                        parts.merge(v.envelope().getPart().getWholeKind().name(), 1, Integer::sum);
                    }
                }, null);
        }
        int limit = KafkaTuning.defaults().maxRecordBytes();
        System.out.printf("large messages | language model of %d tokens | limit %d bytes | largest record %d bytes | parts per kind %s%n",
            vocab, limit, sizes.stream().mapToInt(Integer::intValue).max().orElse(0), parts);
        assertThat(sizes).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(limit));
        // 3 steps, each message 8 MiB: at least 8 parts each.
        assertThat(parts.get("SOFT_TARGETS")).isGreaterThanOrEqualTo(3 * 8);
        assertThat(parts.get("FEEDBACK")).isGreaterThanOrEqualTo(3 * 8);
    }

    private static String hashOf(String json) {
        return com.google.gson.JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("students").get(0).getAsJsonObject()
            .get("param_sha256").getAsString();
    }
}
