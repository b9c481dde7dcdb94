package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.ikd.coordinator.service.Journal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many students, two teacher replicas (issue: many students per teacher): the replicas form one
 * consumer group, so the students' partitions are spread over them. Mid-run one replica is killed
 * with SIGKILL; after its session lapses the other takes its partitions, loads those students'
 * latest checkpoints from the shared state directory and continues. Every student finishes every
 * step, the journal holds each step exactly once, and the hashes are those of the in-process run.
 */
class TeacherReplicasTest {

    static final int STUDENTS = 6;
    static final int STEPS = 60;
    static final String[] RUN = {"--dataset", "digits", "--students", Integer.toString(STUDENTS), "--steps",
        Integer.toString(STEPS), "--teacher-mode", "ikd", "--pretrain-steps", "100"};

    @TempDir
    Path dir;

    @Test
    void aKilledReplicasStudentsAreTakenOverAndEndOnTheUninterruptedHashes() throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        List<String> expected = DistributedRunTest.reference(checkpoint, RUN);
        try (Jvms fleet = new Jvms(dir)) {
            Jvms.Broker broker = fleet.broker(List.of());
            List<String> common = DistributedRunTest.with(RUN, "--bootstrap", broker.bootstrap(), "--run-id", "replicas",
                "--metrics-port", "-1", "--state-dir", dir.resolve("state").toString());
            Map<String, Jvms.Jvm> jvms = new HashMap<>();
            jvms.put("coordinator", fleet.start("coordinator", DistributedRunTest.args("coordinator", common)));
            for (String replica : List.of("a", "b")) {
                jvms.put("teacher-" + replica, fleet.start("teacher-" + replica, DistributedRunTest.args("teacher", common,
                    "--teacher-checkpoint", checkpoint.toString(), "--replica", replica)));
            }
            for (int i = 0; i < STUDENTS; i++) {
                jvms.put("student-" + i, fleet.start("student-" + i, DistributedRunTest.args("student", common, "--index",
                    Integer.toString(i), "--json")));
            }
            try (CrashMatrixTest.Progress progress = new CrashMatrixTest.Progress(broker.bootstrap(), "replicas", STUDENTS)) {
                progress.await(15, jvms);
            }
            jvms.remove("teacher-b").kill();
            int logBeforeKill = jvms.get("teacher-a").stderr().length();

            for (int i = 0; i < STUDENTS; i++) {
                Jvms.Jvm s = jvms.get("student-" + i);
                assertThat(s.await(300)).as("student-" + i + ": " + s.stderr()).isZero();
                assertThat(DistributedRunTest.hashOf(s.stdout())).as("student-" + i).isEqualTo(expected.get(i));
            }
            for (String name : List.of("coordinator", "teacher-a")) {
                assertThat(jvms.get(name).await(120)).as(name + ": " + jvms.get(name).stderr()).isZero();
            }
            CrashMatrixTest.assertAppliedOnce(Journal.applied(dev.ikd.proto.kafka.KafkaAccess.plain(broker.bootstrap()), "replicas", "replicas-test"), STUDENTS, STEPS);
            // The survivor says which students it took over from the killed replica's checkpoints.
            Matcher tookOver = Pattern.compile("teacher-a: resumed (student-\\d) from its saved state").matcher(
                jvms.get("teacher-a").stderr().substring(logBeforeKill));
            assertThat(tookOver.find()).as(jvms.get("teacher-a").stderr()).isTrue();
            System.out.printf("teacher replicas: teacher-b killed at step 15; teacher-a took over %s and others%n", tookOver.group(1));
        }
    }

    /**
     * The same for a language model's run (IKD through topk:8, the teacher's φ per student in its
     * checkpoints): two replicas of {@code ikd teacher} on the teacher's file, one killed mid-run; the
     * survivor takes its students over from their checkpoints and every student ends on {@code ikd
     * train}'s hash.
     */
    @Test
    void aLanguageModelsKilledReplicaIsTakenOverAndTheStudentsEndOnTrainsHashes() throws Exception {
        Path model = dir.resolve("models").resolve("teacher.safetensors");
        LanguageModelTest.pretrain(model, 100);
        List<String> run = List.of("--dataset", "lm:bundled", "--student", "gpt:1:16:2:16", "--students", "4", "--steps", "60",
            "--batch", "4", "--teacher-mode", "ikd", "--soft-targets", "topk:8");
        String[] file = {"--teacher-checkpoint", model.toString()};
        var inProcess = IkdCommandLineTest.ikd(java.util.stream.Stream.concat(java.util.stream.Stream.of("train", "--json", file[0], file[1]),
            run.stream()).toArray(String[]::new));
        assertThat(inProcess.code()).as(inProcess.err()).isZero();
        var reference = com.google.gson.JsonParser.parseString(inProcess.out()).getAsJsonObject().getAsJsonArray("students");
        try (Jvms fleet = new Jvms(dir)) {
            Jvms.Broker broker = fleet.broker(List.of());
            List<String> common = DistributedRunTest.with(run.toArray(String[]::new), "--bootstrap", broker.bootstrap(), "--run-id",
                "lm-replicas", "--metrics-port", "-1", "--state-dir", dir.resolve("lm-state").toString());
            Map<String, Jvms.Jvm> jvms = new HashMap<>();
            jvms.put("coordinator", fleet.start("coordinator", DistributedRunTest.args("coordinator", common, file)));
            for (String replica : List.of("a", "b")) {
                jvms.put("teacher-" + replica, fleet.start("teacher-" + replica, DistributedRunTest.args("teacher", common, "--replica",
                    replica, file[0], file[1])));
            }
            jvms.put("students", fleet.start("students", DistributedRunTest.args("student", common, "--index", "0-3", "--json", file[0],
                file[1])));
            try (CrashMatrixTest.Progress progress = new CrashMatrixTest.Progress(broker.bootstrap(), "lm-replicas", 4)) {
                progress.await(10, jvms);
            }
            jvms.remove("teacher-b").kill();
            int logBeforeKill = jvms.get("teacher-a").stderr().length();

            Jvms.Jvm students = jvms.get("students");
            assertThat(students.await(300)).as(students.stderr()).isZero();
            List<String> lines = students.stdout().strip().lines().toList();
            assertThat(lines).hasSize(4);
            for (int i = 0; i < 4; i++) {
                assertThat(com.google.gson.JsonParser.parseString(lines.get(i)).getAsJsonObject().get("param_sha256").getAsString())
                    .as("student-" + i).isEqualTo(reference.get(i).getAsJsonObject().get("param_sha256").getAsString());
            }
            for (String name : List.of("coordinator", "teacher-a")) {
                assertThat(jvms.get(name).await(120)).as(name + ": " + jvms.get(name).stderr()).isZero();
            }
            CrashMatrixTest.assertAppliedOnce(Journal.applied(dev.ikd.proto.kafka.KafkaAccess.plain(broker.bootstrap()), "lm-replicas",
                "lm-replicas-test"), 4, 60);
            Matcher tookOver = Pattern.compile("teacher-a: resumed (student-\\d) from its saved state").matcher(
                jvms.get("teacher-a").stderr().substring(logBeforeKill));
            assertThat(tookOver.find()).as(jvms.get("teacher-a").stderr()).isTrue();
            System.out.printf("language-model teacher replicas: teacher-b killed at step 10; teacher-a took over %s and others%n",
                tookOver.group(1));
        }
    }
}
