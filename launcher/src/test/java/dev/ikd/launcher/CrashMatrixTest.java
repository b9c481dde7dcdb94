package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

import dev.ikd.coordinator.service.Journal;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The crash matrix (DESIGN §5): broker, coordinator, teacher and two students each in a JVM of its
 * own, checkpointing to a state directory. At a seeded random step one of them is killed with
 * SIGKILL and started again on the same directories. The run finishes, the coordinator's journal
 * (the applied sequence) holds every step of every student exactly once, and the final hashes are
 * those of the in-process run without any crash.
 */
class CrashMatrixTest {

    static final int STEPS = 120;
    static final String[] RUN = {"--dataset", "digits", "--students", "2", "--steps", Integer.toString(STEPS),
        "--teacher-mode", "ikd", "--pretrain-steps", "100"};

    enum Victim { STUDENT, TEACHER, COORDINATOR, BROKER }

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Victim.class)
    void aKilledServiceResumesAndTheRunEndsOnTheUninterruptedHashes(Victim victim) throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        List<String> expected = DistributedRunTest.reference(checkpoint, RUN);
        long killAt = 20 + new Random(7 + victim.ordinal()).nextInt(STEPS - 50);
        String runId = "crash-" + victim.name().toLowerCase(java.util.Locale.ROOT);
        Jvms.Broker broker = Jvms.broker(dir, List.of());
        try {
            List<String> common = DistributedRunTest.with(RUN, "--bootstrap", broker.bootstrap(), "--run-id", runId,
                "--metrics-port", "-1", "--state-dir", dir.resolve("state").toString());
            Map<String, String[]> commands = new TreeMap<>();
            commands.put("coordinator", DistributedRunTest.args("coordinator", common));
            commands.put("teacher", DistributedRunTest.args("teacher", common, "--teacher-checkpoint", checkpoint.toString()));
            commands.put("student-0", DistributedRunTest.args("student", common, "--index", "0", "--json"));
            commands.put("student-1", DistributedRunTest.args("student", common, "--index", "1", "--json"));
            Map<String, Jvms.Jvm> jvms = new HashMap<>();
            for (var c : commands.entrySet()) {
                jvms.put(c.getKey(), Jvms.start(dir, c.getKey(), c.getValue()));
            }

            awaitStep(broker.bootstrap(), runId, 2, killAt, jvms);
            long killed = System.nanoTime();
            switch (victim) {
                case STUDENT -> restart(jvms, commands, "student-1");
                case TEACHER -> restart(jvms, commands, "teacher");
                case COORDINATOR -> restart(jvms, commands, "coordinator");
                case BROKER -> {
                    broker.jvm().process().destroyForcibly().waitFor();
                    broker = Jvms.broker(dir, List.of());
                }
            }
            long next = awaitStep(broker.bootstrap(), runId, 2, killAt + 10, jvms);
            System.out.printf("crash matrix: %s killed at step %d; every student 10 steps further %.1f s after the kill%n", victim,
                killAt,
                (next - killed) / 1e9);

            for (String name : List.of("student-0", "student-1", "coordinator", "teacher")) {
                Jvms.Jvm jvm = jvms.get(name);
                assertThat(jvm.await(300)).as(name + ": " + jvm.stderr()).isZero();
            }
            assertThat(DistributedRunTest.hashOf(jvms.get("student-0").stdout())).isEqualTo(expected.get(0));
            assertThat(DistributedRunTest.hashOf(jvms.get("student-1").stdout())).isEqualTo(expected.get(1));
            assertAppliedOnce(Journal.read(broker.bootstrap(), runId, "crash-test"), 2, STEPS);
        } finally {
            broker.close();
        }
    }

    /** Every student's exam result and teacher update of every step appear exactly once in the journal, in step order. */
    static void assertAppliedOnce(List<JournalEntry> journal, int students, long steps) {
        Map<String, List<Long>> exams = new TreeMap<>();
        Map<String, List<Long>> updates = new TreeMap<>();
        for (JournalEntry j : journal) {
            Envelope e = j.getEvent();
            if (e.getKind() == Kind.EXAM_RESULT) {
                exams.computeIfAbsent(e.getStudentId(), s -> new ArrayList<>()).add(e.getStep());
            } else if (e.getKind() == Kind.TEACHER_UPDATED) {
                updates.computeIfAbsent(e.getStudentId(), s -> new ArrayList<>()).add(e.getStep());
            }
        }
        List<Long> all = java.util.stream.LongStream.range(0, steps).boxed().toList();
        assertThat(exams.keySet()).containsExactlyElementsOf(
            java.util.stream.IntStream.range(0, students).mapToObj(Services::studentId).sorted().toList());
        assertThat(updates.keySet()).isEqualTo(exams.keySet());
        exams.values().forEach(applied -> assertThat(applied).isEqualTo(all));
        updates.values().forEach(applied -> assertThat(applied).isEqualTo(all));
    }

    private static void restart(Map<String, Jvms.Jvm> jvms, Map<String, String[]> commands, String name) throws Exception {
        jvms.get(name).process().destroyForcibly().waitFor();
        jvms.put(name, Jvms.start(jvms.get(name).out().getParent(), name + "-restarted", commands.get(name)));
    }

    /** Waits until every student of the run has logged the exam result of {@code step}; returns when (nanoTime). */
    static long awaitStep(String bootstrap, String runId, int students, long step, Map<String, Jvms.Jvm> jvms) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
        try (var consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(bootstrap, "crash-" + UUID.randomUUID(), "crash-test"),
            new StringDeserializer(), new EnvelopeDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.EXAM_RESULTS, Duration.ofSeconds(60)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<String, Long> reached = new HashMap<>();
            while (System.nanoTime() < deadline) {
                for (var r : consumer.poll(Duration.ofMillis(100))) {
                    if (r.value() instanceof Decoded.Valid v && runId.equals(v.envelope().getRunId())
                        && v.envelope().getKind() == Kind.EXAM_RESULT) {
                        reached.merge(v.envelope().getStudentId(), v.envelope().getStep(), Math::max);
                    }
                }
                if (reached.size() == students && reached.values().stream().allMatch(s -> s >= step)) {
                    return System.nanoTime();
                }
                for (var jvm : jvms.values()) {
                    if (!jvm.process().isAlive() && jvm.process().exitValue() != 0) {
                        throw new AssertionError(jvm.err().getFileName() + " exited with " + jvm.process().exitValue() + ": "
                            + jvm.stderr());
                    }
                }
            }
        }
        throw new AssertionError("run " + runId + " did not reach step " + step + " in 240 s");
    }
}
