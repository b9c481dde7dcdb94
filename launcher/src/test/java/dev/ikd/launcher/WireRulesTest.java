package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import ai.djl.ndarray.NDManager;
import dev.ikd.broker.BrokerSettings;
import dev.ikd.broker.EmbeddedKafka;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.TrainingListener;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.Samples;
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

/**
 * The coordinator's rules and the services' idempotency on the wire: while a real run goes on,
 * an intruder sends a premature CourseStart, out-of-order and unknown-student messages, a
 * duplicate and a conflicting Feedback, and bytes that are no envelope. Each ends on
 * {@code ikd.dead-letter} with its reason, and the run ends on the hashes of an undisturbed one.
 */
class WireRulesTest {

    static final String RUN_ID = "wire";

    @TempDir
    Path dir;

    @Test
    void badMessagesAreDeadLetteredWithTheirReasonAndChangeNothing() throws Exception {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), "--dataset", "digits", "--students", "2",
            "--steps", "12", "--pretrain-steps", "100");
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (NDManager manager = NDManager.newBaseManager();
             EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")));
             ServiceHost host = new ServiceHost(4)) {
            Params teacher = Teachers.pretrain(c, data, Network.build(c.teacher(), data), manager, false);
            TrainResult reference = ReferenceTrainer.run(c, data, teacher, manager, TrainingListener.NONE);
            String bootstrap = broker.bootstrapServers();
            Services.ensureTopics(bootstrap, 4);
            int port = host.serve("127.0.0.1", 0);
            LocalRun.Outcome outcome;
            try (Intruder intruder = new Intruder(bootstrap)) {
                outcome = LocalRun.run(c, data, teacher, bootstrap, RUN_ID, host, manager, 300);
                assertThat(intruder.failures).isEmpty();
            }
            assertThat(outcome.students()).extracting(TrainResult.StudentResult::paramSha256)
                .containsExactlyElementsOf(reference.students().stream().map(TrainResult.StudentResult::paramSha256).toList());

            List<String> reasons = deadLetterReasons(bootstrap, 8);
            assertThat(reasons).anySatisfy(r -> assertThat(r).contains("out of order: CourseStart for step 9 of student-0"));
            assertThat(reasons).anySatisfy(r -> assertThat(r).contains("out of order: CourseStart for step 9 while student-0"));
            assertThat(reasons).anySatisfy(r -> assertThat(r).contains("out of order: step 8 has not started"));
            assertThat(reasons).anySatisfy(r -> assertThat(r).contains("unknown student student-7 (not admitted"));
            assertThat(reasons).anySatisfy(r -> assertThat(r).isEqualTo("unknown student student-7"));
            assertThat(reasons).anySatisfy(r -> assertThat(r).contains("conflicting duplicate: feedback for step 2 of student-0"));
            // The exact duplicate is answered with the recorded TeacherUpdated(2); the coordinator refuses that repeat.
            assertThat(reasons).anySatisfy(r -> assertThat(r).containsPattern("duplicate.*(teacher update for step 2|step 2 is done)"));
            assertThat(reasons).anySatisfy(r -> assertThat(r).startsWith("not a protobuf Envelope"));
            assertThat(reasons).hasSize(8);

            HttpClient http = HttpClient.newHttpClient();
            var metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body()).contains("ikd_dead_letters_total{service=\"teacher\",topic=\"ikd.feedback\"}")
                .contains("ikd_hop_latency_seconds_count{service=\"student\",topic=\"ikd.soft-targets\"}")
                .containsPattern("ikd_step_phase_seconds_count\\{phase=\"teacher_update\",service=\"teacher\"} 24\\b")
                .contains("ikd_exam_accuracy{service=\"student\",student=\"student-1\"}")
                .contains("kafka_consumer_fetch_manager_records_lag_max");
            var health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"").contains("\"service\":\"student-1\"");
        }
    }

    /** Reads the run's dead letters until {@code atLeast} arrived (or 60 s passed) and returns their reasons. */
    static List<String> deadLetterReasons(String bootstrap, int atLeast) {
        List<String> reasons = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(bootstrap, "test-" + UUID.randomUUID(), "test"),
            new StringDeserializer(), new dev.ikd.proto.envelope.EnvelopeDeserializer())) {
            consumer.subscribe(List.of(Topics.DEAD_LETTER));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (reasons.size() < atLeast && System.nanoTime() < deadline) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() instanceof dev.ikd.proto.envelope.Decoded.Valid v) {
                        reasons.add(v.envelope().getDeadLetter().getReason());
                    }
                }
            }
        }
        return reasons;
    }

    /** Watches the run and, at chosen moments, sends what a buggy or hostile producer might. */
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

        private void watch(String bootstrap) {
            Map<String, Object> pc = new java.util.HashMap<>(KafkaClients.producerConfig(bootstrap, "intruder"));
            Map<String, Object> cc = new java.util.HashMap<>(KafkaClients.consumerConfig(bootstrap, "intruder-" + UUID.randomUUID(), "intruder"));
            cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            try (var producer = new KafkaProducer<>(pc, new StringSerializer(), new ByteArraySerializer());
                 var consumer = new KafkaConsumer<>(cc, new StringDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(Topics.FEEDBACK, Topics.EXAM_RESULTS));
                boolean duplicated = false;
                boolean premature = false;
                while (running && !(duplicated && premature)) {
                    for (var r : consumer.poll(Duration.ofMillis(100))) {
                        Envelope e = Envelopes.decode(r.value());
                        if (!RUN_ID.equals(e.getRunId()) || !"student-0".equals(e.getStudentId())) {
                            continue;
                        }
                        if (e.getKind() == Kind.FEEDBACK && e.getStep() == 2 && !duplicated) {
                            duplicated = true;
                            producer.send(new ProducerRecord<>(Topics.FEEDBACK, r.key(), r.value()));
                            float[] d = TensorCodec.toFloats(e.getFeedback().getD(), TensorCodec.Finite.REQUIRED);
                            d[0] += 1e-3f;
                            Envelope conflicting = e.toBuilder().setFeedback(e.getFeedback().toBuilder()
                                .setD(TensorCodec.encode(d, TensorCodec.shape(e.getFeedback().getD())))).build();
                            send(producer, conflicting);
                        }
                        if (e.getKind() == Kind.EXAM_RESULT && e.getStep() == 4 && !premature) {
                            premature = true;
                            send(producer, header("student-0", 9, Kind.COURSE_START).setCourseStart(CourseStart.newBuilder()
                                .setCourse(Samples.newBuilder().addIds(1).addIds(2)).setExam(Samples.newBuilder().addIds(3))).build());
                            send(producer, header("student-1", 8, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder()
                                .setParamSha256("00")).build());
                            send(producer, header("student-7", 0, Kind.FEEDBACK).setFeedback(Feedback.newBuilder()
                                .setD(TensorCodec.encode(new float[10], 1, 10))).build());
                            send(producer, header("student-7", 0, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder()
                                .setParamSha256("00")).build());
                            producer.send(new ProducerRecord<>(Topics.FEEDBACK, "student-0",
                                "no envelope at all".getBytes(StandardCharsets.UTF_8)));
                        }
                    }
                }
                producer.flush();
            }
        }

        private static Envelope.Builder header(String student, long step, Kind kind) {
            return Envelopes.header(RUN_ID, student, step, kind, "intruder", Clock.systemUTC());
        }

        private static void send(KafkaProducer<String, byte[]> producer, Envelope e) {
            producer.send(new ProducerRecord<>(Topics.topicOf(e.getKind()), Topics.keyOf(e), Envelopes.encode(e)));
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(10_000);
        }
    }
}
