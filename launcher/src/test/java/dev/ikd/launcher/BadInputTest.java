package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.regex.Pattern;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.Tensor;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.checkpoint.CheckpointFiles;
import dev.ikd.runtime.checkpoint.UnusableCheckpointException;
import dev.ikd.student.StudentService;
import dev.ikd.student.protocol.StudentMachine;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Services;

/**
 * Bad input, one row per kind (issue: replay and recovery): while a real run goes on, an intruder
 * sends each row's records. Each ends on {@code ikd.dead-letter} with its reason (or, for an
 * enrollment on other terms, a refusal to that student; for another run, a skip that is counted),
 * the run goes on, and it ends on the hashes of an undisturbed run: no bad message changed any state.
 */
class BadInputTest {

    static final String RUN_ID = "wire";
    static final int LIMIT = 1 << 20;
    static final int STEPS = 40;
    /** A step no student reaches before the intruder's records are read (they go out at step 4). */
    static final int FUTURE = 35;
    /** A repeat of step 2's feedback that arrives after the teacher applied step 3 is refused as stale instead. */
    static final String LATE = "^stale feedback: step 2 of student-0 was applied long ago$";

    /** When a row's records go out: right after student-0's Feedback(2), or after its ExamResult(4). */
    enum When { FEEDBACK_2, EXAM_4 }

    /**
     * @param expected what comes back: dead-letter reasons (regular expressions), one per record that must be dead-lettered
     */
    record Row(String input, When when, Function<Envelope, List<ProducerRecord<String, byte[]>>> records, List<String> expected) {
    }

    static final List<Row> ROWS = List.of(
        new Row("malformed protobuf bytes", When.EXAM_4,
            t -> List.of(raw(Topics.FEEDBACK, "student-0", "no envelope at all".getBytes(StandardCharsets.UTF_8))),
            List.of("^not a protobuf Envelope")),
        new Row("unknown schema version", When.EXAM_4,
            t -> List.of(record(header("student-0", 5, Kind.EXAM_RESULT).setSchemaVersion(2)
                .setExamResult(ExamResult.newBuilder().setParamSha256("00")).build())),
            List.of("^unknown schema version 2 \\(this build reads 1\\)$")),
        new Row("tensor shape not matching the batch", When.EXAM_4,
            t -> List.of(record(softTargets(FUTURE, 1_000, TensorCodec.encode(new float[31 * 10], 31, 10)))),
            List.of("^soft targets: shape \\[31, 10\\], the batch needs \\[32, 10\\]$")),
        new Row("byte length not matching the shape", When.EXAM_4,
            t -> List.of(record(softTargets(FUTURE, 1_000, Tensor.newBuilder().addShape(32).addShape(10)
                .setData(ByteString.copyFrom(new byte[100])).build()))),
            List.of("^tensor data has 100 bytes but shape \\[32, 10\\] needs 1280$")),
        new Row("NaN in soft targets", When.EXAM_4,
            t -> List.of(record(softTargets(FUTURE, 1_000, TensorCodec.encode(withAt(320, 3, Float.NaN), 32, 10)))),
            List.of("^tensor element \\[0, 3\\] is NaN; finite values required$")),
        new Row("Inf in feedback", When.EXAM_4,
            t -> List.of(record(header("student-0", 4, Kind.FEEDBACK).setFeedback(Feedback.newBuilder()
                .setD(TensorCodec.encode(withAt(320, 0, Float.POSITIVE_INFINITY), 32, 10))).build())),
            List.of("^tensor element \\[0, 0\\] is Infinity; finite values required$")),
        new Row("unknown run (skipped and counted: runs share the topics)", When.EXAM_4,
            t -> List.of(record(Envelopes.header("no-such-run", "student-0", 5, Kind.EXAM_RESULT, "intruder", Clock.systemUTC())
                .setExamResult(ExamResult.newBuilder().setParamSha256("00")).build())),
            List.of()),
        new Row("unknown student", When.EXAM_4,
            t -> List.of(record(header("student-7", 0, Kind.FEEDBACK).setFeedback(Feedback.newBuilder()
                    .setD(TensorCodec.encode(new float[10], 1, 10))).build()),
                record(header("student-7", 0, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setParamSha256("00")).build())),
            List.of("^unknown student student-7 \\(not admitted, or finished\\)$", "^unknown student student-7$")),
        // The exact duplicate is answered with the recorded TeacherUpdated(2); the coordinator refuses that repeat.
        new Row("duplicate message", When.FEEDBACK_2, t -> List.of(record(t)),
            List.of("^duplicate: the teacher update of step 2 of student student-0 is in$|" + LATE)),
        new Row("conflicting duplicate", When.FEEDBACK_2, t -> {
            float[] d = TensorCodec.toFloats(t.getFeedback().getD(), TensorCodec.Finite.REQUIRED);
            d[0] += 1e-3f;
            return List.of(record(t.toBuilder().setFeedback(t.getFeedback().toBuilder()
                .setD(TensorCodec.encode(d, TensorCodec.shape(t.getFeedback().getD())))).build()));
        }, List.of("^conflicting duplicate: feedback for step 2 of student-0 was already applied with other values$|" + LATE)),
        new Row("out-of-order step", When.EXAM_4,
            t -> List.of(record(header("student-0", FUTURE, Kind.COURSE_START).setCourseStart(CourseStart.getDefaultInstance()).build()),
                record(header("student-1", FUTURE, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setParamSha256("00")).build())),
            List.of("^out of order: CourseStart for step " + FUTURE + " of student-0: the teacher applied step \\d+ and served step \\d+$",
                "^out of order: CourseStart for step " + FUTURE + " while student-0 is at step \\d+$",
                "^out of order: exam result of step " + FUTURE + " of student student-1 before that of step \\d+$")),
        new Row("stale teacher version", When.EXAM_4,
            t -> List.of(record(softTargets(FUTURE, 0, TensorCodec.encode(uniform(32, 10), 32, 10)))),
            List.of("^stale teacher version: soft targets for step " + FUTURE + " are version 0, student-0 learns step " + FUTURE
                + " from version " + FUTURE + "$")),
        new Row("oversize message (limit " + LIMIT + " bytes)", When.EXAM_4,
            t -> List.of(raw(Topics.FEEDBACK, "student-0", new byte[LIMIT + 1])),
            List.of("^message has " + (LIMIT + 1) + " bytes, over the limit of " + LIMIT + "$")),
        new Row("dataset checksum mismatch at enrollment (refused)", When.EXAM_4,
            t -> List.of(record(header("student-8", 0, Kind.ENROLLMENT).setEnrollment(Enrollment.newBuilder()
                .setDataset(DatasetSpec.newBuilder().setName("digits").setSha256("cd".repeat(32)))
                .setHyperParameters(HyperParameters.newBuilder().setBatchSize(32).setExamBatchSize(32).setSteps(3)
                    .setTeacherMode("ikd"))).build())),
            List.of()));

