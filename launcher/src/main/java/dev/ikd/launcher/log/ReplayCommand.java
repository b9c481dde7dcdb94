package dev.ikd.launcher.log;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runlog.EventLines;
import dev.ikd.runlog.LogAccess;
import dev.ikd.runlog.Replay;
import dev.ikd.runlog.RunDataOptions;
import dev.ikd.runlog.RunLog;
import dev.ikd.runlog.RunSignatures;
import dev.ikd.wiring.RunOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd replay}: a run rebuilt from its Kafka log alone (docs/architecture.md §8), with no teacher running.
 * {@code --verify} re-derives every student's trajectory from the logged soft
 * targets (the course step of the student's own machine; students in parallel) and checks each
 * step's parameter hash against the logged exam result; {@code --train-student} trains a new student offline from the recorded soft
 * targets; {@code --export} writes the run's events as JSON Lines.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Verify, re-train from or export a run's event log, with no teacher running.")
public final class ReplayCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    LogAccess.Options source;

    @Mixin
    RunSignatures signatures;

    @Option(names = "--run-id", required = true, description = "The run id.")
    String runId;

    @Option(names = "--verify", description = "Rebuild every student's trajectory and check each step's hash against the log.")
    boolean verify;

    @Option(names = "--train-student", paramLabel = "SPEC",
        description = "Train a new student (model spec, e.g. mlp:64:16) offline from the recorded soft targets.")
    String trainStudent;

    @Option(names = "--student-seed", defaultValue = "1", description = "Seed of the new student. Default: ${DEFAULT-VALUE}")
    long studentSeed;

    @Option(names = "--from", description = "Whose recorded course the new student follows (default: the first student).")
    String from;

    @Option(names = "--export", paramLabel = "FILE", description = "Write the run's events as JSON Lines to FILE.")
    Path export;

    @Option(names = "--full", description = "With --export: write tensors in full instead of summaries.")
    boolean full;

    @Mixin
    RunDataOptions runData;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of lines: signatures, export, verify, offline.")
    boolean json;

    /** What --json prints, filled as the replay goes. */
    private final JsonObject report = new JsonObject();

    @Override
    public Integer call() throws Exception {
        if (!verify && trainStudent == null && export == null) {
            throw new IllegalArgumentException("say what to do: --verify, --train-student SPEC and/or --export FILE");
        }
        ModelSpec newSpec = trainStudent == null ? null : RunOptions.studentSpec("--train-student", trainStudent);
        var manifest = signatures.manifest(source, runId);
        return source.open(access -> replay(RunLog.read(access, runId, manifest), newSpec));
    }

    private int replay(RunLog log, ModelSpec newSpec) throws Exception {
        List<String> students = log.students();
        if (students.isEmpty()) {
            throw new IllegalArgumentException("the log holds no run '" + runId + "' (no enrollment with that run id)");
        }
        int status = 0;
        report.addProperty("run", runId);
        if (log.checked() > 0) {
            var s = new JsonObject();
            s.addProperty("checked", log.checked());
            var failed = new JsonArray();
            log.forged().forEach(f -> failed.add(f.topic() + "/" + f.partition() + "@" + f.offset() + ": " + f.reason()));
            s.add("failed", failed);
            report.add("signatures", s);
            print("signatures: %d records checked, %d failed (left out of the run)%n", log.checked(), log.forged().size());
            log.forged().stream().limit(10).forEach(f -> print("  %s/%d@%d: %s%n", f.topic(), f.partition(), f.offset(), f.reason()));
        }
        if (export != null) {
            long n = EventLines.write(log, export, full);
            var e = new JsonObject();
            e.addProperty("events", n);
            e.addProperty("file", export.toString());
            report.add("export", e);
            print("exported %d events of run %s to %s%n", n, runId, export);
        }
        if (verify || newSpec != null) {
            try (NDManager manager = NDManager.newBaseManager()) {
                Dataset data = runData.load(log.enrollment(students.get(0)).getEnrollment().getDataset());
                if (verify) {
                    status = verify(log, students, data);
                }
                if (newSpec != null) {
                    train(log, students, data, newSpec, manager);
                }
            }
        }
        if (json) {
            System.out.println(report);
        }
        return status;
    }

    private void print(String format, Object... args) {
        if (!json) {
            System.out.printf(format, args);
        }
    }

    /**
     * Re-derives every student's parameters from the logged soft targets (the course step alone: the
     * hashes need nothing else), students in parallel, one thread each up to the cores.
     */
    private int verify(RunLog log, List<String> students, Dataset data) throws InterruptedException, ExecutionException {
        long t0 = System.nanoTime();
        List<Replay.Verdict> verdicts = Replay.verifyAll(log, students, data);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long total = 0;
        boolean allMatch = true;
        var each = new JsonArray();
        for (int i = 0; i < verdicts.size(); i++) {
            Replay.Verdict v = verdicts.get(i);
            print("%s%n", v.line());
            var o = new JsonObject();
            o.addProperty("id", students.get(i));
            o.addProperty("steps_replayed", v.replayed());
            o.addProperty("verified", v.verified());
            o.addProperty("line", v.line());
            each.add(o);
            total += v.replayed();
            allMatch &= v.verified();
        }
        double live = log.liveSeconds();
        var verified = new JsonObject();
        verified.addProperty("verified", allMatch);
        verified.addProperty("student_steps", total);
        verified.addProperty("seconds", seconds);
        verified.addProperty("live_seconds", live);
        verified.add("students", each);
        report.add("verify", verified);
        print("replayed %d student-steps in %.2f s on %d threads; the live run stepped for %.2f s (replay %.1fx faster)%n",
            total, seconds, Math.min(students.size(), Runtime.getRuntime().availableProcessors()), live, live / seconds);
        return allMatch ? 0 : 1;
    }

    private void train(RunLog log, List<String> students, Dataset data, ModelSpec spec, NDManager manager) {
        String source = from == null ? students.get(0) : from;
        if (!students.contains(source)) {
            throw new IllegalArgumentException("--from " + source + ": run " + runId + " has students " + students);
        }
        Envelope offline = Replay.trainOffline(log, source, data, spec, studentSeed, manager);
        print("%-28s %-6s %-14s%n", "student", "steps", "test accuracy");
        var live = new JsonArray();
        for (Map.Entry<String, Envelope> r : log.reports().entrySet()) {
            print("%-28s %-6d %-14.4f (live)%n", r.getKey(), r.getValue().getStudentReport().getSteps(),
                r.getValue().getStudentReport().getTestAccuracy());
            var o = new JsonObject();
            o.addProperty("id", r.getKey());
            o.addProperty("steps", r.getValue().getStudentReport().getSteps());
            o.addProperty("test_accuracy", r.getValue().getStudentReport().getTestAccuracy());
            live.add(o);
        }
        print("%-28s %-6d %-14.4f (offline: %s, seed %d, soft targets of %s)%n", Replay.offlineId(spec),
            log.steps(source).size(), offline.getStudentReport().getTestAccuracy(), spec, studentSeed, source);
        var o = new JsonObject();
        o.addProperty("id", Replay.offlineId(spec));
        o.addProperty("spec", spec.toString());
        o.addProperty("seed", studentSeed);
        o.addProperty("from", source);
        o.addProperty("steps", log.steps(source).size());
        o.addProperty("test_accuracy", offline.getStudentReport().getTestAccuracy());
        report.add("offline", o);
        report.add("live", live);
    }
}
