package dev.ikd.launcher;

import static dev.ikd.launcher.DistributedRunTest.args;
import static dev.ikd.launcher.DistributedRunTest.with;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run whose numbers stop being finite stops, in-process and distributed alike, with exit 1 and
 * one line naming the student, the step and the quantity; distributed, every service exits with it.
 * A student learning rate no step survives makes the first step diverge on any CPU.
 */
class DivergenceTest {

    static final List<String> EXPLODING = List.of("--dataset", "digits", "--steps", "20", "--teacher-mode", "ikd",
        "--pretrain-steps", "30", "--lr", "1e300");
    static final Pattern LINE = Pattern.compile("student-0 diverged at step 0: (the course loss|the exam loss|the feedback d) is \\S+.*");

    @TempDir
    Path dir;

    static String line(String stderr) {
        Matcher m = LINE.matcher(stderr);
        assertThat(m.find()).as(stderr).isTrue();
        return m.group();
    }

    @Test
    void theInProcessRunAndTheDistributedOneStopWithTheSameLine() {
        var train = IkdCommandLineTest.ikd(args("train", EXPLODING));
        assertThat(train.code()).as(train.err()).isEqualTo(1);
        assertThat(train.err().lines().filter(l -> l.startsWith("ikd: ")).toList()).as(train.err())
            .singleElement().asString().startsWith("ikd: run aborted: student-0 diverged at step 0: ");
        String expected = line(train.err());

        long t0 = System.nanoTime();
        var local = IkdCommandLineTest.ikd(args("local", EXPLODING, "--data-dir", dir.resolve("local").toString(), "--run-id", "nan",
            "--metrics-port", "-1"));
        assertThat(local.code()).as(local.err()).isEqualTo(1);
        assertThat(local.err()).contains("ikd: run nan aborted: " + expected);
        assertThat((System.nanoTime() - t0) / 1e9).as("stops on the step, not on a timeout").isLessThan(120);
    }

    @Test
    void everyServiceInItsOwnJvmExitsWithTheLine() throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        assertThat(IkdCommandLineTest.ikd("pretrain", "--dataset", "digits", "--pretrain-steps", "30", "--out", checkpoint.toString())
            .code()).isZero();
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            List<String> common = with(EXPLODING.toArray(String[]::new), "--students", "2", "--bootstrap", broker.bootstrap(),
                "--run-id", "nan", "--metrics-port", "-1");
            var coordinator = jvms.start("coordinator", args("coordinator", common));
            var teacher = jvms.start("teacher", args("teacher", common, "--teacher-checkpoint", checkpoint.toString()));
            var students = jvms.start("students", args("student", common, "--index", "0-1"));
            for (var jvm : List.of(students, coordinator, teacher)) {
                assertThat(jvm.await(180)).as(jvm.stderr()).isEqualTo(1);
            }
            // Both students diverge at their first step; whichever the coordinator hears first names the run's abort.
            String abort = "ikd: run nan aborted: student-[01] diverged at step 0: ";
            assertThat(coordinator.stderr()).containsPattern(abort);
            assertThat(teacher.stderr()).containsPattern(abort);
            assertThat(students.stderr()).containsPattern("student-[01] diverged at step 0: ");
        }
    }
}
