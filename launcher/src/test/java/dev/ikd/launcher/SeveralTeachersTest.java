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
import dev.ikd.runlog.RunLog;
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

    static final String[] LATE = {"--dataset", "digits", "--students", "2", "--steps", "60", "--teacher-mode", "ikd",
        "--pretrain-steps", "60", "--teachers", "3", "--teacher-models", "mlp:32:32;mlp:32:32;mlp:32:16",
        "--teacher-weighting", "confidence", "--teachers-required", "2", "--teacher-deadline-ms", "400"};

    /**
     * Teacher-c is killed with SIGKILL mid-run: the students' steps go ahead with the two others once
     * each step's deadline has passed; started again with the same command, teacher-c rejoins. The
     * journal names the steps taken without it, replay verifies every step, and the in-process
     * trainer that follows the journal ends on the same hashes.
     */
    @Test
    void aTeacherKilledMidRunIsDoneWithoutUntilItRejoinsAndTheRunReplaysAndReproducesExactly() throws Exception {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), LATE);
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            List<String> common = DistributedRunTest.with(LATE, "--bootstrap", broker.bootstrap(), "--run-id", "late",
                "--metrics-port", "-1", "--state-dir", dir.resolve("state").toString());
            var coordinator = jvms.start("coordinator", DistributedRunTest.args("coordinator", common));
            String[] teacherC = DistributedRunTest.args("teacher", common, "--teacher-id", "teacher-c");
            var a = jvms.start("teacher-a", DistributedRunTest.args("teacher", common, "--teacher-id", "teacher-a"));
            var b = jvms.start("teacher-b", DistributedRunTest.args("teacher", common, "--teacher-id", "teacher-b"));
            var killed = jvms.start("teacher-c", teacherC);
            var students = jvms.start("students", DistributedRunTest.args("student", common, "--index", "0-1", "--json"));
            awaitStep(killed, 8);
            killed.kill();
            awaitStep(a, 24); // steps go on without teacher-c, each after its deadline
            var restarted = jvms.start("teacher-c-again", teacherC);
            assertThat(students.await(300)).as(students.stderr()).isZero();
            for (var jvm : List.of(a, b, restarted)) {
                assertThat(jvm.await(120)).as(jvm.stderr()).isZero();
            }
            assertThat(coordinator.await(120)).as(coordinator.stderr()).isZero();
            assertThat(coordinator.stdout()).contains("run late complete: 2 students reported");
            List<String> hashes = students.stdout().strip().lines().map(DistributedRunTest::hashOf).toList();

            RunLog log = RunLog.read(broker.bootstrap(), "late");
            for (String student : List.of("student-0", "student-1")) {
                List<RunLog.Step> steps = log.steps(student);
                assertThat(steps).hasSize(60);
                // The journal's exam results name the teachers each step learned from, at the version each had: one
                // update per step that used it. (A step may also have gone without a teacher still starting up.)
                java.util.Map<String, Long> used = new java.util.HashMap<>();
                List<Long> withoutC = new java.util.ArrayList<>();
                for (RunLog.Step s : steps) {
                    var versions = s.examResult().getExamResult().getTeacherVersionsMap();
                    assertThat(versions.size()).as(student + " step " + s.step()).isGreaterThanOrEqualTo(2);
                    for (var v : versions.entrySet()) {
                        assertThat(v.getValue()).as(student + " step " + s.step() + " " + v.getKey())
                            .isEqualTo(used.getOrDefault(v.getKey(), 0L));
                    }
                    versions.keySet().forEach(t -> used.merge(t, 1L, Long::sum));
                    if (!versions.containsKey("teacher-c")) {
                        withoutC.add(s.step());
                    }
                }
                assertThat(withoutC).as(student + ": steps without teacher-c, killed").hasSizeGreaterThanOrEqualTo(5);
                long last = withoutC.get(withoutC.size() - 1);
                assertThat(last).as(student + ": teacher-c rejoined before the end").isLessThan(59);
                assertThat(steps.get((int) last + 1).examResult().getExamResult().getTeacherVersionsMap()).containsKey("teacher-c");
            }
            var replay = jvms.start("replay", "replay", "--bootstrap", broker.bootstrap(), "--run-id", "late", "--verify");
            assertThat(replay.await(120)).as(replay.stderr()).isZero();
            assertThat(replay.stdout()).contains("student-0: 60 of 60 steps verified, every hash matches the log (final "
                + hashes.get(0) + ")").contains("student-1: 60 of 60 steps verified");
            try (NDManager manager = NDManager.newBaseManager()) {
                List<Params> teachers = Teachers.obtainAll(c, data, null, manager, false);
                assertThat(ReferenceTrainer.run(c, data, teachers, null, log.teachersUsed(), manager, StepListener.NONE).students()
                    .stream().map(TrainResult.StudentResult::paramSha256).toList()).as("in process, as the journal says").isEqualTo(hashes);
            }
        }
    }

    /** Waits until {@code teacher} has taken step {@code step} of student-0 (its progress lines say so). */
    static void awaitStep(Jvms.Jvm teacher, int step) throws Exception {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("student-0 step (\\d+)/");
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            var m = p.matcher(teacher.stderr());
            int reached = -1;
            while (m.find()) {
                reached = Integer.parseInt(m.group(1));
            }
            if (reached >= step) {
                return;
            }
            assertThat(teacher.process().isAlive()).as(teacher.stderr()).isTrue();
            Thread.sleep(50);
        }
        throw new AssertionError("no step " + step + " of student-0 in time: " + teacher.stderr());
    }
}
