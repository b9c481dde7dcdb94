package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ikd.learning.export.LanguageModelFile;
import dev.ikd.learning.export.ModelCard;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A language model from the command line: {@code ikd pretrain} on a corpus writes the model, its
 * card and its tokenizer; {@code ikd generate} continues a prompt; numpy alone, reading the files by
 * their format and the card's forward pass, gives the same next-token logits.
 */
class LanguageModelTest {

    @TempDir
    static Path dir;

    private static Path model;
    private static JsonObject pretrained;

    @BeforeAll
    static void pretrain() {
        model = dir.resolve("models").resolve("teacher.safetensors");
        pretrained = JsonParser.parseString(pretrain(model, 200)).getAsJsonObject();
    }

    /** {@code ikd pretrain} of a small teacher (gpt:1:32:2:16, 300 tokens) on the bundled text, written to {@code model}; its --json. */
    static String pretrain(Path model, int steps) {
        var r = IkdCommandLineTest.ikd("pretrain", "--dataset", "lm:bundled", "--teacher", "gpt:1:32:2:16", "--vocab", "300",
            "--pretrain-steps", Integer.toString(steps), "--batch", "8", "--out", model.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        return r.out();
    }

    @Test
    void pretrainWritesTheModelItsCardAndItsTokenizerAndTheModelLearned() {
        assertThat(model).exists();
        assertThat(ModelCard.beside(model)).exists();
        assertThat(LanguageModelFile.tokenizerBeside(model)).exists();
        assertThat(pretrained.get("spec").getAsString()).isEqualTo("gpt:1:32:2:16");
        assertThat(pretrained.get("vocab_size").getAsInt()).isEqualTo(300);
        assertThat(pretrained.get("data_source").getAsString()).isEqualTo("lm:bundled");
        // A model that learned nothing has a perplexity near the vocabulary's 300 on text it never saw.
        assertThat(pretrained.get("test_perplexity").getAsDouble()).isLessThan(150);
    }

    @Test
    void generateContinuesThePromptTheSameWayForTheSameSeed() {
        String[] args = {"generate", "--model", model.toString(), "--prompt", "Four score and", "--tokens", "25", "--temperature", "0.8",
            "--top-p", "0.9", "--seed", "3"};
        var a = IkdCommandLineTest.ikd(args);
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).startsWith("Four score and").hasSizeGreaterThan("Four score and".length() + 10);
        assertThat(IkdCommandLineTest.ikd(args).out()).isEqualTo(a.out());
    }

