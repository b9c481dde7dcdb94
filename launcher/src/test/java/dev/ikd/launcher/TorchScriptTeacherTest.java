package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.StepListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Teachers;

/**
 * A user's own TorchScript teacher (issue: your own teacher), made by the committed script with
 * Debian's python3-torch: served by two teacher replicas in their own JVMs (each loads the file,
 * the feature cache holds its outputs) in mode ikd-adapter, the students end on the in-process
 * hashes; its features from a second output of forward or from a named method give the same run;
 * and what it cannot do is refused with the reason.
 */
class TorchScriptTeacherTest {

    @TempDir
    Path dir;

    private Path teacher;
    private Path byMethod;

    @BeforeEach
    void makeTeachers() throws Exception {
        Path python = Tools.requirePython("torch", "python3-torch");
        var made = Tools.run(dir, 300, List.of(python.toString(),
            Tools.projectRoot().resolve("scripts/make-torchscript-teacher.py").toString(), dir.toString(), "--steps", "200"));
        assertThat(made.code()).as(made.toString()).isZero();
        assertThat(made.output()).containsPattern("digits teacher: 200 steps, accuracy 0\\.\\d{4}");
        teacher = dir.resolve("digits-teacher.pt");
        byMethod = dir.resolve("digits-teacher-method.pt");
    }

