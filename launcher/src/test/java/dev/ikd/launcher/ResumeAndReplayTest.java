package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.ikd.runlog.RunLog;

/**
 * The log as the record of a run (docs/architecture.md §8): {@code ikd local} killed mid-run continues with one
 * command and ends on the uninterrupted hashes; {@code ikd replay} verifies the run step by step
 * with no teacher, finds the first step of a tampered copy that diverges, trains a new student from
 * the recorded soft targets and exports the events.
 */
class ResumeAndReplayTest {

    static final String[] RUN = {"--dataset", "digits", "--students", "2", "--steps", "120", "--teacher-mode", "ikd",
        "--pretrain-steps", "100"};

    @TempDir
    Path dir;

    @Test
    void ikdLocalKilledMidRunResumesWithOneCommandAndEndsOnTheUninterruptedHashes() throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        List<String> expected = DistributedRunTest.reference(checkpoint, RUN);
        // Without --data-dir the run keeps its log in runs/RUN where it was started (here, the test's folder).
        Path data = dir.resolve("runs").resolve("res");
        try (Jvms jvms = new Jvms(dir)) {
            var local = jvms.start("local", DistributedRunTest.args("local", List.of(RUN),
                "--run-id", "res", "--teacher-checkpoint", checkpoint.toString(), "--metrics-port", "-1"));
            Pattern progress = Pattern.compile("student-\\d step (\\d+)/120");
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (true) {
                Matcher m = progress.matcher(local.stderr());
                int step = 0;
                while (m.find()) {
                    step = Math.max(step, Integer.parseInt(m.group(1)));
                }
                if (step >= 36) {
                    break;
                }
                assertThat(local.process().isAlive()).as(local.stderr()).isTrue();
                assertThat(System.nanoTime()).as("ikd local did not reach step 36").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(local.stderr()).contains("log in runs/res");
            local.kill();
        }

        // A log that stops mid-run does not verify: replay says where it stops.
        var partial = IkdCommandLineTest.ikd("replay", "--data-dir", data.toString(), "--run-id", "res", "--verify");
        assertThat(partial.code()).as(partial.out() + partial.err()).isEqualTo(1);
        assertThat(partial.out()).containsPattern("incomplete: student-0 stops at step \\d+ of 120");

        var resumed = IkdCommandLineTest.ikd("local", "--data-dir", data.toString(), "--resume", "res", "--json",
            "--metrics-port", "-1");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(hashes(resumed.out())).isEqualTo(expected);

        var replay = IkdCommandLineTest.ikd("replay", "--data-dir", data.toString(), "--run-id", "res", "--verify");
        assertThat(replay.code()).as(replay.err()).isZero();
        assertThat(replay.out()).contains("student-0: 120 of 120 steps verified, every hash matches the log (final "
            + expected.get(0)).contains("student-1: 120 of 120 steps verified");

        // A damaged newest checkpoint: the restart falls back to the one before it, says so, and ends the same.
        Path studentState = data.resolve("state/res/student-0/student-0");
        List<Path> files;
        try (var list = Files.list(studentState)) {
            files = list.sorted().toList();
        }
        assertThat(files).hasSize(2);
        flip(files.get(1));
        var fallback = IkdCommandLineTest.ikd("local", "--data-dir", data.toString(), "--resume", "res", "--json",
            "--metrics-port", "-1");
        assertThat(fallback.code()).as(fallback.err()).isZero();
        assertThat(fallback.err()).contains("checkpoint " + files.get(1) + " is damaged").contains("falling back to "
            + files.get(0).getFileName());
        assertThat(hashes(fallback.out())).isEqualTo(expected);

        // Both damaged: one line naming them, exit 2, nothing runs on damaged state.
        try (var list = Files.list(studentState)) {
            files = list.sorted().toList();
        }
        for (Path f : files) {
            flip(f);
        }
        var corrupt = IkdCommandLineTest.ikd("local", "--data-dir", data.toString(), "--resume", "res", "--metrics-port", "-1");
        assertThat(corrupt.code()).isEqualTo(Ikd.USAGE);
        assertThat(corrupt.err().lines().filter(l -> l.startsWith("ikd: "))).singleElement().asString()
            .contains(files.get(1) + " is damaged").contains("and so is the one before it, " + files.get(0).getFileName());
    }

    private static List<String> hashes(String json) {
        JsonObject out = JsonParser.parseString(json.strip()).getAsJsonObject();
        List<String> hashes = new ArrayList<>();
        out.getAsJsonArray("students").forEach(s -> hashes.add(s.getAsJsonObject().get("param_sha256").getAsString()));
        return hashes;
    }

