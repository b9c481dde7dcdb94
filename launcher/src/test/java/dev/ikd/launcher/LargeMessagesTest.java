package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
}
