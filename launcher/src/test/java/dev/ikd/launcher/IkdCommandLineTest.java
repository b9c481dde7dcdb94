package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IkdCommandLineTest {

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static synchronized Run ikd(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Ikd.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"broker", "gradcheck", "pretrain", "train", "bench", "bench accuracy", "bench memory",
            "replay", "export", "predict", "generate"}) {
            Run r = ikd((command + " --help").split(" "));
            assertThat(r.code()).as(command).isZero();
            assertThat(r.out()).as(command).startsWith("Usage: ikd " + command);
        }
    }

    /** Every command, down to each benchmark, takes --config; a key of the file reaches a command that declares none itself. */
    @Test
    void everyCommandTakesAConfigFileAndTheMissingCommandMessageNamesThemAll() throws Exception {
        Path config = Files.writeString(dir.resolve("run.properties"), "run-id=run-9\nstudents=1\n");
        List<String> paths = new java.util.ArrayList<>();
        java.util.function.BiConsumer<String, picocli.CommandLine> walk = new java.util.function.BiConsumer<>() {
            @Override
            public void accept(String prefix, picocli.CommandLine c) {
                c.getSubcommands().forEach((name, sub) -> {
                    paths.add((prefix + " " + name).strip());
                    accept(prefix + " " + name, sub);
                });
            }
        };
        walk.accept("", Ikd.commandLine());
        assertThat(paths).contains("keys", "gradcheck", "topics create", "topics describe", "bench accuracy", "bench dashboard", "export",
            "predict");
        for (String command : paths) {
            Run r = ikd((command + " --config " + config + " --help").split(" "));
            assertThat(r.code()).as(command + ": " + r.err()).isZero();
            assertThat(r.out()).as(command).contains("--config=FILE");
        }
        Run keys = ikd("keys", "--config", config.toString(), "--out", dir.resolve("keys").toString());
        assertThat(keys.code()).as(keys.err()).isZero();
        assertThat(keys.out()).startsWith("run run-9: keys of coordinator, teacher, student-0, one folder").endsWith("pins 1 students\n");

        Run none = ikd();
        assertThat(none.code()).isEqualTo(Ikd.USAGE);
        assertThat(none.err()).contains("a command is required (local, replay, ").contains("export, predict, bench)");
        assertThat(ikd("bench").err()).contains("a benchmark is required (accuracy, dashboard, lm, lm-services, memory, overhead, scale, teachers)");
    }

    /**
     * Every run option does something: given another value than the run's, it changes the resolved
     * configuration (--print-config), and the command line the wiring hands a service's own JVM
     * (RunOptions.asArgs) makes the same configuration. A new option missing here fails the walk.
     */
    @Test
    void everyRunOptionChangesTheResolvedRunAndTravelsToAServicesJvm() {
        String csv = "csv:" + dir.resolve("t.csv");
        String images = "images:" + dir.resolve("pictures");
        java.util.Map<String, String[]> other = new java.util.TreeMap<>(java.util.Map.ofEntries(
            java.util.Map.entry("--dataset", new String[] {"digits", "sentences"}),
            java.util.Map.entry("--image-size", new String[] {images, "8"}),
            java.util.Map.entry("--image-channels", new String[] {images, "3"}),
            java.util.Map.entry("--image-max-pixels", new String[] {images, "77"}),
            java.util.Map.entry("--csv-header", new String[] {csv, "no"}),
            java.util.Map.entry("--label-column", new String[] {csv, "kind"}),
            java.util.Map.entry("--csv-max-rows", new String[] {csv, "77"}),
            java.util.Map.entry("--csv-max-columns", new String[] {csv, "77"}),
            java.util.Map.entry("--csv-max-cell", new String[] {csv, "77"}),
            java.util.Map.entry("--datasets-dir", new String[] {"digits", "elsewhere"}),
            java.util.Map.entry("--teacher", new String[] {"digits", "mlp:32:64"}),
            java.util.Map.entry("--student", new String[] {"digits", "mlp:32:8"}),
            java.util.Map.entry("--teacher-mode", new String[] {"digits", "frozen"}),
            java.util.Map.entry("--teachers", new String[] {"digits", "2"}),
            java.util.Map.entry("--teacher-models", new String[] {"digits", "mlp:32:64"}),
            java.util.Map.entry("--teacher-weighting", new String[] {"digits", "confidence"}),
            java.util.Map.entry("--teachers-required", new String[] {"digits", "2"}),
            java.util.Map.entry("--teacher-deadline-ms", new String[] {"digits", "500"}),
            java.util.Map.entry("--students", new String[] {"digits", "3"}),
            java.util.Map.entry("--soft-targets", new String[] {"digits", "topk:8"}), // a language model's: refused for a classifier
            java.util.Map.entry("--steps", new String[] {"digits", "7"}),
            java.util.Map.entry("--seed", new String[] {"digits", "9"}),
            java.util.Map.entry("--swap", new String[] {"digits", "0.5:linear"}),
            java.util.Map.entry("--label-fraction", new String[] {"digits", "0.5"}),
            java.util.Map.entry("--lr", new String[] {"digits", "0.5"}),
            java.util.Map.entry("--momentum", new String[] {"digits", "0.5"}),
            java.util.Map.entry("--temperature", new String[] {"digits", "3"}),
            java.util.Map.entry("--alpha", new String[] {"digits", "0.5"}),
            java.util.Map.entry("--beta", new String[] {"digits", "0.25"}),
            java.util.Map.entry("--teacher-lr", new String[] {"digits", "0.5"}),
            java.util.Map.entry("--teacher-leash", new String[] {"digits", "none"}),
            java.util.Map.entry("--batch", new String[] {"digits", "16"}),
            java.util.Map.entry("--exam-batch", new String[] {"digits", "16"}),
            java.util.Map.entry("--pretrain-steps", new String[] {"digits", "7"}),
            java.util.Map.entry("--prefetch", new String[] {"digits", "3"}),
            java.util.Map.entry("--device", new String[] {"digits", "gpu"})));
        var run = Ikd.commandLine().getSubcommands().get("train").getCommandSpec().mixins().get("run");
        java.util.Set<String> options = new java.util.TreeSet<>();
        run.options().forEach(o -> options.add(o.longestName()));
        options.remove("--print-config");
        assertThat(other.keySet()).as("a value to try for every run option").isEqualTo(options);
        for (var e : other.entrySet()) {
            String option = e.getKey();
            String dataset = e.getValue()[0];
            Run before = ikd("train", "--dataset", dataset, "--print-config");
            Run after = ikd("train", "--dataset", dataset, option, e.getValue()[1], "--print-config");
            assertThat(before.code()).as(option + ": " + before.err()).isZero();
            if (after.code() != 0) {
                assertThat(after.code()).as(option).isEqualTo(Ikd.USAGE);
                assertThat(after.err().strip()).as(option + " refused with one line").startsWith("ikd: ").doesNotContain("\n");
                continue;
            }
            assertThat(after.out()).as(option + " changes the resolved run").isNotEqualTo(before.out());
            var options1 = new dev.ikd.wiring.RunOptions();
            new picocli.CommandLine(options1).parseArgs("--dataset", dataset, option, e.getValue()[1]);
            var options2 = new dev.ikd.wiring.RunOptions();
            new picocli.CommandLine(options2).parseArgs(options1.asArgs().toArray(String[]::new));
            assertThat(options2.resolved()).as(option + " travels to a service's JVM").isEqualTo(options1.resolved())
                .isEqualTo(after.out());
        }
    }

    /**
     * The run option table (RunOptionTable) and the picocli options are one list: a row for every
     * option, and a default that the description says the preset gives exactly where it does.
     */
    @Test
    void theRunOptionTableHasARowForEveryRunOptionAndSaysWhichDefaultsThePresetGives() {
        var run = Ikd.commandLine().getSubcommands().get("train").getCommandSpec().mixins().get("run");
        java.util.Set<String> options = new java.util.TreeSet<>();
        run.options().forEach(o -> options.add(o.longestName()));
        options.removeAll(dev.ikd.wiring.RunOptionTable.NOT_A_VALUE);
        assertThat(dev.ikd.wiring.RunOptionTable.ROWS.stream().map(dev.ikd.wiring.RunOptionTable.Row::option))
            .containsExactlyInAnyOrderElementsOf(options);
        for (var row : dev.ikd.wiring.RunOptionTable.ROWS) {
            String description = String.join(" ", run.findOption(row.option()).description());
            assertThat(description.contains("Default: the data set's preset")).as(row.option()).isEqualTo(row.preset());
        }
        assertThat(ikd("train", "--dataset", "imdb", "--help").out().replaceAll("\\s+", " ")).contains("Default: 0.1 (the imdb")
            .doesNotContain("${");
        assertThat(ikd("student", "--help").out().replaceAll("\\s+", " ")).contains("(the digits preset; --dataset picks another)")
            .doesNotContain("${");
    }

    /**
     * Every run option a command does not use, given on its command line, stops it with one line
     * naming where the option belongs, and is not in that command's --help; the arguments the wiring
     * gives that service's JVM leave it out.
     */
    @Test
    void everyRunOptionACommandDoesNotUseIsRefusedThereWithOneLine() {
        int refusals = 0;
        for (String command : List.of("coordinator", "teacher", "student", "pretrain")) {
            var refused = dev.ikd.wiring.RunOptionTable.refusedBy(command);
            String help = ikd(command, "--help").out();
            for (var e : refused.entrySet()) {
                Run r = command.equals("pretrain") ? ikd(command, e.getKey(), "1", "--out", dir.resolve("never.ckpt").toString())
                    : command.equals("student") ? ikd(command, "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--index", "0", e.getKey(), "1")
                    : ikd(command, "--bootstrap", "127.0.0.1:9", "--run-id", "r", e.getKey(), "1");
                assertThat(r.code()).as(command + " " + e.getKey()).isEqualTo(Ikd.USAGE);
                assertThat(r.err().strip()).isEqualTo("ikd " + command + ": " + e.getKey() + " is not taken here (" + e.getValue()
                    + ")");
                assertThat(help).as(command + " --help").doesNotContain(e.getKey() + "=");
                assertThat(dev.ikd.wiring.RunOptionTable.forCommand(command, List.of("--datasets-dir", "d", e.getKey(), "1", "--seed=2",
                    e.getKey() + "=1"))).containsExactly("--datasets-dir", "d", "--seed=2");
                refusals++;
            }
        }
        assertThat(refusals).as("the coordinator, the teacher, the student and pretrain each refuse some").isGreaterThan(20);
        assertThat(dev.ikd.wiring.RunOptionTable.refusedBy("coordinator")).containsKeys("--teacher", "--student", "--lr");
        assertThat(dev.ikd.wiring.RunOptionTable.refusedBy("teacher")).containsKeys("--prefetch", "--student", "--lr");
        assertThat(dev.ikd.wiring.RunOptionTable.refusedBy("local")).isEmpty();
    }

    /** A renamed option's old spelling stops with one line naming the new one, on the command line and in a config file. */
    @Test
    void aRenamedOptionIsRefusedWithItsNewName() throws Exception {
        String[][] cases = {
            {"replay", "--run", "r", "--verify"},
            {"export", "--data-dir", "x", "--run-id", "r", "--state=s", "--teacher-of", "student-0", "--out", "t.safetensors"},
            {"bench", "accuracy", "--iakd-swap", "0.5:linear"},
        };
        String[] expected = {"--run is now --run-id", "--state is now --state-dir", "--iakd-swap is now --swap"};
        for (int i = 0; i < cases.length; i++) {
            Run r = ikd(cases[i]);
            assertThat(r.code()).as(String.join(" ", cases[i])).isEqualTo(Ikd.USAGE);
            assertThat(r.err()).isEqualTo("ikd: " + expected[i] + " (one name per concept across every command)"
                + System.lineSeparator());
        }
        Path config = Files.writeString(dir.resolve("old.properties"), "run=r\n");
        Run fromFile = ikd("replay", "--config", config.toString(), "--verify");
        assertThat(fromFile.code()).isEqualTo(Ikd.USAGE);
        assertThat(fromFile.err().strip()).isEqualTo("ikd: config file " + config + ": run is now run-id (one name per concept "
            + "across every command)");
        // No command still has an old name, and every new one is an option of some command.
        java.util.Set<String> options = new java.util.TreeSet<>();
        java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(List.of(Ikd.commandLine()));
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.pop();
            options.addAll(c.getCommandSpec().optionsMap().keySet());
            todo.addAll(c.getSubcommands().values());
        }
        assertThat(options).doesNotContainAnyElementsOf(Ikd.RENAMED.keySet()).containsAll(Ikd.RENAMED.values());

        // An option a command shares but does not use is refused there, naming what it takes.
        Run pretrain = ikd("pretrain", "--dataset", "digits", "--steps", "5", "--out", dir.resolve("t.ckpt").toString());
        assertThat(pretrain.code()).isEqualTo(Ikd.USAGE);
        assertThat(pretrain.err().strip()).isEqualTo("ikd pretrain: --steps is not taken here (pretraining takes --teacher, "
            + "--pretrain-steps, --dataset, --seed and --device; the run's students, their steps and learning options belong to "
            + "the run)");
        assertThat(dir.resolve("t.ckpt")).doesNotExist();
    }

    @Test
    void badOptionsAndValuesStopWithOneLineAndExitCode2() {
        String[][] cases = {
            {"train", "--steps", "x"},
            {"train", "--teacher-mode", "bogus"},
            {"train", "--swap", "maybe"},
            {"local", "--dataset", "lm:bundled", "--secure"},
            {"local", "--dataset", "lm:bundled", "--compare", "kd"},
            {"student", "--dataset", "lm:bundled", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--index", "0"},
            {"train", "--student", "mlp:32"},
            {"train", "--dataset", "cifar"},
            {"train", "--dataset", "mnist", "--datasets-dir", "/nonexistent-ikd"},
            {"train", "--students", "0"},
            {"train", "--students", "two"},
            {"bench", "scale", "--students", "1,0"},
            {"bench", "scale", "--teacher-mode", "ikd,bogus"},
            {"train", "--lr", "-1"},
            {"gradcheck", "--dtype", "float16"},
            {"gradcheck", "--device", "tpu"},
            {"train", "--device", "gpu", "--steps", "1"},
            {"broker", "--port", "70000", "--data-dir", "x"},
            {"local", "--compare", "alone"},
            {"local", "--steps", "0"},
            {"student", "--run-id", "r", "--index", "0"},
            {"student", "--bootstrap", "nohost", "--run-id", "r", "--index", "0"},
            {"student", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--index", "-1"},
            {"student", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--index", "3-1"},
            {"student", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--index", "0-2", "--students", "2"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "a/b"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--replica", "a/b"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--feature-cache", "-1"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--micro-batch-ms", "-2"},
            {"coordinator", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--step-timeout-ms", "0"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--max-record-bytes", "4096"},
            {"local", "--teachers", "2", "--teacher-leash", "pilot=1"},
            {"train", "--teacher-leash", "pilot=yes"},
            {"coordinator", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--kafka-config", "/nonexistent-ikd/client.properties"},
            {"coordinator", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--keys", "/nonexistent-ikd"},
            {"keys", "--out", "x", "--run-id", "a/b"},
            {"broker", "--data-dir", "x", "--secure", "--students", "0"},
            {"replay", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--verify", "--keys", "/nonexistent-ikd"},
            {"bench", "overhead", "--variants", "fast"},
            {"replay", "--run-id", "r", "--verify"},
            {"replay", "--bootstrap", "127.0.0.1:9", "--run-id", "r"},
            {"replay", "--data-dir", "/nonexistent-ikd", "--run-id", "r", "--verify"},
            {"replay", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--train-student", "mlp"},
            {"local", "--resume", "r"},
            {"local", "--resume", "r", "--data-dir", "/nonexistent-ikd"},
            {"local", "--resume", "r", "--steps", "5"},
            {"gradcheck", "--teachers", "0"},
            {"export", "--data-dir", "/nonexistent-ikd", "--run-id", "r", "--student", "student-0", "--teacher-id", "teacher-a",
                "--out", "x.safetensors"},
            {"export", "--data-dir", "/nonexistent-ikd", "--run-id", "r", "--teacher", "--teacher-id", "teacher-1",
                "--out", "x.safetensors"},
            {"train", "--teachers", "27"},
            {"train", "--teachers", "2", "--teacher-models", "mlp:32:8"},
            {"train", "--teachers", "2", "--teacher-weighting", "fixed:1,2,3"},
            {"train", "--teacher-weighting", "confidence"},
            {"train", "--teachers", "2", "--swap", "0.5"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--teachers", "2"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--teachers", "2", "--teacher-id", "teacher-c"},
            {"teacher", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--teacher-id", "teacher-a"},
            {"gradcheck", "--teachers", "2", "--teacher-weighting", "fixed:1,2,3"},
            {"gradcheck", "--teachers", "2", "--teacher-weighting", "fixed:1,-1"},
            {"train", "--teachers", "2", "--teachers-required", "3"},
            {"train", "--teachers", "3", "--teachers-required", "0"},
            {"train", "--teachers", "3", "--teachers-required", "2", "--teacher-weighting", "fixed:1,0,1"},
            {"train", "--teachers", "3", "--teacher-deadline-ms", "100"},
            {"train", "--teachers", "3", "--teachers-required", "2", "--teacher-deadline-ms", "0"},
            {"student", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--teachers", "3", "--teachers-required", "2",
                "--teacher-deadline-ms", "100"},
            {"frobnicate"},
            {},
            {"broker", "--data-dir", "x", "--node-id", "1"},
            {"broker", "--data-dir", "x", "--node-id", "4", "--controller-quorum", "1@a:9093,2@b:9093,3@c:9093"},
            {"broker", "--data-dir", "x", "--node-id", "1", "--controller-quorum", "1@a:9093,2@b"},
            {"broker", "--data-dir", "x", "--node-id", "1", "--controller-quorum", "1@a:9093,1@b:9093"},
            {"broker", "--data-dir", "x", "--node-id", "1", "--controller-quorum", "1@a:9093", "--cluster-id", "nope"},
            {"broker", "--data-dir", "x", "--cluster-id", "MkU3OEVBNTcwNTJENDM2Qg"},
            {"broker", "--data-dir", "x", "--secure", "--node-id", "1", "--controller-quorum", "1@a:9093,2@b:9093"},
            {"broker", "--data-dir", "x", "--replication-factor", "0"},
            {"broker", "--data-dir", "x", "--replication-factor", "3", "--min-insync-replicas", "4"},
            {"broker", "--data-dir", "x", "--retention-ms", "0"},
            {"topics"},
            {"topics", "create"},
            {"topics", "create", "--bootstrap", "127.0.0.1:9", "--partitions", "0"},
            {"coordinator", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--progress-every", "-1"},
            {"train", "--config", "/nonexistent-ikd/run.properties"},
            {"dashboard"},
            {"dashboard", "--data-dir", "/nonexistent-ikd"},
            {"dashboard", "--bootstrap", "127.0.0.1:9", "--port", "70000"},
            {"dashboard", "--bootstrap", "127.0.0.1:9", "--step-timeout-ms", "0"},
            {"dashboard", "--data-dir", "x", "--kafka-config", "y"},
            {"train", "--config"},
            {"train", "--label-column", "species"},
            {"train", "--csv-header", "maybe"},
            {"train", "--image-size", "8"},
            {"train", "--dataset", "images:/nonexistent-ikd"},
            {"train", "--dataset", "csv:/nonexistent-ikd/t.csv"},
            {"train", "--teacher", "torchscript:/nonexistent-ikd/t.pt", "--teacher-mode", "frozen"},
            {"export", "--data-dir", "x", "--run-id", "r", "--student", "student-0", "--out", "student.bin"},
            {"export", "--data-dir", "x", "--run-id", "r", "--out", "s.safetensors"},
            {"export", "--data-dir", "x", "--run-id", "r", "--student", "s", "--teacher", "--out", "s.safetensors"},
            {"export", "--data-dir", "/nonexistent-ikd", "--run-id", "r", "--student", "student-0", "--out", "s.safetensors"},
            {"predict", "--model", "/nonexistent-ikd/s.safetensors", "--input", "rows.csv"},
            {"predict", "--input", "rows.csv"},
            {"train", "--student", "torchscript:t.pt"},
            {"replay", "--bootstrap", "127.0.0.1:9", "--run-id", "r", "--train-student", "torchscript:t.pt"},
        };
        for (String[] args : cases) {
            Run r = ikd(args);
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(Ikd.USAGE);
            String[] lines = r.err().strip().lines().filter(l -> l.startsWith("ikd: ")).toArray(String[]::new);
            assertThat(lines).as(String.join(" ", args) + ": " + r.err()).hasSize(1);
            assertThat(r.err()).as(String.join(" ", args)).doesNotContain("Exception", "\tat ");
        }
        assertThat(ikd("train", "--dataset", "mnist", "--datasets-dir", "/nonexistent-ikd").err())
            .contains("run scripts/fetch-data.sh mnist");
    }

    @Test
    void aConfigFileGivesEveryCommandItsOptionsTheCommandLineWinsAndATypoStops() throws Exception {
        Path config = Files.writeString(dir.resolve("run.properties"), String.join("\n", "# one file for every service of a run",
            "dataset=digits", "students=2", "steps=30", "pretrain-steps=100", "seed=3", "teacher.feature-cache=64",
            "bootstrap=kafka-1:9092", "run-id=run-7", ""));
        Run fromFile = ikd("train", "--config", config.toString(), "--json");
        Run spelledOut = ikd("train", "--dataset", "digits", "--students", "2", "--steps", "30", "--pretrain-steps", "100", "--seed",
            "3", "--json");
        assertThat(fromFile.code()).as(fromFile.err()).isZero();
        assertThat(JsonParser.parseString(fromFile.out().strip()).getAsJsonObject().get("students"))
            .isEqualTo(JsonParser.parseString(spelledOut.out().strip()).getAsJsonObject().get("students"));
        Run overridden = ikd("train", "--config=" + config, "--seed", "1", "--json");
        assertThat(JsonParser.parseString(overridden.out().strip()).getAsJsonObject().get("students"))
            .isNotEqualTo(JsonParser.parseString(fromFile.out().strip()).getAsJsonObject().get("students"));

        // --help shows the values the file gives, and a COMMAND.key reaches only that command.
        Run teacherHelp = ikd("teacher", "--config", config.toString(), "--help");
        assertThat(teacherHelp.out()).contains("Default: 30").contains("Default: 64");
        assertThat(ikd("coordinator", "--config", config.toString(), "--help").out()).doesNotContain("feature-cache");

        Files.writeString(config, "steps=30\nrun_id=run-7\n");
        Run typo = ikd("train", "--config", config.toString());
        assertThat(typo.code()).isEqualTo(Ikd.USAGE);
        assertThat(typo.err().strip()).isEqualTo("ikd: config file " + config + ": no ikd command has the option run_id "
            + "(keys are long option names without dashes, e.g. run-id)");
        assertThat(ConfigFile.named(new String[] {"student"}, "/etc/ikd/run.properties")).isEqualTo(Path.of("/etc/ikd/run.properties"));

        // Several teachers' models, one key each.
        Files.writeString(config, "teacher.a.model=mlp:32:64\nteacher.b.model=mlp:32:16\nteacher-weighting=confidence\n");
        Run two = ikd("train", "--config", config.toString(), "--print-config");
        assertThat(two.code()).as(two.err()).isZero();
        assertThat(two.out()).contains("teachers=2\n").contains("teacher-models=mlp:32:64;mlp:32:16\n");
        Files.writeString(config, "teacher.a.model=mlp:32:64\nteacher.c.model=mlp:32:16\n");
        assertThat(ikd("train", "--config", config.toString(), "--print-config").err().strip()).isEqualTo("ikd: config file " + config
            + ": teacher.c.model without teacher.b.model (teachers are teacher-a, teacher-b, ... in order)");
        assertThat(ConfigFile.named(new String[] {"student"}, null)).isNull();
    }

    /**
     * A table whose one column is noise in the thousands and whose class lies in a small column:
     * standardised by the training split, students learn it; the run says what it read.
     */
    @Test
    void aTableWithAColumnInTheThousandsIsLearnedAndSummarised() throws Exception {
        StringBuilder csv = new StringBuilder("noise;size;species\n".replace(';', ','));
        java.util.Random random = new java.util.Random(7);
        String[] species = {"setosa", "versicolor", "virginica"};
        for (int i = 0; i < 300; i++) {
            int c = i % 3;
            csv.append(String.format(java.util.Locale.ROOT, "%.1f,%.3f,%s%n", 1000 + 5000 * random.nextDouble(),
                c + 0.3 * random.nextGaussian(), species[c]));
        }
        Path table = Files.writeString(dir.resolve("flowers.csv"), csv);
        Run r = ikd("train", "--dataset", "csv:" + table, "--label-column", "species", "--students", "1", "--steps", "300",
            "--pretrain-steps", "300", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("ikd: flowers.csv: 300 rows, 2 features, 3 classes (setosa 3")
            .contains("240 train / 60 test; features standardised with the training split's mean and deviation");
        double accuracy = JsonParser.parseString(r.out().strip()).getAsJsonObject().getAsJsonArray("students").get(0)
            .getAsJsonObject().get("test_accuracy").getAsDouble();
        // Measured on such a table: 0.65 standardised, 0.27 (chance) with the raw columns.
        assertThat(accuracy).as("three classes: chance is 1/3").isGreaterThan(0.5);
        Run unknown = ikd("train", "--dataset", "csv:" + table, "--label-column", "kind", "--steps", "1");
        assertThat(unknown.code()).isEqualTo(Ikd.USAGE);
        assertThat(unknown.err().strip()).startsWith("ikd: --label-column 'kind': no such column in ").endsWith(
            "(its columns: noise, size, species)");
    }

    /** --help names the values a run takes from its data set's preset: the --dataset given, or the default. */
    @Test
    void helpShowsThePresetDefaultsOfTheDataSet() {
        var digits = dev.ikd.core.train.Presets.forDataset("digits");
        var imdb = dev.ikd.core.train.Presets.forDataset("imdb");
        String plain = ikd("train", "--help").out().replaceAll("\\s+", " ");
        assertThat(plain).contains("--lr=<lr> Student learning rate η. Default: " + digits.studentConfig().learningRate()
            + " (the digits preset; --dataset picks another)").contains("Default: " + digits.teacher() + " (the digits preset");
        String text = ikd("local", "--dataset", "imdb", "--help").out().replaceAll("\\s+", " ");
        assertThat(text).contains("Default: " + imdb.studentConfig().learningRate() + " (the imdb preset")
            .contains("Default: " + imdb.student() + " (the imdb preset").contains("Default: " + imdb.pretrain().steps() + " (the imdb");
        assertThat(ikd("train", "--dataset", "images:x", "--help").out().replaceAll("\\s+", " "))
            .contains("Default: " + dev.ikd.core.train.Presets.forDataset("images").teacher() + " (the images preset");
    }

    /** --print-config shows the preset's values, and what it prints, given back as --config, is the same run. */
    @Test
    void printConfigShowsThePresetFilledInAndIsAConfigFileForTheSameRun() throws Exception {
        Run printed = ikd("train", "--dataset", "digits", "--students", "2", "--steps", "20", "--pretrain-steps", "100", "--print-config");
        assertThat(printed.code()).as(printed.err()).isZero();
        var preset = dev.ikd.core.train.Presets.forDataset("digits");
        assertThat(printed.out()).contains("lr=" + preset.studentConfig().learningRate() + "\n")
            .contains("temperature=" + preset.studentConfig().temperature() + "\n").contains("teacher=" + preset.teacher() + "\n")
            .contains("students=2\n").contains("steps=20\n").contains("teacher-mode=ikd\n");
        Path config = Files.writeString(dir.resolve("resolved.properties"), printed.out());
        Run fromConfig = ikd("train", "--config", config.toString(), "--json");
        Run direct = ikd("train", "--dataset", "digits", "--students", "2", "--steps", "20", "--pretrain-steps", "100", "--json");
        assertThat(fromConfig.code()).as(fromConfig.err()).isZero();
        assertThat(JsonParser.parseString(fromConfig.out().strip()).getAsJsonObject().get("students"))
            .isEqualTo(JsonParser.parseString(direct.out().strip()).getAsJsonObject().get("students"));
        assertThat(ikd("coordinator", "--bootstrap", "k:9092", "--run-id", "r", "--print-config").out()).contains("dataset=digits\n");
    }

    @Test
    void trainPrintsTheSameHashForTheSameSeedAndJsonOnStdout() {
        String[] args = {"train", "--dataset", "digits", "--students", "2", "--steps", "30", "--pretrain-steps", "100", "--json"};
        Run a = ikd(args);
        Run b = ikd(args);
        assertThat(a.code()).as(a.err()).isZero();
        JsonObject ja = JsonParser.parseString(a.out().strip()).getAsJsonObject();
        JsonObject jb = JsonParser.parseString(b.out().strip()).getAsJsonObject();
        assertThat(ja.getAsJsonArray("students")).hasSize(2);
        String hash0 = ja.getAsJsonArray("students").get(0).getAsJsonObject().get("param_sha256").getAsString();
        String hash1 = ja.getAsJsonArray("students").get(1).getAsJsonObject().get("param_sha256").getAsString();
        assertThat(hash0).hasSize(64).isNotEqualTo(hash1);
        assertThat(jb.getAsJsonArray("students")).isEqualTo(ja.getAsJsonArray("students"));
    }

    @Test
    void aPretrainedTeacherCheckpointDrivesTrainAndACorruptedOneIsRefused() throws Exception {
        Path ckpt = dir.resolve("teacher.ckpt");
        Run p = ikd("pretrain", "--dataset", "digits", "--pretrain-steps", "100", "--out", ckpt.toString());
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(p.out()).contains("checkpoint " + ckpt);
        Run pj = ikd("pretrain", "--dataset", "digits", "--pretrain-steps", "100", "--out", dir.resolve("again.ckpt").toString(), "--json");
        JsonObject pretrained = JsonParser.parseString(pj.out().strip()).getAsJsonObject();
        assertThat(p.out()).contains("(sha256 " + pretrained.get("param_sha256").getAsString() + ")")
            .contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f", pretrained.get("test_accuracy").getAsDouble()));
        assertThat(pretrained.get("steps").getAsInt()).isEqualTo(100);
        Run fromCkpt = ikd("train", "--steps", "20", "--pretrain-steps", "100", "--teacher-checkpoint", ckpt.toString(), "--json");
        Run fresh = ikd("train", "--steps", "20", "--pretrain-steps", "100", "--json");
        assertThat(fromCkpt.code()).as(fromCkpt.err()).isZero();
        // The checkpoint holds exactly the teacher that pretraining makes: same run, same student.
        assertThat(JsonParser.parseString(fromCkpt.out().strip()).getAsJsonObject().get("students"))
            .isEqualTo(JsonParser.parseString(fresh.out().strip()).getAsJsonObject().get("students"));

        byte[] bytes = Files.readAllBytes(ckpt);
        bytes[bytes.length / 2] ^= 0x10;
        Path bad = Files.write(dir.resolve("bad.ckpt"), bytes);
        Run refused = ikd("train", "--steps", "5", "--teacher-checkpoint", bad.toString());
        assertThat(refused.code()).isEqualTo(Ikd.USAGE);
        assertThat(refused.err()).contains("is corrupted");

        Run otherData = ikd("train", "--dataset", "sentences", "--steps", "5", "--teacher", "mlp:32:128,128",
            "--student", "mlp:32:16,16", "--teacher-checkpoint", ckpt.toString());
        assertThat(otherData.code()).isEqualTo(Ikd.USAGE);
        assertThat(otherData.err()).contains("was trained on data set digits");
    }

    @Test
    void localRunsTheServicesOverItsOwnBrokerAndVerifiesThemInProcess() throws Exception {
        Path data = dir.resolve("run");
        Run r = ikd("local", "--students", "2", "--steps", "15", "--pretrain-steps", "100", "--data-dir", data.toString(),
            "--run-id", "cli", "--metrics-port", "-1", "--verify-inprocess", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonObject o = JsonParser.parseString(r.out().strip()).getAsJsonObject();
        assertThat(o.get("run_id").getAsString()).isEqualTo("cli");
        assertThat(o.get("data_dir").getAsString()).isEqualTo(data.toAbsolutePath().toString());
        assertThat(o.get("verified_inprocess").getAsBoolean()).isTrue();
        assertThat(o.getAsJsonArray("students")).hasSize(2);
        assertThat(o.getAsJsonArray("students").get(1).getAsJsonObject().get("steps").getAsLong()).isEqualTo(15);
        assertThat(Files.exists(data.resolve("teacher.ckpt"))).isTrue();
        assertThat(Files.isDirectory(data.resolve("kafka"))).isTrue();
        assertThat(r.err()).contains("student-1 step 15/15");
    }

    /**
     * Crash-only: a service that cannot make its state durable stops at once, with one line saying
     * which and why, and the process exits 3 (started again, it would resume). Here the state
     * directory cannot be created because a file stands where it should be.
     */
    @Test
    void aServiceThatCannotCheckpointStopsTheProcessWithOneLine() throws Exception {
        Path data = dir.resolve("run");
        Files.createDirectories(data);
        Files.writeString(data.resolve("state"), "not a directory");
        Run r = ikd("local", "--students", "1", "--steps", "5", "--pretrain-steps", "60", "--data-dir", data.toString(),
            "--run-id", "full", "--metrics-port", "-1");
        assertThat(r.code()).as(r.err()).isEqualTo(Ikd.STOPPED);
        assertThat(r.err().lines().filter(l -> l.startsWith("ikd: "))).singleElement().asString()
            .matches("ikd: (student-0|teacher) stopped: cannot make the state of student-0 durable: cannot write checkpoint .*")
            .endsWith("(started again with the same command, it resumes from its last checkpoint)");
        assertThat(r.err()).doesNotContain("\tat ");
    }

    /**
     * The other teacher modes over the wire end on the in-process hashes too: the adapter modes read
     * the shared backbone's feature cache on both sides, and IAKD students swap in the teacher's
     * stages fetched from ikd.teacher-blocks. With several teachers, each adapts to each student on
     * its own share of the feedback; with a deadline of 1 ms, steps go without whichever teacher was
     * late (which, is up to the machine), and the in-process run follows the log's record of them.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"--teacher-mode ikd-adapter", "--teacher-mode pesf",
        "--teacher-mode frozen", "--teacher-mode ikd --swap 0.5:linear", "--teacher-mode ikd-adapter --swap 0.3",
        "--teacher-mode ikd-adapter --teachers 2 --teacher-weighting confidence", "--teacher-mode pesf --teachers 2",
        "--teacher-mode ikd --teachers 3 --teachers-required 2 --teacher-deadline-ms 1",
        "--teacher-mode frozen --teachers 2 --teachers-required 1 --teacher-deadline-ms 1"})
    void everyModeOverTheWireEndsOnTheInProcessHashes(String mode) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("local", "--students", "2", "--steps", "12", "--pretrain-steps",
            "60", "--data-dir", dir.resolve("run").toString(), "--metrics-port", "-1", "--verify-inprocess", "--json"));
        args.addAll(List.of(mode.split(" ")));
        Run r = ikd(args.toArray(String[]::new));
        assertThat(r.code()).as(mode + ": " + r.err()).isZero();
        assertThat(JsonParser.parseString(r.out().strip()).getAsJsonObject().get("verified_inprocess").getAsBoolean()).as(mode)
            .isTrue();
    }
}