    /**
     * {@code ikd train} on the corpus distils the pretrained model into students: each ends where
     * {@code LmKd.train} ends from its seed (the command's reference), its numbers in the JSON, its
     * model written for {@code ikd generate}.
     */
    @Test
    void trainDistilsTheModelIntoStudentsThatGenerate() throws Exception {
        Path students = dir.resolve("students");
        var r = IkdCommandLineTest.ikd("train", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--student",
            "gpt:1:16:2:16", "--students", "2", "--steps", "30", "--batch", "8", "--teacher-mode", "frozen", "--soft-targets", "topk:8",
            "--out", students.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonObject run = JsonParser.parseString(r.out()).getAsJsonObject();
        assertThat(run.get("teacher_mode").getAsString()).isEqualTo("frozen");
        assertThat(run.get("soft_targets").getAsString()).isEqualTo("topk:8");
        assertThat(run.get("teacher_test_perplexity").getAsDouble()).isLessThan(150);
        JsonArray list = run.getAsJsonArray("students");
        assertThat(list.size()).isEqualTo(2);
        try (NDManager manager = NDManager.newBaseManager()) {
            LanguageModelFile.Loaded teacher = LanguageModelFile.read(model, manager);
            var student = dev.ikd.core.model.CausalTransformer.parse("gpt:1:16:2:16", 300);
            var split = dev.ikd.core.text.LmCorpus.split("lm:bundled", dev.ikd.core.text.LmCorpus.documents("lm:bundled", dir), 1, 0.1,
                0.1);
            int[][] train = dev.ikd.core.text.LmCorpus.sequences(teacher.tokenizer(), split.train(), 16);
            for (int i = 0; i < 2; i++) {
                JsonObject s = list.get(i).getAsJsonObject();
                assertThat(s.get("id").getAsString()).isEqualTo("student-" + i);
                assertThat(s.get("soft_target_bytes_per_token").getAsDouble()).as("8 ids and probabilities and a tail").isEqualTo(68.0);
                assertThat(s.get("test_perplexity").getAsDouble()).isFinite().isGreaterThan(1);
                var reference = dev.ikd.core.text.LmKd.train(student, student.init(1 + i, ai.djl.ndarray.types.DataType.FLOAT32, manager),
                    teacher.model(), teacher.params(), dev.ikd.core.text.LmKd.Encoding.parse("topk:8"), train, 30, 8,
                    new dev.ikd.core.learn.StudentConfig(0.5, 0.9, 2.0, 0.7), 1 + i, manager);
                assertThat(s.get("param_sha256").getAsString()).isEqualTo(reference.params().sha256());
            }
        }
        Path written = students.resolve("student-1.safetensors");
        assertThat(list.get(1).getAsJsonObject().get("model").getAsString()).isEqualTo(written.toString());
        var g = IkdCommandLineTest.ikd("generate", "--model", written.toString(), "--prompt", "Four score", "--tokens", "8");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.out()).startsWith("Four score");

        // A learning teacher: through top-K it learns, and its perplexity afterwards is reported; through samples it cannot.
        var ikd = IkdCommandLineTest.ikd("train", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--student",
            "gpt:1:16:2:16", "--steps", "5", "--batch", "4", "--soft-targets", "topk:8", "--json");
        assertThat(ikd.code()).as(ikd.err()).isZero();
        JsonObject learned = JsonParser.parseString(ikd.out()).getAsJsonObject();
        assertThat(learned.get("teacher_mode").getAsString()).isEqualTo("ikd");
        assertThat(learned.getAsJsonArray("students").get(0).getAsJsonObject().get("teacher_test_perplexity_after").getAsDouble())
            .isFinite();
    }

