package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Teachers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Three teachers of different sizes, each a service in a JVM of its own, weighed per sample by
 * confidence for two students: the students end on the in-process reference's hashes bit for bit,
 * each teacher learned from its own share of the feedback, and the log replays to the same hashes.
 */
class SeveralTeachersTest {

    static final String[] RUN = {"--dataset", "digits", "--students", "2", "--steps", "40", "--teacher-mode", "ikd",
        "--pretrain-steps", "100", "--teachers", "3", "--teacher-models", "mlp:32:64;mlp:32:32;mlp:32:16",
        "--teacher-weighting", "confidence"};

    @TempDir
    Path dir;

    @Test
    void threeTeachersInJvmsOfTheirOwnEndOnTheInProcessHashesAndTheLogReplays() throws Exception {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), RUN);
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        List<String> expected;
        try (NDManager manager = NDManager.newBaseManager()) {
            List<Params> teachers = Teachers.obtainAll(c, data, null, manager, false);
            expected = ReferenceTrainer.run(c, data, teachers, manager, StepListener.NONE).students().stream()
                .map(TrainResult.StudentResult::paramSha256).toList();
        }
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            List<String> common = DistributedRunTest.with(RUN, "--bootstrap", broker.bootstrap(), "--run-id", "three",
                "--metrics-port", "-1", "--state-dir", dir.resolve("state").toString());
            var coordinator = jvms.start("coordinator", DistributedRunTest.args("coordinator", common));
            List<Jvms.Jvm> teachers = new java.util.ArrayList<>();
            for (String id : List.of("teacher-a", "teacher-b", "teacher-c")) {
                teachers.add(jvms.start(id, DistributedRunTest.args("teacher", common, "--teacher-id", id)));
            }
            var students = jvms.start("students", DistributedRunTest.args("student", common, "--index", "0-1", "--json"));
            assertThat(students.await(240)).as(students.stderr()).isZero();
            for (var jvm : teachers) {
                assertThat(jvm.await(120)).as(jvm.stderr()).isZero();
            }
            assertThat(coordinator.await(120)).as(coordinator.stderr()).isZero();
            assertThat(students.stdout().strip().lines().map(DistributedRunTest::hashOf).toList()).isEqualTo(expected);
            assertThat(coordinator.stdout()).contains("run three complete: 2 students reported");
            for (var t : teachers) {
                assertThat(t.stderr()).as("each teacher took its students' steps").contains("student-1 step 40/40");
            }
            var replay = jvms.start("replay", "replay", "--bootstrap", broker.bootstrap(), "--run-id", "three", "--verify");
            assertThat(replay.await(120)).as(replay.stderr()).isZero();
            assertThat(replay.stdout()).contains("student-0: 40 of 40 steps verified, every hash matches the log (final "
                + expected.get(0) + ")").contains("student-1: 40 of 40 steps verified");
            // The teacher one of several shaped for a student, from that teacher's own checkpoint.
            var export = jvms.start("export", "export", "--bootstrap", broker.bootstrap(), "--run-id", "three", "--teacher-of",
                "student-1", "--teacher-id", "teacher-c", "--state-dir", dir.resolve("state").toString(), "--out",
                dir.resolve("c.safetensors").toString(), "--json");
            assertThat(export.await(120)).as(export.stderr()).isZero();
            assertThat(export.stdout()).contains("\"model\":\"teacher-c/student-1\"").contains("\"spec\":\"mlp:32:16\"");
        }
    }
}
