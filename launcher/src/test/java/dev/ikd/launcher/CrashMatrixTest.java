package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.ikd.coordinator.service.Journal;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.processor.FaultPoints;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import dev.ikd.wiring.Services;

/**
 * The crash matrix (docs/architecture.md §6): broker, coordinator, teacher and
 * two students each in a JVM of its own, checkpointing to a state directory. For every fault point,
 * one run in which student-1, the teacher and the coordinator each halt there (as if killed with
 * SIGKILL) at a different step, deterministically, and are started again with the same command; and
 * a run in which the broker is killed and restarted on its log. Every run finishes, the coordinator's
 * journal holds every step of every student exactly once, and the final hashes are those of the
 * in-process run without any crash. Each restart's recovery time is printed as a table row.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class CrashMatrixTest {

    static final int STEPS = 90;
    static final String[] RUN = {"--dataset", "digits", "--students", "2", "--steps", Integer.toString(STEPS),
        "--teacher-mode", "ikd", "--pretrain-steps", "100", "--teacher-leash", "every=3,kl=0.5"};
    /** Where each service halts, every role and each student: staggered, so every crash happens with the others running. */
    static final Map<String, Integer> HALT_AT = Map.of("student-1", 15, "student-0", 28, "teacher", 40, "coordinator", 65);
    /** Where the broker is killed, and how far the students must get before the run is checked again. */
    static final int KILL_BROKER_AT = 30;
    static final int RECOVERED_AFTER = 5;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(FaultPoints.Point.class)
    void aServiceHaltedAtAFaultPointResumesAndTheRunEndsOnTheUninterruptedHashes(FaultPoints.Point point) throws Exception {
        haltEachServiceOnceAndCheck(point, RUN, "crash-" + point.cliName());
    }

    /**
     * The pilot update keeps more between records (the student the exam of the step it piloted, the
     * teacher the updated soft targets it served): every service halted just after a checkpoint
     * resumes from it, and the run still ends on the in-process hashes.
     */
    @Test
    void aPilotRunHaltedAfterEachCheckpointResumesAndEndsOnTheUninterruptedHashes() throws Exception {
        String[] pilot = RUN.clone();
        pilot[pilot.length - 1] = "every=3,kl=0.5,pilot=1";
        haltEachServiceOnceAndCheck(FaultPoints.Point.AFTER_CHECKPOINT, pilot, "crash-pilot");
    }

    /**
     * A language model's run (IKD over top-K, the teacher on a leash that gathers three steps): every
     * service halted just after a checkpoint resumes from it (θ and its momentum, the teacher's φ copy
     * and what it gathered, the bytes counted so far), and the students end on {@code ikd train}'s hashes.
     */
    @Test
    void aLanguageModelRunHaltedAfterEachCheckpointResumesAndEndsOnTheInProcessHashes() throws Exception {
        Path model = dir.resolve("lm").resolve("teacher.safetensors");
        LanguageModelTest.pretrain(model, 100);
        String[] run = {"--dataset", "lm:bundled", "--students", "2", "--steps", Integer.toString(STEPS), "--batch", "4",
            "--teacher-mode", "ikd", "--soft-targets", "topk:8", "--student", "gpt:1:16:2:16", "--teacher-leash", "every=3,kl=0.5"};
        var train = IkdCommandLineTest.ikd(concat(new String[] {"train", "--teacher-checkpoint", model.toString(), "--json"}, run));
        assertThat(train.code()).as(train.err()).isZero();
        List<String> expected = new java.util.ArrayList<>();
        com.google.gson.JsonParser.parseString(train.out()).getAsJsonObject().getAsJsonArray("students")
            .forEach(s -> expected.add(s.getAsJsonObject().get("param_sha256").getAsString()));
        haltEachServiceOnceAndCheck(FaultPoints.Point.AFTER_CHECKPOINT, run, "crash-lm", expected, model);
    }

    private void haltEachServiceOnceAndCheck(FaultPoints.Point point, String[] run, String runId) throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        haltEachServiceOnceAndCheck(point, run, runId, DistributedRunTest.reference(checkpoint, run), checkpoint);
    }

    /** With a language model's {@code checkpoint} (a .safetensors file), every service is given it: its tokenizer reads the corpus. */
    private void haltEachServiceOnceAndCheck(FaultPoints.Point point, String[] run, String runId, List<String> expected, Path checkpoint)
        throws Exception {
        StringBuilder spec = new StringBuilder();
        HALT_AT.forEach((service, step) -> spec.append(spec.length() == 0 ? "" : ",").append(service).append(':')
            .append(point.cliName()).append(':').append(step));
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            Map<String, String[]> commands = commands(run, broker.bootstrap(), runId, checkpoint);
            Map<String, Jvms.Jvm> running = startAll(jvms, commands, Map.of(FaultPoints.ENVIRONMENT, spec.toString()));
            try (Progress progress = new Progress(broker.bootstrap(), runId)) {
                Map<String, Halt> halted = supervise(jvms, running, commands, progress);
                assertThat(halted.keySet()).as("every armed service halted at its fault point").isEqualTo(HALT_AT.keySet());
                for (var h : halted.entrySet()) {
                    System.out.printf(Locale.ROOT, "crash matrix | %s | %s | step %d | %.1f s%n", point.cliName(), h.getKey(),
                        HALT_AT.get(h.getKey()), progress.recovery(h.getValue()) / 1e9);
                }
            }
            assertUninterrupted(running, expected, broker.bootstrap(), runId);
        }
    }

    @Test
    void aKilledBrokerRestartedOnItsLogLosesNothing() throws Exception {
        String runId = "crash-broker";
        Path checkpoint = dir.resolve("teacher.ckpt");
        List<String> expected = DistributedRunTest.reference(checkpoint, RUN);
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            Map<String, String[]> commands = commands(RUN, broker.bootstrap(), runId, checkpoint);
            Map<String, Jvms.Jvm> running = startAll(jvms, commands, Map.of());
            Halt killed;
            try (Progress progress = new Progress(broker.bootstrap(), runId)) {
                progress.await(KILL_BROKER_AT, running);
                killed = progress.halt();
            }
            broker.jvm().kill();
            broker = jvms.broker(List.of()); // the same port: the data dir remembers it
            try (Progress progress = new Progress(broker.bootstrap(), runId)) {
                progress.await(KILL_BROKER_AT + RECOVERED_AFTER, running);
                System.out.printf(Locale.ROOT, "crash matrix | kill -9 | broker | step %d | %.1f s%n", KILL_BROKER_AT,
                    progress.recovery(killed) / 1e9);
            }
            for (var e : running.entrySet()) {
                assertThat(e.getValue().await(300)).as(e.getKey() + ": " + e.getValue().stderr()).isZero();
            }
            assertUninterrupted(running, expected, broker.bootstrap(), runId);
        }
    }

    private Map<String, String[]> commands(String[] run, String bootstrap, String runId, Path checkpoint) {
        List<String> common = DistributedRunTest.with(run, "--bootstrap", bootstrap, "--run-id", runId,
            "--metrics-port", "-1", "--state-dir", dir.resolve("state").toString());
        Map<String, String[]> commands = new TreeMap<>();
        String[] file = {"--teacher-checkpoint", checkpoint.toString()};
        String[] none = {};
        String[] tokenizer = checkpoint.toString().endsWith(".safetensors") ? file : none;
        commands.put("coordinator", DistributedRunTest.args("coordinator", common, tokenizer));
        commands.put("teacher", DistributedRunTest.args("teacher", common, file));
        commands.put("student-0", DistributedRunTest.args("student", common, concat(tokenizer, "--index", "0", "--json")));
        commands.put("student-1", DistributedRunTest.args("student", common, concat(tokenizer, "--index", "1", "--json")));
        return commands;
    }

    private static String[] concat(String[] first, String... more) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(first), java.util.Arrays.stream(more)).toArray(String[]::new);
    }

    private static Map<String, Jvms.Jvm> startAll(Jvms jvms, Map<String, String[]> commands, Map<String, String> env)
        throws java.io.IOException {
        Map<String, Jvms.Jvm> running = new TreeMap<>();
        for (var c : commands.entrySet()) {
            running.put(c.getKey(), jvms.start(c.getKey(), List.of(), env, c.getValue()));
        }
        return running;
    }

    /**
     * Waits for every service to exit 0. One that halts at its fault point (exit 137) is started
     * again at once with the same command and no fault; anything else failing fails the test.
     * Returns when each service halted, and how far each student had got then.
     */
    private static Map<String, Halt> supervise(Jvms jvms, Map<String, Jvms.Jvm> running, Map<String, String[]> commands,
                                               Progress progress) throws Exception {
        Map<String, Halt> halted = new TreeMap<>();
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        while (running.values().stream().anyMatch(j -> j.process().isAlive())) {
            for (var e : running.entrySet()) {
                Process p = e.getValue().process();
                if (p.isAlive()) {
                    continue;
                }
                if (p.exitValue() == FaultPoints.EXIT_CODE && !halted.containsKey(e.getKey())) {
                    progress.poll();
                    halted.put(e.getKey(), progress.halt());
                    assertThat(e.getValue().stderr()).contains("halts at fault point");
                    e.setValue(jvms.start(e.getKey() + "-restarted", commands.get(e.getKey())));
                } else if (p.exitValue() != 0) {
                    throw new AssertionError(e.getKey() + " exited with " + p.exitValue() + ": " + e.getValue().stderr());
                }
            }
            progress.poll();
            assertThat(System.nanoTime()).as("the run did not finish in 4 minutes").isLessThan(deadline);
        }
        for (var e : running.entrySet()) {
            assertThat(e.getValue().process().exitValue()).as(e.getKey() + ": " + e.getValue().stderr()).isZero();
        }
        progress.drain();
        return halted;
    }

    /** The students end on the hashes of the run without crashes, and the journal holds every step of each exactly once. */
    private static void assertUninterrupted(Map<String, Jvms.Jvm> running, List<String> expected, String bootstrap, String runId)
        throws Exception {
        assertThat(DistributedRunTest.hashOf(running.get("student-0").stdout())).isEqualTo(expected.get(0));
        assertThat(DistributedRunTest.hashOf(running.get("student-1").stdout())).isEqualTo(expected.get(1));
        assertAppliedOnce(Journal.applied(dev.ikd.proto.kafka.KafkaAccess.plain(bootstrap), runId, "crash-test"), 2, STEPS);
        assertEachStudentAppliedEachStepOnce(dev.ikd.proto.kafka.KafkaAccess.plain(bootstrap), runId, 2, STEPS);
    }

    /**
     * What each student applied, counted from its own records: every step's exam results (a record
     * sent again after a crash among them) name one parameter hash, so no step was learned twice on
     * two states, and every step is there.
     */
    static void assertEachStudentAppliedEachStepOnce(dev.ikd.proto.kafka.KafkaAccess kafka, String runId, int students, long steps) {
        Map<String, Map<Long, java.util.Set<String>>> hashes = new TreeMap<>();
        KafkaClients.readFromStart(kafka, List.of(Topics.EXAM_RESULTS), "crash-test-applied", Duration.ofSeconds(60), r -> {
            if (r.value() instanceof Decoded.Valid v && runId.equals(v.envelope().getRunId())
                && v.envelope().getKind() == Kind.EXAM_RESULT) {
                hashes.computeIfAbsent(v.envelope().getStudentId(), k -> new TreeMap<>())
                    .computeIfAbsent(v.envelope().getStep(), k -> new java.util.TreeSet<>())
                    .add(v.envelope().getExamResult().getParamSha256());
            }
        }, null);
        assertThat(hashes).hasSize(students);
        hashes.forEach((student, bySteps) -> {
            assertThat(bySteps.keySet()).as(student + "'s steps").containsExactlyElementsOf(
                java.util.stream.LongStream.range(0, steps).boxed().toList());
            bySteps.forEach((step, distinct) -> assertThat(distinct).as(student + " step " + step + " applied once").hasSize(1));
        });
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

    /** When a service stopped (nanoTime), and the last step each student had done then. */
    record Halt(long atNanos, Map<String, Long> reached) {
    }

    /**
     * Follows a run's exam results: when (nanoTime) each student first did each step. A service has
     * recovered from a halt once every student has done a step it had not done at the halt: the
     * whole run is moving again.
     */
    static final class Progress implements AutoCloseable {
        private final KafkaConsumer<String, Decoded> consumer;
        private final String runId;
        private final int students;
        private final Map<String, TreeMap<Long, Long>> firstSeen = new ConcurrentHashMap<>();

        Progress(String bootstrap, String runId) {
            this(bootstrap, runId, 2);
        }

        Progress(String bootstrap, String runId, int students) {
            this.runId = runId;
            this.students = students;
            this.consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(dev.ikd.proto.kafka.KafkaAccess.plain(bootstrap), "crash-" + UUID.randomUUID(), "crash-test"),
                new StringDeserializer(), new EnvelopeDeserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.EXAM_RESULTS, Duration.ofSeconds(60)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        void poll() {
            for (var r : consumer.poll(Duration.ofMillis(50))) {
                if (r.value() instanceof Decoded.Valid v && runId.equals(v.envelope().getRunId())
                    && v.envelope().getKind() == Kind.EXAM_RESULT) {
                    firstSeen.computeIfAbsent(v.envelope().getStudentId(), s -> new TreeMap<>())
                        .putIfAbsent(v.envelope().getStep(), System.nanoTime());
                }
            }
        }

        /** Reads what is left (the run is over). */
        void drain() {
            for (int i = 0; i < 20; i++) {
                poll();
            }
        }

        /** Now, and each student's last step done. */
        Halt halt() {
            Map<String, Long> reached = new TreeMap<>();
            firstSeen.forEach((s, steps) -> reached.put(s, steps.isEmpty() ? -1 : steps.lastKey()));
            return new Halt(System.nanoTime(), reached);
        }

        /** Nanoseconds from the halt until every student had done a step past the one it was at then. */
        long recovery(Halt h) {
            long last = h.atNanos();
            for (int i = 0; i < students; i++) {
                String s = Services.studentId(i);
                long at = h.reached().getOrDefault(s, -1L);
                Map.Entry<Long, Long> next = firstSeen.getOrDefault(s, new TreeMap<>()).higherEntry(at);
                if (next == null) {
                    throw new AssertionError(s + " made no step after step " + at);
                }
                last = Math.max(last, next.getValue());
            }
            return last - h.atNanos();
        }

        private boolean allReached(long step) {
            return firstSeen.size() == students && firstSeen.values().stream().allMatch(m -> !m.isEmpty() && m.lastKey() >= step);
        }

        void await(long step, Map<String, Jvms.Jvm> jvms) throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
            while (!allReached(step)) {
                poll();
                for (var e : jvms.entrySet()) {
                    if (!e.getValue().process().isAlive() && e.getValue().process().exitValue() != 0) {
                        throw new AssertionError(e.getKey() + " exited with " + e.getValue().process().exitValue() + ": "
                            + e.getValue().stderr());
                    }
                }
                assertThat(System.nanoTime()).as("run " + runId + " did not reach step " + step).isLessThan(deadline);
            }
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