    @TempDir
    Path dir;

    @Test
    void everyKindOfBadInputIsRefusedWithItsReasonAndChangesNothing() throws Exception {
        try (BrokerRun run = BrokerRun.start(dir, "--dataset", "digits", "--students", "2", "--steps", Integer.toString(STEPS),
            "--pretrain-steps", "100")) {
            List<String> reference = run.referenceHashes(run.config);
            String bootstrap = run.bootstrap();
            Services.ensureTopics(bootstrap, 4);
            int port = run.host.serve("127.0.0.1", 0);
            LocalRun.Outcome outcome;
            try (Intruder intruder = new Intruder(bootstrap)) {
                outcome = run.run(Services.Wiring.of(bootstrap, RUN_ID, dir.resolve("state"))
                    .withTuning(KafkaTuning.defaults().withMaxMessageBytes(LIMIT)));
                assertThat(intruder.failures).isEmpty();
            }
            // The run went on and no bad message changed any state: the hashes of an undisturbed run.
            assertThat(BrokerRun.hashes(outcome)).isEqualTo(reference);

            int expected = ROWS.stream().mapToInt(r -> r.expected().size()).sum();
            List<String> reasons = new ArrayList<>(deadLetterReasons(bootstrap, expected));
            for (Row row : ROWS) {
                for (String pattern : row.expected()) {
                    String match = reasons.stream().filter(r -> Pattern.compile(pattern).matcher(r).find()).findFirst()
                        .orElseThrow(() -> new AssertionError(row.input() + ": no dead letter matches " + pattern + " in " + reasons));
                    reasons.remove(match);
                    System.out.printf("bad input | %s | dead letter: %s%n", row.input(), match);
                }
            }
            assertThat(reasons).as("dead letters no row explains").isEmpty();
            String refusal = refusalOf(bootstrap, "student-8");
            assertThat(refusal).startsWith("dataset checksum mismatch: student has " + "cd".repeat(32));
            System.out.printf("bad input | dataset checksum mismatch at enrollment | refused: %s%n", refusal);

            HttpClient http = HttpClient.newHttpClient();
            var metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body())
                .containsPattern("ikd_messages_skipped_total\\{reason=\"other_run\",service=\"coordinator\",topic=\"ikd.exam-results\"} [1-9]")
                .containsPattern("ikd_dead_letters_total\\{service=\"teacher\",topic=\"ikd.feedback\"} [1-9]")
                .contains("ikd_hop_latency_seconds_count{service=\"student\",topic=\"ikd.soft-targets\"}")
                .containsPattern("ikd_step_phase_seconds_count\\{phase=\"teacher_update\",service=\"teacher\"} " + 2 * STEPS + "\\b")
                .contains("ikd_exam_accuracy{service=\"student\",student=\"student-1\"}")
                .contains("kafka_consumer_fetch_manager_records_lag_max");
            System.out.println("bad input | unknown run | skipped, counted in ikd_messages_skipped_total{reason=\"other_run\"}");
            var health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"").contains("\"service\":\"student-1\"");
        }
    }

    /**
     * The last row: a damaged checkpoint. The newest one damaged, a restart falls back to the one
     * before it (and re-reads what that one does not cover); both damaged, it is refused with one
     * line naming the files, before anything runs.
     */
    @Test
    void aDamagedCheckpointFallsBackToThePreviousOneOrIsRefused() throws Exception {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), "--dataset", "digits");
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        CheckpointFiles files = CheckpointFiles.of(dir.resolve("state"), RUN_ID, "student-0");
        try (NDManager manager = NDManager.newBaseManager()) {
            var service = new StudentService(Services.student(c, data, 0, 1), RUN_ID, StepListener.NONE, manager,
                null, null);
            try (StudentMachine student = service.fresh("student-0")) {
                for (long n = 1; n <= 2; n++) {
                    files.write("student-0", dev.ikd.proto.state.Checkpoint.newBuilder().setFormat(CheckpointFiles.FORMAT)
                        .setRunId(RUN_ID).setService("student-0").setKey("student-0").setRecords(n)
                        .putPositions("ikd.control/0", n).setState(com.google.protobuf.Any.pack(student.state())).build());
                }
            }
            Path newest = files.path().resolve("student-0/0000000000000000002.ckpt");
            Path previous = files.path().resolve("student-0/0000000000000000001.ckpt");
            flip(newest);
            var recovered = files.recover(service, k -> true).get("student-0");
            assertThat(recovered.covered().records()).as("resumed from the one before the damaged newest").isEqualTo(1);
            recovered.machine().close();
            flip(previous);
            assertThatThrownBy(() -> files.recover(service, k -> true)).isInstanceOf(UnusableCheckpointException.class)
                .hasMessageStartingWith("checkpoint " + newest + " is damaged (")
                .hasMessageContaining("and so is the one before it, 0000000000000000001.ckpt");
            System.out.println("bad input | damaged checkpoint | newest damaged: falls back to the previous; both damaged: "
                + "refused naming both files");
        }
    }

    private static void flip(Path file) throws java.io.IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 3] ^= 0x01;
        Files.write(file, bytes);
    }

    /** Reads the run's dead letters until {@code atLeast} arrived (or 60 s passed) and returns their reasons. */
    static List<String> deadLetterReasons(String bootstrap, int atLeast) {
        return deadLetterReasons(dev.ikd.proto.kafka.KafkaAccess.plain(bootstrap), atLeast);
    }

    static List<String> deadLetterReasons(dev.ikd.proto.kafka.KafkaAccess kafka, int atLeast) {
        List<String> reasons = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(kafka, "test-" + UUID.randomUUID(), "test"),
            new StringDeserializer(), new EnvelopeDeserializer())) {
            consumer.subscribe(List.of(Topics.DEAD_LETTER));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            long quietUntil = Long.MAX_VALUE;
            // A dead letter larger than a record (the oversize row's) travels in parts, like any message.
            var parts = new dev.ikd.proto.envelope.Parts.Assembler(64 << 20);
            while (System.nanoTime() < Math.min(deadline, quietUntil)) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() instanceof Decoded.Valid v) {
                        var letter = v.envelope().getKind() == Kind.PART ? parts.accept(v.envelope()) : java.util.Optional.of(v.envelope());
                        letter.ifPresent(e -> reasons.add(e.getDeadLetter().getReason()));
                    }
                }
                if (reasons.size() >= atLeast && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos(); // any extra letter would show by then
                }
            }
        }
        return reasons;
    }

    /** The reason of the refusal sent to {@code student} on ikd.control. */
    static String refusalOf(String bootstrap, String student) {
        try (var consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(dev.ikd.proto.kafka.KafkaAccess.plain(bootstrap), "test-" + UUID.randomUUID(), "test"),
            new StringDeserializer(), new EnvelopeDeserializer())) {
            consumer.subscribe(List.of(Topics.CONTROL));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() instanceof Decoded.Valid v && v.envelope().getKind() == Kind.REFUSED
                        && student.equals(v.envelope().getStudentId())) {
                        return v.envelope().getRefused().getReason();
                    }
                }
            }
        }
        throw new AssertionError("no refusal for " + student);
    }

    private static Envelope softTargets(long step, long version, Tensor p) {
        return header("student-0", step, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(version)
            .setTemperature(4).setProbabilities(p)).build();
    }

    private static float[] withAt(int n, int index, float value) {
        float[] v = uniform(n, 1);
        v[index] = value;
        return v;
    }

    private static float[] uniform(int rows, int cols) {
        float[] v = new float[rows * cols];
        Arrays.fill(v, 1f / Math.max(cols, 10));
        return v;
    }

    private static Envelope.Builder header(String student, long step, Kind kind) {
        return Envelopes.header(RUN_ID, student, step, kind, "intruder", Clock.systemUTC());
    }

    private static ProducerRecord<String, byte[]> record(Envelope e) {
        return new ProducerRecord<>(Topics.topicOf(e.getKind()), Topics.keyOf(e), Envelopes.encode(e));
    }

    private static ProducerRecord<String, byte[]> raw(String topic, String key, byte[] value) {
        return new ProducerRecord<>(topic, key, value);
    }

    /** Watches the run and, at each row's moment, sends that row's records. */
    static final class Intruder implements AutoCloseable {
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final Thread thread;
        private volatile boolean running = true;

        Intruder(String bootstrap) {
            thread = new Thread(() -> {
                try {
                    watch(bootstrap);
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "intruder");
            thread.start();
        }

        private void watch(String bootstrap) throws Exception {
            Map<String, Object> pc = new java.util.HashMap<>(KafkaClients.producerConfig(dev.ikd.proto.kafka.KafkaAccess.plain(bootstrap), "intruder"));
            Map<String, Object> cc = new java.util.HashMap<>(KafkaClients.consumerConfig(dev.ikd.proto.kafka.KafkaAccess.plain(bootstrap), "intruder-" + UUID.randomUUID(), "intruder"));
            cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            try (var producer = new KafkaProducer<>(pc, new StringSerializer(), new ByteArraySerializer());
                 var consumer = new KafkaConsumer<>(cc, new StringDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(Topics.FEEDBACK, Topics.EXAM_RESULTS));
                List<When> done = new ArrayList<>();
                while (running && done.size() < When.values().length) {
                    for (var r : consumer.poll(Duration.ofMillis(100))) {
                        Envelope e;
                        try {
                            e = Envelopes.decode(r.value());
                        } catch (RuntimeException notAnEnvelope) {
                            continue; // our own bad records
                        }
                        if (!RUN_ID.equals(e.getRunId()) || !"student-0".equals(e.getStudentId())
                            || !"student-0".equals(e.getProducerId())) {
                            continue;
                        }
                        When now = e.getKind() == Kind.FEEDBACK && e.getStep() == 2 ? When.FEEDBACK_2
                            : e.getKind() == Kind.EXAM_RESULT && e.getStep() == 4 ? When.EXAM_4 : null;
                        if (now != null && !done.contains(now)) {
                            done.add(now);
                            for (Row row : ROWS) {
                                if (row.when() == now) {
                                    for (var record : row.records().apply(e)) {
                                        producer.send(record).get();
                                    }
                                }
                            }
                        }
                    }
                }
                producer.flush();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(10_000);
        }
    }
}