    static List<String> reference(String... args) {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), args);
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (NDManager manager = NDManager.newBaseManager()) {
            Params none = Teachers.obtain(c, data, null, manager, false);
            TrainResult r = ReferenceTrainer.run(c, data, none, manager, StepListener.NONE);
            return r.students().stream().map(TrainResult.StudentResult::paramSha256).toList();
        }
    }

    @Test
    void twoReplicasServeItAndTheStudentsEndOnTheInProcessHashes() throws Exception {
        String[] run = {"--dataset", "digits", "--teacher", "torchscript:" + teacher, "--teacher-mode", "ikd-adapter",
            "--students", "2", "--steps", "30"};
        List<String> expected = reference(run);
        try (Jvms fleet = new Jvms(dir)) {
            Jvms.Broker broker = fleet.broker(List.of());
            List<String> common = DistributedRunTest.with(run, "--bootstrap", broker.bootstrap(), "--run-id", "ts",
                "--metrics-port", "-1", "--state-dir", dir.resolve("state").toString());
            List<Jvms.Jvm> jvms = new ArrayList<>();
            jvms.add(fleet.start("coordinator", DistributedRunTest.args("coordinator", common)));
            for (String replica : List.of("a", "b")) {
                jvms.add(fleet.start("teacher-" + replica, DistributedRunTest.args("teacher", common, "--replica", replica)));
            }
            List<Jvms.Jvm> students = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                students.add(fleet.start("student-" + i, DistributedRunTest.args("student", common, "--index",
                    Integer.toString(i), "--json")));
            }
            for (int i = 0; i < 2; i++) {
                assertThat(students.get(i).await(240)).as(students.get(i).stderr()).isZero();
                assertThat(DistributedRunTest.hashOf(students.get(i).stdout())).as("student-" + i).isEqualTo(expected.get(i));
            }
            for (Jvms.Jvm jvm : jvms) {
                assertThat(jvm.await(120)).as(jvm.stderr()).isZero();
            }
        }
        // The features from the module's own method instead of a second output: the same numbers.
        assertThat(reference("--dataset", "digits", "--teacher", "torchscript:" + byMethod + "#features", "--teacher-mode",
            "ikd-adapter", "--students", "2", "--steps", "30")).isEqualTo(expected);
    }

    /** The adapter IKD learned beside a TorchScript teacher is exported, and predicts with the module it names. */
    @Test
    void theAdapterLearnedBesideItIsExportedAndPredicts() throws Exception {
        Path data = dir.resolve("run");
        var local = IkdCommandLineTest.ikd("local", "--teacher", "torchscript:" + teacher, "--teacher-mode", "ikd-adapter",
            "--steps", "30", "--data-dir", data.toString(), "--run-id", "tsa", "--metrics-port", "-1");
        assertThat(local.code()).as(local.err()).isZero();
        Path out = dir.resolve("adapter.safetensors");
        var export = IkdCommandLineTest.ikd("export", "--data-dir", data.toString(), "--run-id", "tsa", "--teacher-of", "student-0",
            "--out", out.toString());
        assertThat(export.code()).as(export.err()).isZero();
        assertThat(dev.ikd.learning.export.Safetensors.read(out).tensors().keySet())
            .containsExactly("adapter.w1", "adapter.b1", "adapter.w2", "adapter.b2");
        var card = dev.ikd.learning.export.ModelCard.read(dev.ikd.learning.export.ModelCard.beside(out));
        assertThat(card.spec()).isEqualTo("torchscript:" + teacher);
        assertThat(card.testAccuracy()).as("the digits teacher with its adapter").isGreaterThan(0.8);
        Path rows = java.nio.file.Files.writeString(dir.resolve("rows.csv"), String.join(",", java.util.Collections.nCopies(64, "0"))
            + "\n" + String.join(",", java.util.Collections.nCopies(64, "0.5")) + "\n");
        var predicted = IkdCommandLineTest.ikd("predict", "--model", out.toString(), "--input", rows.toString());
        assertThat(predicted.code()).as(predicted.err()).isZero();
        assertThat(predicted.out()).containsPattern("row 1: \\d \\(0\\.\\d{4}\\)").containsPattern("row 2: \\d");
        var whole = IkdCommandLineTest.ikd("export", "--data-dir", data.toString(), "--run-id", "tsa", "--teacher", "--out",
            dir.resolve("t.safetensors").toString());
        assertThat(whole.code()).isEqualTo(Ikd.USAGE);
        assertThat(whole.err()).contains("teacher is the TorchScript module").contains("export the adapter it learned");
    }

    @Test
    void aLogitsOnlyModuleServesFrozenAndWhatItCannotDoIsRefused() {
        var local = IkdCommandLineTest.ikd("local", "--teacher", "torchscript:" + teacher, "--teacher-mode", "frozen", "--steps",
            "20", "--metrics-port", "-1");
        assertThat(local.code()).as(local.err()).isZero();
        // Frozen, a module that gives the logits alone serves as well: the same soft targets, the same student.
        var logitsOnly = IkdCommandLineTest.ikd("local", "--teacher", "torchscript:" + byMethod, "--teacher-mode", "frozen",
            "--steps", "20", "--metrics-port", "-1");
        assertThat(logitsOnly.code()).as(logitsOnly.err()).isZero();
        assertThat(YourDataTest.reports(logitsOnly.out()).get("student-0")).isEqualTo(YourDataTest.reports(local.out())
            .get("student-0"));
        String[][] refused = {
            {"--teacher", "torchscript:" + teacher, "--teacher-mode", "ikd"},
            {"--teacher", "torchscript:" + teacher, "--teacher-mode", "frozen", "--swap", "0.5"},
            {"--teacher", "torchscript:" + byMethod, "--teacher-mode", "ikd-adapter"},
            {"--teacher", "torchscript:" + byMethod + "#nothing", "--teacher-mode", "pesf"},
            {"--teacher", "torchscript:" + dir.resolve("absent.pt"), "--teacher-mode", "frozen"},
            {"--teacher", "torchscript:" + teacher, "--teacher-mode", "frozen", "--dataset", "sentences"},
        };
        String[] reasons = {
            "is frozen: use --teacher-mode frozen, pesf or ikd-adapter",
            "--swap needs student stages that fit the teacher's",
            "needs the teacher's penultimate features: return (logits, features) from forward, or name a method",
            "method 'nothing' failed: Method 'nothing' is not defined.",
            "does not exist or cannot be read",
            "failed on a batch of shape (2, 32)",
        };
        for (int i = 0; i < refused.length; i++) {
            List<String> args = new ArrayList<>(List.of("train", "--steps", "5", "--students", "1"));
            args.addAll(List.of(refused[i]));
            var r = IkdCommandLineTest.ikd(args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", refused[i]) + "\n" + r.err()).isEqualTo(Ikd.USAGE);
            assertThat(r.err().strip()).as(String.join(" ", refused[i])).startsWith("ikd: ").contains(reasons[i])
                .doesNotContain("\n").doesNotContain("Exception");
        }
    }
}