    /**
     * {@code ikd local} on the corpus runs the coordinator, the teacher and each student as services
     * on a real broker: the teacher sends TokenTargets, a learning teacher gets the exact feedback on
     * the K it sent and the tail, and every student ends on the hash, the test perplexity and (within
     * the messages' own framing) the bytes per token that {@code ikd train} gives in process.
     */
    @Test
    void localRunsTheStudentsAsServicesAndTheyEndWhereTrainEndsInProcess() {
        for (String[] setting : List.of(new String[] {"ikd", "topk:8"}, new String[] {"frozen", "sample:16"})) {
            List<String> args = List.of("--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--student", "gpt:1:16:2:16",
                "--students", "2", "--steps", "6", "--batch", "4", "--teacher-mode", setting[0], "--soft-targets", setting[1], "--json");
            var inProcess = IkdCommandLineTest.ikd(java.util.stream.Stream.concat(java.util.stream.Stream.of("train"), args.stream())
                .toArray(String[]::new));
            assertThat(inProcess.code()).as(inProcess.err()).isZero();
            String runDir = dir.resolve("run-" + setting[0]).toString();
            var local = IkdCommandLineTest.ikd(java.util.stream.Stream.concat(java.util.stream.Stream.of("local", "--metrics-port", "-1",
                "--data-dir", runDir, "--run-id", "lm-" + setting[0], "--verify-inprocess"), args.stream()).toArray(String[]::new));
            assertThat(local.code()).as(local.err()).isZero();
            assertThat(JsonParser.parseString(local.out()).getAsJsonObject().get("verified_in_process").getAsBoolean()).isTrue();
            // The log is the record: every student's every step replays onto the logged hash, with no teacher running.
            var replay = IkdCommandLineTest.ikd("replay", "--data-dir", runDir, "--run-id", "lm-" + setting[0], "--verify",
                "--teacher-checkpoint", model.toString(), "--json");
            assertThat(replay.code()).as(replay.out() + replay.err()).isZero();
            JsonObject verified = JsonParser.parseString(replay.out()).getAsJsonObject().getAsJsonObject("verify");
            assertThat(verified.get("verified").getAsBoolean()).isTrue();
            assertThat(verified.get("student_steps").getAsLong()).isEqualTo(12);
            // Export rebuilds a student from the log and writes it as ikd train --out does: the model, its card, the tokenizer.
            Path exported = dir.resolve("exported-" + setting[0] + ".safetensors");
            var export = IkdCommandLineTest.ikd("export", "--data-dir", runDir, "--run-id", "lm-" + setting[0], "--student", "student-1",
                "--out", exported.toString(), "--teacher-checkpoint", model.toString(), "--json");
            assertThat(export.code()).as(export.err()).isZero();
            assertThat(JsonParser.parseString(export.out()).getAsJsonObject().get("param_sha256").getAsString())
                .isEqualTo(JsonParser.parseString(inProcess.out()).getAsJsonObject().getAsJsonArray("students").get(1).getAsJsonObject()
                    .get("param_sha256").getAsString());
            assertThat(LanguageModelFile.tokenizerBeside(exported)).exists();
            var generated = IkdCommandLineTest.ikd("generate", "--model", exported.toString(), "--prompt", "Four score", "--tokens", "4");
            assertThat(generated.code()).as(generated.err()).isZero();
            var withoutTokenizer = IkdCommandLineTest.ikd("replay", "--data-dir", runDir, "--run-id", "lm-" + setting[0], "--verify");
            assertThat(withoutTokenizer.code()).isNotZero();
            assertThat(withoutTokenizer.err().strip().lines().reduce((a, b) -> b).orElse("")).as("the last line, after the broker's")
                .startsWith("ikd: ").contains("--teacher-checkpoint M.safetensors");
            JsonObject reference = JsonParser.parseString(inProcess.out()).getAsJsonObject();
            JsonObject distributed = JsonParser.parseString(local.out()).getAsJsonObject();
            assertThat(distributed.get("teacher_mode").getAsString()).isEqualTo(setting[0]);
            assertThat(distributed.get("soft_targets").getAsString()).isEqualTo(setting[1]);
            for (int i = 0; i < 2; i++) {
                JsonObject want = reference.getAsJsonArray("students").get(i).getAsJsonObject();
                JsonObject got = distributed.getAsJsonArray("students").get(i).getAsJsonObject();
                assertThat(got.get("id").getAsString()).isEqualTo("student-" + i);
                assertThat(got.get("steps").getAsLong()).isEqualTo(6);
                assertThat(got.get("param_sha256").getAsString()).as(setting[0] + " " + setting[1] + " student-" + i)
                    .isEqualTo(want.get("param_sha256").getAsString());
                assertThat(got.get("test_perplexity").getAsDouble()).isEqualTo(want.get("test_perplexity").getAsDouble());
                // On the wire each message also frames its fields: a few bytes over the 64 positions of a batch.
                assertThat(got.get("soft_target_bytes_per_token").getAsDouble()).isGreaterThanOrEqualTo(
                    want.get("soft_target_bytes_per_token").getAsDouble()).isLessThan(want.get("soft_target_bytes_per_token").getAsDouble() + 1);
            }
        }
    }

