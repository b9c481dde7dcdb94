package dev.ikd.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.wiring.HopLog;
import dev.ikd.wiring.RunOptionTable;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceProcess;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ikd bench teachers}: what each more teacher costs a step. For each teacher count K, a run
 * whose coordinator, K teachers and students each have a JVM of their own on one embedded broker;
 * its steady-state ms per step from the services' hop logs, as a ratio to one teacher measured in the
 * same repeat (the counts take turns going first, after one warm-up run), and its final hashes against
 * the in-process run.
 */
@Command(name = "teachers", mixinStandardHelpOptions = true,
    description = "Step time with 1, 2, 3, ... teachers, every service in a JVM of its own; writes teachers.json.")
public final class TeachersBench implements Callable<Integer> {

    @Mixin
    RunOptions run;

    @Mixin
    BenchOutput output;

    @Spec
    CommandSpec spec;

    @Option(names = "--teacher-counts", split = ",", defaultValue = "1,2,3",
        description = "Teacher counts to compare; the first is the baseline of the ratio. Default: ${DEFAULT-VALUE}")
    List<Integer> counts;

    @Option(names = "--repeats", defaultValue = "5", description = "Runs of each count (after one run not recorded). "
        + "Default: ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--warmup-steps", defaultValue = "20", description = "Steps not timed at the start. Default: ${DEFAULT-VALUE}")
    int warmupSteps;

