package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.runlog.Replay;
import dev.ikd.runlog.RunLog;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

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
        RunOptions options = CommandLine.populateCommand(new RunOptions(), "--dataset", "digits", "--students", "2", "--steps", "12",
            "--teacher-mode", "ikd", "--pretrain-steps", "100", "--teacher-leash", "kl=0.5,clip=0.05,pilot=1");
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (NDManager manager = NDManager.newBaseManager();
             EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")));
             ServiceHost host = new ServiceHost(4)) {
            Params teacher = Teachers.pretrain(c, data, Network.build(c.teacher(), data), manager, false);
            List<String> reference = ReferenceTrainer.run(c, data, teacher, manager, StepListener.NONE).students().stream()
                .map(TrainResult.StudentResult::paramSha256).toList();
            TrainConfig plain = c.withTeacherConfig(c.teacherConfig().withLeash(dev.ikd.core.learn.Leash.parse("kl=0.5,clip=0.05")));
            assertThat(ReferenceTrainer.run(plain, data, teacher, manager, StepListener.NONE).students().get(0).paramSha256())
                .as("without the pilot, another trajectory").isNotEqualTo(reference.get(0));

            String bootstrap = broker.bootstrapServers();
            LocalRun.Outcome outcome = LocalRun.run(c, data, teacher, Services.Wiring.of(bootstrap, RUN_ID, dir.resolve("state")), host,
                manager, 300);
            assertThat(outcome.students()).extracting(TrainResult.StudentResult::paramSha256).containsExactlyElementsOf(reference);

            RunLog log = RunLog.read(bootstrap, RUN_ID);
            assertThat(log.steps("student-0")).hasSize(12).allSatisfy(s -> assertThat(s.softTargets()).singleElement()
                .satisfies(t -> assertThat(t.getStep()).as("step %d's course learned from the next soft targets", s.step())
                    .isEqualTo(s.step() + 1)));
            List<Replay.Verdict> verdicts = Replay.verifyAll(log, log.students(), data);
            assertThat(verdicts).allSatisfy(v -> assertThat(v.verified()).as(v.line()).isTrue());
        }
    }
}