    /**
     * The same over separate JVMs on a broker of their own, as a user deploys it: {@code ikd
     * coordinator}, {@code ikd teacher} and {@code ikd student} each read the teacher's file (for its
     * tokenizer) and the corpus; the teacher learns each student's context from its enrollment. The
     * students end on {@code ikd train}'s hashes and perplexities.
     */
    @Test
    void separateJvmsEndWhereTrainEndsInProcess() throws Exception {
        List<String> run = List.of("--dataset", "lm:bundled", "--students", "2", "--steps", "6", "--batch", "4", "--teacher-mode", "ikd",
            "--soft-targets", "topk:8", "--student", "gpt:1:16:2:16");
        var inProcess = IkdCommandLineTest.ikd(java.util.stream.Stream.concat(java.util.stream.Stream.of("train", "--teacher-checkpoint",
            model.toString(), "--json"), run.stream()).toArray(String[]::new));
        assertThat(inProcess.code()).as(inProcess.err()).isZero();
        JsonArray reference = JsonParser.parseString(inProcess.out()).getAsJsonObject().getAsJsonArray("students");
        Path jvmDir = Files.createDirectories(dir.resolve("jvms"));
        try (Jvms jvms = new Jvms(jvmDir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            List<String> common = new ArrayList<>(run);
            common.addAll(List.of("--bootstrap", broker.bootstrap(), "--run-id", "lm", "--metrics-port", "-1"));
            String[] file = {"--teacher-checkpoint", model.toString()};
            var coordinator = jvms.start("coordinator", DistributedRunTest.args("coordinator", common, file));
            var teacher = jvms.start("teacher", DistributedRunTest.args("teacher", common, file));
            var students = jvms.start("students", DistributedRunTest.args("student", common, "--index", "0-1", "--json", file[0], file[1]));
            for (var jvm : List.of(students, coordinator, teacher)) {
                assertThat(jvm.await(240)).as(jvm.stderr()).isZero();
            }
            List<String> lines = students.stdout().strip().lines().toList();
            assertThat(lines).hasSize(2);
            for (int i = 0; i < 2; i++) {
                JsonObject got = JsonParser.parseString(lines.get(i)).getAsJsonObject();
                JsonObject want = reference.get(i).getAsJsonObject();
                assertThat(got.get("id").getAsString()).isEqualTo("student-" + i);
                assertThat(got.get("param_sha256").getAsString()).isEqualTo(want.get("param_sha256").getAsString());
                assertThat(got.get("test_perplexity").getAsDouble()).isEqualTo(want.get("test_perplexity").getAsDouble());
            }
            assertThat(coordinator.stdout()).contains("run lm complete: 2 students reported");
        }
    }

    /**
     * {@code ikd local --secure} on the corpus (TLS and SCRAM logins, every message signed and
     * checked) killed mid-run (SIGKILL) goes on with one command, {@code ikd local --data-dir DIR
     * --resume RUN}, from the teacher's file, the logins and the keys it kept and every service's
     * checkpoint, and ends on {@code ikd train}'s hashes.
     */
    @Test
    void localKilledMidRunResumesWithOneCommandAndEndsWhereTrainEnds() throws Exception {
        List<String> run = List.of("--dataset", "lm:bundled", "--student", "gpt:1:16:2:16", "--students", "2", "--steps", "150",
            "--batch", "4", "--teacher-mode", "ikd", "--soft-targets", "topk:8");
        var inProcess = IkdCommandLineTest.ikd(java.util.stream.Stream.concat(java.util.stream.Stream.of("train", "--teacher-checkpoint",
            model.toString(), "--json"), run.stream()).toArray(String[]::new));
        assertThat(inProcess.code()).as(inProcess.err()).isZero();
        Path data = dir.resolve("resumed");
        try (Jvms jvms = new Jvms(Files.createDirectories(dir.resolve("resume-jvm")))) {
            List<String> args = new ArrayList<>(List.of("local", "--teacher-checkpoint", model.toString(), "--run-id", "res", "--data-dir",
                data.toString(), "--metrics-port", "-1", "--secure"));
            args.addAll(run);
            var local = jvms.start("local", args.toArray(String[]::new));
            java.util.regex.Pattern progress = java.util.regex.Pattern.compile("student-\\d step (\\d+)/150");
            long deadline = System.nanoTime() + 180_000_000_000L;
            int step = 0;
            while (step < 30) {
                assertThat(local.process().isAlive()).as(local.stderr()).isTrue();
                assertThat(System.nanoTime()).as("ikd local did not reach step 30").isLessThan(deadline);
                Thread.sleep(50);
                var m = progress.matcher(local.stderr());
                while (m.find()) {
                    step = Math.max(step, Integer.parseInt(m.group(1)));
                }
            }
            local.kill();
        }
        assertThat(data.resolve("teacher.safetensors")).as("the teacher's file, kept for the resume").exists();
        // Secured as a classifier's run is: the broker's logins and each service's signing key, kept for the resume too.
        assertThat(data.resolve("kafka").resolve("credentials").resolve("teacher.properties")).exists();
        assertThat(data.resolve("keys").resolve("res").resolve("student-1").resolve("student-1.key")).exists();
        var resumed = IkdCommandLineTest.ikd("local", "--data-dir", data.toString(), "--resume", "res", "--json", "--metrics-port", "-1");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        JsonArray want = JsonParser.parseString(inProcess.out()).getAsJsonObject().getAsJsonArray("students");
        JsonArray got = JsonParser.parseString(resumed.out()).getAsJsonObject().getAsJsonArray("students");
        for (int i = 0; i < 2; i++) {
            assertThat(got.get(i).getAsJsonObject().get("param_sha256").getAsString())
                .isEqualTo(want.get(i).getAsJsonObject().get("param_sha256").getAsString());
        }
    }

    /** The benchmark that runs one distillation in process and over Kafka records both, and that the hashes agree. */
    @Test
    void theServicesBenchmarkRecordsBothRunsAndTheirAgreement() throws Exception {
        Path results = dir.resolve("bench-results");
        var r = IkdCommandLineTest.ikd("bench", "lm-services", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(),
            "--student", "gpt:1:16:2:16", "--students", "2", "--steps", "4", "--batch", "4", "--soft-targets", "topk:8", "--results",
            results.toString(), "--benchmarks-md", dir.resolve("BENCHMARKS.md").toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonObject json = JsonParser.parseString(Files.readString(results.resolve("lm-services.json"))).getAsJsonObject();
        assertThat(json.get("same_hashes").getAsBoolean()).isTrue();
        assertThat(json.get("wall_ratio").getAsDouble()).isPositive();
        assertThat(json.getAsJsonArray("students")).hasSize(2).allSatisfy(s -> assertThat(s.getAsJsonObject()
            .get("bytes_per_token_sent").getAsDouble()).isGreaterThanOrEqualTo(s.getAsJsonObject().get("bytes_per_token_counted")
            .getAsDouble()));
        assertThat(Files.readString(dir.resolve("BENCHMARKS.md"))).contains("### A language model distilled in process and over Kafka")
            .contains("_Made by the benchmark at commit");
    }

    @Test
    void badValuesAndMissingFilesStopWithOneLine() throws Exception {
        for (var bad : List.of(
            new String[] {"generate", "--model", model.toString(), "--prompt", "x", "--top-p", "2"},
            new String[] {"generate", "--model", model.toString(), "--prompt", ""},
            new String[] {"generate", "--model", dir.resolve("none.safetensors").toString(), "--prompt", "x"},
            new String[] {"pretrain", "--dataset", "lm:bundled", "--vocab", "100", "--out", dir.resolve("x.safetensors").toString()},
            new String[] {"pretrain", "--dataset", "digits", "--vocab", "300", "--out", dir.resolve("x.safetensors").toString()},
            new String[] {"pretrain", "--dataset", "lm:bundled", "--teacher", "mlp:32:16", "--out", dir.resolve("x.safetensors").toString()},
            new String[] {"train", "--dataset", "lm:bundled"},
            new String[] {"train", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--soft-targets", "sample:8"},
            new String[] {"train", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--teacher-mode", "pesf"},
            new String[] {"train", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--student", "gpt:1:16:2:32"},
            new String[] {"train", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--teachers", "2"},
            new String[] {"train", "--dataset", "digits", "--soft-targets", "topk:8"},
            // ikd local refuses before it makes the run's directory or starts a broker
            new String[] {"local", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--student", "gpt:1:16:2:32",
                "--data-dir", dir.resolve("refused-run").toString()},
            new String[] {"local", "--dataset", "lm:bundled", "--secure", "--data-dir", dir.resolve("refused-run").toString()})) {
            var r = IkdCommandLineTest.ikd(bad);
            assertThat(r.code()).as(String.join(" ", bad)).isNotZero();
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).startsWith("ikd: ").doesNotContain("Exception");
        }
        assertThat(dir.resolve("refused-run")).doesNotExist();
        Path copy = dir.resolve("copy.safetensors");
        Files.copy(model, copy);
        Files.copy(ModelCard.beside(model), ModelCard.beside(copy));
        Path tokenizer = copy.resolveSibling("teacher.tokenizer.txt");
        Files.writeString(tokenizer, "65 66\n");
        var r = IkdCommandLineTest.ikd("generate", "--model", copy.toString(), "--prompt", "x");
        assertThat(r.err().strip()).isEqualTo("ikd: " + tokenizer + " is not the tokenizer the card names (SHA-256 or vocabulary size "
            + "differs)");
        Files.writeString(tokenizer, "256 257\n");
        r = IkdCommandLineTest.ikd("generate", "--model", copy.toString(), "--prompt", "x");
        assertThat(r.err().strip()).isEqualTo("ikd: " + tokenizer + ": merge 0 joins [256, 257]: a merge joins two tokens made before "
            + "it (below 256)");
    }

    /** numpy reproduces the model's next-token logits at every position of 5 prompts within 1e-4. */
    @Test
    void numpyAloneGivesTheSameNextTokenLogits() throws Exception {
        Path python = Tools.requirePython("numpy", "python3-numpy");
        List<String> prompts = List.of("Four score and seven years ago", "We the People of the United States", "When in the Course",
            "a new nation, conceived in Liberty", "xyzzy! 42");
        JsonArray tokens = new JsonArray();
        List<double[][]> ours = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            LanguageModelFile.Loaded m = LanguageModelFile.read(model, manager);
            for (String prompt : prompts) {
                int[] ids = m.tokenizer().encode(prompt);
                ids = java.util.Arrays.copyOf(ids, Math.min(ids.length, m.model().context()));
                JsonArray row = new JsonArray();
                long[] longs = new long[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    row.add(ids[i]);
                    longs[i] = ids[i];
                }
                tokens.add(row);
                NDArray logits = m.model().logits(m.params(), manager.create(longs, new Shape(1, ids.length)));
                double[][] perPosition = new double[ids.length][];
                for (int i = 0; i < ids.length; i++) {
                    perPosition[i] = logits.get("0, " + i).toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
                }
                ours.add(perPosition);
            }
        }
        Path tokensFile = dir.resolve("tokens.json");
        Files.writeString(tokensFile, tokens.toString());
        Path script = Tools.projectRoot().resolve("launcher/src/test/python/numpy_gpt.py");
        var numpy = Tools.run(dir, 120, List.of(python.toString(), script.toString(), model.toString(), ModelCard.beside(model).toString(),
            tokensFile.toString()));
        assertThat(numpy.code()).as(numpy.toString()).isZero();
        JsonArray theirs = JsonParser.parseString(numpy.output()).getAsJsonObject().getAsJsonArray("logits");
        assertThat(theirs.size()).isEqualTo(5);
        for (int s = 0; s < 5; s++) {
            JsonArray positions = theirs.get(s).getAsJsonArray();
            assertThat(positions.size()).isEqualTo(ours.get(s).length).isPositive();
            for (int i = 0; i < positions.size(); i++) {
                JsonArray q = positions.get(i).getAsJsonArray();
                assertThat(q.size()).isEqualTo(300);
                for (int c = 0; c < q.size(); c++) {
                    assertThat(ours.get(s)[i][c]).as("prompt %d position %d token %d", s, i, c).isCloseTo(q.get(c).getAsDouble(), within(1e-4));
                }
            }
        }
    }
}
