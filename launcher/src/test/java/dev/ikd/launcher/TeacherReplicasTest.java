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
}
