package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonParser;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.StepListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Teachers;

/**
 * docs/architecture.md §1's promise, end to end: broker, coordinator, teacher and two students, each in a JVM of
 * its own and talking only through Kafka, end on exactly the parameter hashes of the in-process
 * reference trainer with the same seeds.
 */
class DistributedRunTest {

    /** IKD with every brake of the teacher's leash on: the braked teacher steps are as pure as the plain ones. */
    static final String[] RUN = {"--dataset", "digits", "--students", "2", "--steps", "50", "--teacher-mode", "ikd",
        "--pretrain-steps", "100", "--teacher-leash", "kl=0.5,warmup=10,decay=cosine,clip=0.05,every=3"};

    @TempDir
    Path dir;

    /** Pretrains a teacher (saved to {@code checkpoint} for the services) and returns the in-process final hashes. */
    static List<String> reference(Path checkpoint, String... args) {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), args);
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (NDManager manager = NDManager.newBaseManager()) {
            Params teacher = Teachers.pretrain(c, data, Network.build(c.teacher(), data), manager, false);
            Teachers.save(checkpoint, c, data, teacher);
            TrainResult r = ReferenceTrainer.run(c, data, teacher, manager, StepListener.NONE);
            return r.students().stream().map(TrainResult.StudentResult::paramSha256).toList();
        }
    }

    static List<String> with(String[] base, String... more) {
        List<String> all = new ArrayList<>(List.of(base));
        all.addAll(List.of(more));
        return all;
    }

    @Test
    void separateJvmsEndOnTheInProcessHashes() throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        List<String> expected = reference(checkpoint, RUN);
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            List<String> common = with(RUN, "--bootstrap", broker.bootstrap(), "--run-id", "e2e", "--metrics-port", "-1",
                "--progress-every", "25");
            var coordinator = jvms.start("coordinator", args("coordinator", common));
            var teacher = jvms.start("teacher", args("teacher", common, "--teacher-checkpoint", checkpoint.toString()));
            var s0 = jvms.start("student-0", args("student", common, "--index", "0", "--json"));
            var s1 = jvms.start("student-1", args("student", common, "--index", "1", "--json"));
            for (var jvm : List.of(s0, s1, coordinator, teacher)) {
                assertThat(jvm.await(240)).as(jvm.stderr()).isZero();
            }
            assertThat(hashOf(s0.stdout())).isEqualTo(expected.get(0));
            assertThat(hashOf(s1.stdout())).isEqualTo(expected.get(1));
            assertThat(coordinator.stdout()).contains("run e2e complete: 2 students reported");
            // Every service's progress lines, every 25 steps of each student.
            assertThat(coordinator.stderr()).containsPattern("ikd coordinator: run e2e student-1 step 25/50 course loss \\S+ exam loss "
                + "\\S+ exam acc \\S+").contains("ikd coordinator: run e2e student-0 step 50/50");
            assertThat(teacher.stderr()).contains("ikd teacher: run e2e student-0 step 25/50 course loss");
            assertThat(s1.stderr()).contains("student-1 step 25/50 course").contains("student-1 step 50/50 course");
        }
    }

    /** Classic KD over the wire: the teacher streams soft targets ahead (--prefetch 4), one JVM hosts both students. */
    @Test
    void aRangeOfStudentsInOneJvmWithAFrozenPrefetchingTeacherEndsOnTheInProcessHashes() throws Exception {
        String[] frozen = {"--dataset", "digits", "--students", "3", "--steps", "40", "--teacher-mode", "frozen",
            "--pretrain-steps", "100"};
        Path checkpoint = dir.resolve("teacher.ckpt");
        List<String> expected = reference(checkpoint, frozen);
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            List<String> common = with(frozen, "--bootstrap", broker.bootstrap(), "--run-id", "range", "--metrics-port", "-1",
                "--prefetch", "4");
            var coordinator = jvms.start("coordinator", args("coordinator", common));
            var teacher = jvms.start("teacher", args("teacher", common, "--teacher-checkpoint", checkpoint.toString()));
            var students = jvms.start("students-0-2", args("student", common, "--index", "0-2", "--json"));
            for (var jvm : List.of(students, coordinator, teacher)) {
                assertThat(jvm.await(240)).as(jvm.stderr()).isZero();
            }
            assertThat(students.stdout().strip().lines().map(DistributedRunTest::hashOf).toList()).isEqualTo(expected);
            assertThat(coordinator.stdout()).contains("run range complete: 3 students reported");
        }
    }

    static String[] args(String command, List<String> common, String... more) {
        List<String> all = new ArrayList<>();
        all.add(command);
        all.addAll(dev.ikd.wiring.RunOptionTable.forCommand(command, common)); // a service is given the run options it takes
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static String hashOf(String json) {
        return JsonParser.parseString(json.strip()).getAsJsonObject().get("param_sha256").getAsString();
    }
}