    private static void flip(Path file) throws java.io.IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
    }

    @Test
    void replayVerifiesFindsTheFirstDivergentStepTrainsOfflineAndExports() throws Exception {
        Path data = dir.resolve("run");
        var local = IkdCommandLineTest.ikd("local", "--dataset", "digits", "--students", "2", "--steps", "30",
            "--pretrain-steps", "60", "--data-dir", data.toString(), "--run-id", "rp", "--metrics-port", "-1");
        assertThat(local.code()).as(local.err()).isZero();
        String quoted = java.util.regex.Pattern.quote(data.toString());
        assertThat(local.out()).as("the end of the run names the commands that replay, export and watch it")
            .containsPattern("replay it: +ikd replay --data-dir " + quoted + " --run-id rp --verify")
            .containsPattern("export one: +ikd export --data-dir " + quoted + " --run-id rp --student student-0 --out student-0.safetensors")
            .containsPattern("watch it: +ikd dashboard --data-dir " + quoted + " --run-id rp");

        Path export = dir.resolve("rp.jsonl");
        var replay = IkdCommandLineTest.ikd("replay", "--data-dir", data.toString(), "--run-id", "rp", "--verify",
            "--train-student", "mlp:32:8", "--student-seed", "5", "--export", export.toString());
        assertThat(replay.code()).as(replay.err()).isZero();
        assertThat(replay.out()).contains("student-0: 30 of 30 steps verified").contains("student-1: 30 of 30 steps verified")
            .containsPattern("offline-mlp-32-8 +30 +0\\.\\d{4} +\\(offline: mlp:32:8, seed 5, soft targets of student-0\\)")
            .containsPattern("student-0 +30 +0\\.\\d{4} +\\(live\\)");
        var asJson = IkdCommandLineTest.ikd("replay", "--data-dir", data.toString(), "--run-id", "rp", "--verify",
            "--train-student", "mlp:32:8", "--student-seed", "5", "--json");
        assertThat(asJson.code()).as(asJson.err()).isZero();
        JsonObject replayed = JsonParser.parseString(asJson.out().strip()).getAsJsonObject();
        assertThat(replayed.getAsJsonObject("verify").get("verified").getAsBoolean()).isTrue();
        assertThat(replayed.getAsJsonObject("verify").get("student_steps").getAsLong()).isEqualTo(60);
        assertThat(replay.out()).contains(String.format(java.util.Locale.ROOT, "%-14.4f (offline",
            replayed.getAsJsonObject("offline").get("test_accuracy").getAsDouble()));
        var exported = IkdCommandLineTest.ikd("export", "--data-dir", data.toString(), "--run-id", "rp", "--student", "student-1",
            "--out", dir.resolve("student-1.safetensors").toString(), "--json");
        assertThat(exported.code()).as(exported.err()).isZero();
        JsonObject model = JsonParser.parseString(exported.out().strip()).getAsJsonObject();
        assertThat(model.get("tensors").getAsInt()).isPositive();
        assertThat(Path.of(model.get("file").getAsString())).exists();
        assertThat(model.get("param_sha256").getAsString()).matches("[0-9a-f]{64}");
        List<JsonObject> events = Files.readAllLines(export).stream().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
        assertThat(events).allSatisfy(e -> assertThat(e.get("run_id").getAsString()).isIn("rp", ""));
        assertThat(events.stream().filter(e -> "SOFT_TARGETS".equals(e.get("kind").getAsString())).count()).isGreaterThanOrEqualTo(60);
        JsonObject targets = events.stream().filter(e -> "SOFT_TARGETS".equals(e.get("kind").getAsString())).findFirst().orElseThrow();
        assertThat(targets.getAsJsonObject("soft_targets").getAsJsonObject("probabilities").getAsJsonArray("shape").toString())
            .isEqualTo("[32,10]");
        assertThat(events.stream().filter(e -> "JOURNAL_ENTRY".equals(e.get("kind").getAsString())).count())
            .as("2 enrollments, 30 exam results, 30 teacher updates and 1 report per student, and no refusals")
            .isEqualTo(2 * (1 + 30 + 30 + 1));

        // A copy of the run whose logged hash of student-1's step 7 is wrong: replay names that step and fails.
        try (EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(data.resolve("kafka")))) {
            RunLog log = RunLog.read(broker.bootstrapServers(), "rp");
            try (var producer = new KafkaProducer<>(KafkaClients.producerConfig(dev.ikd.proto.kafka.KafkaAccess.plain(broker.bootstrapServers()), "tamper"),
                new StringSerializer(), new EnvelopeSerializer())) {
                for (RunLog.Entry e : log.byTime()) {
                    if (e.envelope().getKind() != Kind.DEAD_LETTER) {
                        Envelope copy = tampered(e.envelope(), "rp-tampered");
                        producer.send(new ProducerRecord<>(e.topic(), Topics.keyOf(copy), copy));
                    }
                }
            }
            var caught = IkdCommandLineTest.ikd("replay", "--bootstrap", broker.bootstrapServers(), "--run-id", "rp-tampered",
                "--verify");
            assertThat(caught.code()).isEqualTo(1);
            assertThat(caught.out()).contains("student-0: 30 of 30 steps verified")
                .containsPattern("student-1: diverges at step 7: replayed [0-9a-f]{64}, logged " + "0".repeat(64));
        }
    }

    /** {@code e} moved to run {@code runId}; student-1's exam result of step 7 claims an all-zero hash. */
    private static Envelope tampered(Envelope e, String runId) {
        var b = e.toBuilder().setRunId(runId)
            .setIdempotencyKey(Envelopes.idempotencyKey(runId, e.getStudentId(), e.getStep(), e.getKind()));
        if (e.getKind() == Kind.JOURNAL_ENTRY) {
            b.setJournalEntry(e.getJournalEntry().toBuilder().setEvent(tampered(e.getJournalEntry().getEvent(), runId)));
        }
        if (e.getKind() == Kind.EXAM_RESULT && "student-1".equals(e.getStudentId()) && e.getStep() == 7) {
            b.setExamResult(e.getExamResult().toBuilder().setParamSha256("0".repeat(64)));
        }
        return b.build();
    }
}
