package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.learning.export.ModelCard;
import dev.ikd.learning.export.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's own table, end to end (issue: your data in, your student out): an IAKD run on a CSV
 * with string labels and a column in the thousands; the table moved afterwards. Replay finds the
 * data by its checksum and verifies every step; export writes the student (rebuilt from the log,
 * on its report's hash), the teacher and the teacher one student shaped, as safetensors with a
 * model card; predict gives each row's class; and numpy alone, reading the files by their format,
 * computes the same probabilities.
 */
class YourDataTest {

    @TempDir
    Path dir;

    static Path flowers(Path file, int rows, long seed) throws Exception {
        StringBuilder csv = new StringBuilder("noise,size,width,species\n");
        Random random = new Random(seed);
        String[] species = {"setosa", "versicolor", "virginica"};
        for (int i = 0; i < rows; i++) {
            int c = i % 3;
            csv.append(String.format(Locale.ROOT, "%.1f,%.3f,%.3f,%s%n", 1000 + 5000 * random.nextDouble(),
                c + 0.4 * random.nextGaussian(), 2 * c + random.nextGaussian(), species[c]));
        }
        return Files.writeString(file, csv);
    }

    @Test
    void aTableRunIsReplayedExportedAndPredictedAsNumpyReadsIt() throws Exception {
        Path python = Tools.requirePython("numpy", "python3-numpy");
        Path table = flowers(dir.resolve("flowers.csv"), 300, 3);
        Path data = dir.resolve("run");
        var local = IkdCommandLineTest.ikd("local", "--dataset", "csv:" + table, "--label-column", "species", "--swap", "0.5",
            "--students", "2", "--steps", "40", "--pretrain-steps", "60", "--data-dir", data.toString(), "--run-id", "tab",
            "--metrics-port", "-1");
        assertThat(local.code()).as(local.err()).isZero();
        Map<String, String[]> live = reports(local.out());

        // The table moves: replay says how to give it, then verifies the IAKD run on it.
        Path moved = Files.move(table, Files.createDirectories(dir.resolve("elsewhere")).resolve("flowers.csv"));
        var lost = IkdCommandLineTest.ikd("replay", "--data-dir", data.toString(), "--run-id", "tab", "--verify");
        assertThat(lost.code()).isNotZero();
        assertThat(lost.err()).contains("table " + table + " does not exist").contains("give the run's data with --data PATH");
        var replay = IkdCommandLineTest.ikd("replay", "--data-dir", data.toString(), "--run-id", "tab", "--verify", "--data",
            moved.toString(), "--train-student", "mlp:32:8");
        assertThat(replay.code()).as(replay.err()).isZero();
        assertThat(replay.out()).contains("student-0: 40 of 40 steps verified, every hash matches the log (final "
            + live.get("student-0")[1] + ")").contains("student-1: 40 of 40 steps verified")
            .containsPattern("offline-mlp-32-8 +40 +0\\.\\d{4}");

        Path student = dir.resolve("student-1.safetensors");
        var export = IkdCommandLineTest.ikd("export", "--data-dir", data.toString(), "--run-id", "tab", "--student", "student-1",
            "--out", student.toString(), "--data", moved.toString());
        assertThat(export.code()).as(export.err()).isZero();
        ModelCard card = ModelCard.read(dir.resolve("student-1.json"));
        Dataset read = Datasets.csv(moved, new dev.ikd.core.data.Tables.Options(dev.ikd.core.data.Tables.Header.AUTO, "species"));
        assertThat(card.runId()).isEqualTo("tab");
        assertThat(card.spec()).isEqualTo("mlp:32:16,16");
        assertThat(card.classNames()).containsExactly("setosa", "versicolor", "virginica");
        assertThat(card.featureNames()).containsExactly("noise", "size", "width");
        assertThat(card.featureMean()).containsExactly(read.table().mean());
        assertThat(card.featureStd()).containsExactly(read.table().std());
        assertThat(card.paramSha256()).as("the hash the student's report names").isEqualTo(live.get("student-1")[1]);
        assertThat(String.format(Locale.ROOT, "%.4f", card.testAccuracy())).isEqualTo(live.get("student-1")[0]);
        assertThat(card.fileSha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
            .digest(Files.readAllBytes(student))));
        assertThat(card.dataSha256()).isEqualTo(read.sha256());
        assertThat(Safetensors.read(student).tensors().keySet()).containsExactly("stage1.w1", "stage1.b1", "stage1.w2",
            "stage1.b2", "stage2.w1", "stage2.b1", "stage2.w2", "stage2.b2", "head.w", "head.b");

        // Predict on the rows (the label column is there too, and is left out), and numpy on the same rows.
        assertPredictMatchesNumpy(python, student, moved);
        var lines = IkdCommandLineTest.ikd("predict", "--model", student.toString(), "--input", moved.toString());
        assertThat(lines.code()).as(lines.err()).isZero();
        assertThat(lines.out().lines().count()).isEqualTo(300);
        assertThat(lines.out()).containsPattern("row 1: (setosa|versicolor|virginica) \\(0\\.\\d{4}\\)  setosa=0\\.\\d{4} "
            + "versicolor=0\\.\\d{4} virginica=0\\.\\d{4}");
        Path missing = Files.writeString(dir.resolve("rows.csv"), "noise,size\n1000,1\n");
        var refused = IkdCommandLineTest.ikd("predict", "--model", student.toString(), "--input", missing.toString());
        assertThat(refused.code()).isEqualTo(Ikd.USAGE);
        assertThat(refused.err().strip()).isEqualTo("ikd: " + missing + " has no column 'width'; the model takes noise, size, width");

        // The teacher, and the teacher as IKD shaped it for student-0 (its copy of φ): both predict.
        for (String[] which : new String[][] {{"--teacher"}, {"--teacher-of", "student-0"}}) {
            Path out = dir.resolve(which.length == 1 ? "teacher.safetensors" : "teacher-of-0.safetensors");
            List<String> args = new java.util.ArrayList<>(List.of("export", "--data-dir", data.toString(), "--run-id", "tab", "--out",
                out.toString(), "--data", moved.toString()));
            args.addAll(List.of(which));
            var t = IkdCommandLineTest.ikd(args.toArray(String[]::new));
            assertThat(t.code()).as(t.err()).isZero();
            ModelCard tc = ModelCard.read(ModelCard.beside(out));
            assertThat(tc.spec()).isEqualTo("mlp:32:128,128");
            assertThat(tc.testAccuracy()).as(tc.model()).isGreaterThan(0.5);
            assertPredictMatchesNumpy(python, out, moved);
        }
        assertThat(ModelCard.read(dir.resolve("teacher.json")).paramSha256())
            .as("IKD moved student-0's copy of the teacher away from the pretrained one")
            .isNotEqualTo(ModelCard.read(dir.resolve("teacher-of-0.json")).paramSha256());
    }

    /** The teacher in mode ikd-adapter: exported with the adapter it learned for a student, which predict and numpy apply. */
    @Test
    void anAdapterTeacherIsExportedWithItsAdapter() throws Exception {
        Path python = Tools.requirePython("numpy", "python3-numpy");
        Path table = flowers(dir.resolve("flowers.csv"), 240, 5);
        Path data = dir.resolve("run");
        var local = IkdCommandLineTest.ikd("local", "--dataset", "csv:" + table, "--teacher-mode", "ikd-adapter", "--steps", "30",
            "--pretrain-steps", "60", "--data-dir", data.toString(), "--run-id", "ad", "--metrics-port", "-1");
        assertThat(local.code()).as(local.err()).isZero();
        Path out = dir.resolve("adapted.safetensors");
        var export = IkdCommandLineTest.ikd("export", "--data-dir", data.toString(), "--run-id", "ad", "--teacher-of", "student-0",
            "--out", out.toString());
        assertThat(export.code()).as(export.err()).isZero();
        assertThat(Safetensors.read(out).tensors()).containsKeys("head.w", "adapter.w1", "adapter.b1", "adapter.w2", "adapter.b2");
        assertThat(ModelCard.read(ModelCard.beside(out)).forward()).contains("logits -= tanh(h @ adapter.w1 + adapter.b1)");
        float[] w2 = Safetensors.read(out).tensors().get("adapter.w2").values();
        assertThat(w2).as("the adapter learned (its output layer starts at zero)").isNotEqualTo(new float[w2.length]);
        assertPredictMatchesNumpy(python, out, table);
    }

    /**
     * An image folder (grey PNGs and colour PNG/JPEG mixed, two sizes), resampled to 8x8: a cnn run
     * learns it; replay verifies it from the log; the exported student predicts a folder of images.
     */
    @Test
    void anImageFolderRunIsLearnedReplayedExportedAndPredicted() throws Exception {
        Path images = dev.ikd.core.data.TestImages.patterns(dir.resolve("patterns"), 40, 11, true);
        Path data = dir.resolve("run");
        // Classic KD: a setting that learns on any CPU (how far IKD's teacher may move is BENCHMARKS.md's question, not this test's).
        var local = IkdCommandLineTest.ikd("local", "--dataset", "images:" + images, "--image-size", "8", "--students", "2",
            "--steps", "60", "--pretrain-steps", "150", "--teacher-mode", "frozen", "--data-dir", data.toString(), "--run-id", "img",
            "--metrics-port", "-1");
        assertThat(local.code()).as(local.err()).isZero();
        assertThat(local.err()).contains("ikd: patterns: 120 rows, 192 features, 3 classes (checker ").contains("(3x8x8, channels "
            + "first, 0..1)");
        Map<String, String[]> live = reports(local.out());
        assertThat(Double.parseDouble(live.get("student-0")[0])).as("three classes: chance is 1/3").isGreaterThan(0.6);
        var replay = IkdCommandLineTest.ikd("replay", "--data-dir", data.toString(), "--run-id", "img", "--verify");
        assertThat(replay.code()).as(replay.err()).isZero();
        assertThat(replay.out()).contains("student-1: 60 of 60 steps verified, every hash matches the log");

        Path student = dir.resolve("img.safetensors");
        var export = IkdCommandLineTest.ikd("export", "--data-dir", data.toString(), "--run-id", "img", "--student", "student-0",
            "--out", student.toString());
        assertThat(export.code()).as(export.err()).isZero();
        ModelCard card = ModelCard.read(ModelCard.beside(student));
        assertThat(card.inputShape()).containsExactly(3, 8, 8);
        assertThat(card.loadOptions()).containsEntry("image-size", "8x8").containsEntry("image-channels", "3");
        assertThat(card.spec()).startsWith("cnn:");
        var predicted = IkdCommandLineTest.ikd("predict", "--model", student.toString(), "--input", images.toString());
        assertThat(predicted.code()).as(predicted.err()).isZero();
        List<String> lines = predicted.out().lines().toList();
        assertThat(lines).hasSize(120);
        long right = lines.stream().filter(l -> l.substring(0, l.indexOf('/')).equals(l.split(": ")[1].split(" ")[0])).count();
        assertThat(right).as("images whose predicted class is their folder").isGreaterThan(72);
        var one = IkdCommandLineTest.ikd("predict", "--model", student.toString(), "--input",
            images.resolve("vertical").resolve("001.png").toString(), "--json");
        assertThat(one.code()).as(one.err()).isZero();
        assertThat(JsonParser.parseString(one.out()).getAsJsonObject().getAsJsonArray("predictions")).hasSize(1);

        // numpy's convolutions on the card's input (the folder's images resampled as the card says) give the same probabilities.
        Path python = Tools.requirePython("numpy", "python3-numpy");
        StringBuilder samples = new StringBuilder();
        List<Path> files;
        try (var walk = Files.walk(images)) {
            files = walk.filter(dev.ikd.core.data.ImageFolders::isImage).sorted().toList();
        }
        for (Path f : files) {
            float[] x = dev.ikd.core.data.ImageFolders.pixels(f, dev.ikd.core.data.ImageFolders.Options.of(card.loadOptions()));
            for (int i = 0; i < x.length; i++) {
                samples.append(i == 0 ? "" : ",").append(x[i]);
            }
            samples.append('\n');
        }
        assertPredictMatchesNumpy(python, student, images, Files.writeString(dir.resolve("pixels.csv"), samples), 3);
    }

    /** The final accuracy and hash of each student in an 'ikd local' table. */
    static Map<String, String[]> reports(String out) {
        Map<String, String[]> reports = new java.util.TreeMap<>();
        Matcher m = Pattern.compile("(?m)^(student-\\d+) +\\d+ +(\\d\\.\\d{4}) +([0-9a-f]{64})$").matcher(out);
        while (m.find()) {
            reports.put(m.group(1), new String[] {m.group(2), m.group(3)});
        }
        assertThat(reports).as(out).isNotEmpty();
        return reports;
    }

    private void assertPredictMatchesNumpy(Path python, Path model, Path rows) throws Exception {
        assertPredictMatchesNumpy(python, model, rows, rows, 3);
    }

    /** ikd predict on {@code input} and numpy on {@code rows} (the same samples as numpy reads them) agree within 1e-5. */
    private void assertPredictMatchesNumpy(Path python, Path model, Path input, Path rows, int classes) throws Exception {
        var predicted = IkdCommandLineTest.ikd("predict", "--model", model.toString(), "--input", input.toString(), "--json");
        assertThat(predicted.code()).as(predicted.err()).isZero();
        JsonArray ours = JsonParser.parseString(predicted.out()).getAsJsonObject().getAsJsonArray("predictions");
        Path script = Tools.projectRoot().resolve("launcher/src/test/python/numpy_predict.py");
        var numpy = Tools.run(dir, 120, List.of(python.toString(), script.toString(), model.toString(),
            ModelCard.beside(model).toString(), rows.toString()));
        assertThat(numpy.code()).as(numpy.toString()).isZero();
        JsonArray theirs = JsonParser.parseString(numpy.output()).getAsJsonObject().getAsJsonArray("probabilities");
        assertThat(theirs.size()).isEqualTo(ours.size()).isGreaterThan(100);
        for (int i = 0; i < ours.size(); i++) {
            JsonObject row = ours.get(i).getAsJsonObject();
            JsonArray p = row.getAsJsonArray("probabilities");
            JsonArray q = theirs.get(i).getAsJsonArray();
            assertThat(p.size()).isEqualTo(classes);
            for (int j = 0; j < p.size(); j++) {
                assertThat(p.get(j).getAsDouble()).as("row %d class %d of %s", i + 1, j, model.getFileName())
                    .isCloseTo(q.get(j).getAsDouble(), within(1e-5));
            }
        }
    }
}
