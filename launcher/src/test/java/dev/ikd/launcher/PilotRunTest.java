package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import dev.ikd.core.learn.Leash;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.runlog.Replay;
import dev.ikd.runlog.RunLog;
import dev.ikd.wiring.Services;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MetaDistil's pilot update over Kafka ({@code --teacher-leash pilot=1}; docs/architecture.md §14):
 * the teacher serves each step's batch again after its exam step, with the next step's soft targets,
 * and the students' real course steps learn from those. The run ends on the in-process hashes, which
 * differ from a run without the pilot, and its log replays.
 */
class PilotRunTest {

    static final String RUN_ID = "pilot";

    @TempDir
    Path dir;

    @Test
    void aPilotRunOverKafkaEndsOnTheInProcessHashesAndReplays() throws Exception {
        try (BrokerRun run = BrokerRun.start(dir, "--dataset", "digits", "--students", "2", "--steps", "12", "--teacher-mode", "ikd",
            "--pretrain-steps", "100", "--teacher-leash", "kl=0.5,clip=0.05,pilot=1")) {
            List<String> reference = run.referenceHashes(run.config);
            TrainConfig plain = run.config.withTeacherConfig(run.config.teacherConfig().withLeash(Leash.parse("kl=0.5,clip=0.05")));
            assertThat(run.referenceHashes(plain).get(0)).as("without the pilot, another trajectory").isNotEqualTo(reference.get(0));

            String bootstrap = run.bootstrap();
            assertThat(BrokerRun.hashes(run.run(Services.Wiring.of(bootstrap, RUN_ID, dir.resolve("state"))))).isEqualTo(reference);

            RunLog log = RunLog.read(bootstrap, RUN_ID);
            assertThat(log.steps("student-0")).hasSize(12).allSatisfy(s -> assertThat(s.softTargets()).singleElement()
                .satisfies(t -> assertThat(t.getStep()).as("step %d's course learned from the next soft targets", s.step())
                    .isEqualTo(s.step() + 1)));
            List<Replay.Verdict> verdicts = Replay.verifyAll(log, log.students(), run.data);
            assertThat(verdicts).allSatisfy(v -> assertThat(v.verified()).as(v.line()).isTrue());
        }
    }
}