    @Override
    public Integer call() throws Exception {
        if (BenchOutput.given(spec, "--teachers")) {
            throw new IllegalArgumentException("ikd bench teachers takes --teacher-counts, not --teachers");
        }
        if (counts.isEmpty() || counts.stream().anyMatch(k -> k < 1)) {
            throw new IllegalArgumentException("--teacher-counts must be counts of at least 1, got " + counts);
        }
        if (repeats < 1) {
            throw new IllegalArgumentException("--repeats must be at least 1, got " + repeats);
        }
        if (run.steps < warmupSteps + 10) {
            throw new IllegalArgumentException("--steps " + run.steps + " leaves fewer than 10 timed steps after --warmup-steps "
                + warmupSteps);
        }
        Dataset data = run.loadDataset();
        Map<Integer, List<String>> args = new LinkedHashMap<>();
        Map<Integer, List<String>> expected = new LinkedHashMap<>();
        for (int k : counts) {
            run.teachers = k;
            TrainConfig c = run.toConfig();
            Services.requireDistributable(c);
            args.put(k, run.asArgs());
            try (NDManager manager = run.newManager()) {
                List<Params> teachers = Teachers.obtainAll(c, data, null, manager, false);
                expected.put(k, ReferenceTrainer.run(c, data, teachers, manager, StepListener.NONE).students().stream()
                    .map(TrainResult.StudentResult::paramSha256).toList());
            }
        }
        Path dir = Files.createTempDirectory("ikd-bench-teachers-");
        JsonArray rows = new JsonArray();
        try (EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")))) {
            Services.ensureTopics(broker.bootstrapServers(), 4);
            // Warm-up, not recorded: the broker's topics and the page cache (every run's JVMs start cold alike).
            inProcesses(dir.resolve("warmup"), args.get(counts.get(0)), broker.bootstrapServers(), "teachers-warmup-"
                + System.currentTimeMillis(), counts.get(0));
            for (int r = 0; r < repeats; r++) {
                for (int k : OverheadBench.rotate(counts, r)) {
                    String runId = String.format(Locale.ROOT, "teachers-%d-%d-%d", k, r, System.currentTimeMillis());
                    JsonObject row = inProcesses(dir.resolve(runId), args.get(k), broker.bootstrapServers(), runId, k);
                    row.addProperty("repeat", r);
                    row.addProperty("same_hashes", row.remove("hashes").toString().equals(new com.google.gson.Gson()
                        .toJsonTree(expected.get(k)).toString()));
                    rows.add(row);
                    System.err.printf(Locale.ROOT, "%d teacher%s, repeat %d: %.2f ms per step%n", k, k == 1 ? "" : "s", r + 1,
                        row.get("ms_per_step").getAsDouble());
                }
            }
        }
        JsonArray summary = summarise(rows, counts);
        JsonObject result = new JsonObject();
        result.addProperty("command", "ikd " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        result.addProperty("dataset", run.dataset);
        result.addProperty("students", RunOptions.studentCount(run.students));
        result.addProperty("steps", run.steps);
        result.addProperty("warmup_steps", warmupSteps);
        result.addProperty("cores", Runtime.getRuntime().availableProcessors());
        result.add("runs", rows);
        result.add("summary", summary);
        output.record("teachers", result, markdown(result));
        boolean same = true;
        for (var row : rows) {
            same &= row.getAsJsonObject().get("same_hashes").getAsBoolean();
        }
        if (!same) {
            throw new IllegalStateException("a distributed run of several teachers did not end on the in-process hashes: see "
                + output.results.resolve("teachers.json"));
        }
        return 0;
    }

    /** One run: the coordinator, {@code k} teachers and each student in JVMs of their own; its ms per step and hashes. */
    private JsonObject inProcesses(Path runDir, List<String> runArgs, String bootstrap, String runId, int k) throws Exception {
        Files.createDirectories(runDir);
        List<String> common = new ArrayList<>(runArgs);
        common.addAll(List.of("--bootstrap", bootstrap, "--run-id", runId, "--metrics-port", "-1"));
        int students = RunOptions.studentCount(run.students);
        List<ServiceProcess> fleet = new ArrayList<>();
        try {
            fleet.add(start(runDir, "coordinator", common));
            for (int t = 0; t < k; t++) {
                String id = k == 1 ? "teacher" : "teacher-" + (char) ('a' + t);
                fleet.add(k == 1 ? start(runDir, id, common) : start(runDir, id, common, "--teacher-id", id));
            }
            List<ServiceProcess> studentProcesses = new ArrayList<>();
            for (int i = 0; i < students; i++) {
                ServiceProcess p = start(runDir, Services.studentId(i), common, "--index", Integer.toString(i), "--json");
                studentProcesses.add(p);
                fleet.add(p);
            }
            for (ServiceProcess p : fleet) {
                p.awaitSuccess(3600);
            }
            List<HopLog.Sample> samples = new ArrayList<>();
            for (ServiceProcess p : fleet) {
                samples.addAll(HopLog.read(runDir.resolve(p.name() + ".hops")));
            }
            HopAnalysis.Result hops = HopAnalysis.of(samples, students, run.steps, warmupSteps);
            JsonObject row = new JsonObject();
            row.addProperty("teachers", k);
            row.addProperty("ms_per_step", hops.msPerStep());
            row.addProperty("hops_per_step", hops.hopsPerStep());
            row.addProperty("hop_p50_ms", hops.hopP50Ms());
            JsonArray hashes = new JsonArray();
            studentProcesses.forEach(p -> hashes.add(OverheadBench.hashOf(p.stdout())));
            row.add("hashes", hashes);
            return row;
        } finally {
            fleet.forEach(ServiceProcess::destroy);
        }
    }

    /** {@code ikd NAME} with the run options that service takes, its hop log and {@code more}. */
    private static ServiceProcess start(Path runDir, String name, List<String> common, String... more) throws Exception {
        String command = name.startsWith("teacher") ? "teacher" : name.startsWith("student") ? "student" : name;
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(RunOptionTable.forCommand(command, common));
        all.addAll(List.of("--hop-log", runDir.resolve(name + ".hops").toString()));
        all.addAll(List.of(more));
        return ServiceProcess.start(runDir, name, all);
    }

    /** Per count: the median ms per step, and the median over repeats of its ratio to the first count's in the same repeat. */
    static JsonArray summarise(JsonArray rows, List<Integer> counts) {
        JsonArray out = new JsonArray();
        for (int k : counts) {
            List<Double> ms = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
            boolean same = true;
            for (var e : rows) {
                JsonObject row = e.getAsJsonObject();
                if (row.get("teachers").getAsInt() != k) {
                    continue;
                }
                ms.add(row.get("ms_per_step").getAsDouble());
                same &= row.get("same_hashes").getAsBoolean();
                for (var b : rows) {
                    JsonObject base = b.getAsJsonObject();
                    if (base.get("teachers").getAsInt() == counts.get(0) && base.get("repeat").equals(row.get("repeat"))) {
                        ratios.add(row.get("ms_per_step").getAsDouble() / base.get("ms_per_step").getAsDouble());
                    }
                }
            }
            JsonObject s = new JsonObject();
            s.addProperty("teachers", k);
            s.addProperty("ms_per_step", OverheadReport.median(ms));
            s.addProperty("ratio", OverheadReport.median(ratios));
            s.addProperty("same_hashes", same);
            out.add(s);
        }
        return out;
    }

    private static String markdown(JsonObject r) {
        StringBuilder md = new StringBuilder("### Step time with several teachers\n\n");
        md.append(String.format(Locale.ROOT, "`%s`: %s, %d student(s), %d steps (the first %d not timed), every service in a JVM of "
                + "its own on one embedded broker, %d cores shared by all of them. Median of the runs; the ratio is to %d teacher(s) "
                + "in the same repeat.%n%n", r.get("command").getAsString(), r.get("dataset").getAsString(),
            r.get("students").getAsInt(), r.get("steps").getAsLong(), r.get("warmup_steps").getAsInt(), r.get("cores").getAsInt(),
            r.getAsJsonArray("summary").get(0).getAsJsonObject().get("teachers").getAsInt()));
        md.append("| teachers | ms per step | ratio | ends on the in-process hashes |\n| --- | --- | --- | --- |\n");
        for (var e : r.getAsJsonArray("summary")) {
            JsonObject s = e.getAsJsonObject();
            md.append(String.format(Locale.ROOT, "| %d | %.2f | %.2f | %s |%n", s.get("teachers").getAsInt(),
                s.get("ms_per_step").getAsDouble(), s.get("ratio").getAsDouble(), s.get("same_hashes").getAsBoolean() ? "yes" : "no"));
        }
        return md.toString();
    }
}
