package dev.ikd.launcher;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.train.Presets;
import dev.ikd.core.train.StepListener;
import dev.ikd.learning.blocks.TeacherBlocks;
import dev.ikd.learning.data.RunData;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.Tensor;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Finish;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.processor.Input;
import dev.ikd.student.StudentMachine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import dev.ikd.wiring.RunOptions;

/**
 * {@code ikd replay}: a run rebuilt from its Kafka log alone (docs/architecture.md §8), with no teacher running.
 * {@code --verify} re-derives every student's trajectory from the logged soft
 * targets (the course step of the student's own machine; students in parallel) and checks each
 * step's parameter hash against the logged exam result; {@code --train-student} trains a new student offline from the recorded soft
 * targets; {@code --export} writes the run's events as JSON Lines.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Verify, re-train from or export a run's event log, with no teacher running.")
final class ReplayCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    LogAccess.Options source;

    @Mixin
    RunSignatures signatures;

    @Option(names = "--run", required = true, description = "The run id.")
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
        if (log.checked() > 0) {
            System.out.printf("signatures: %d records checked, %d failed (left out of the run)%n", log.checked(), log.forged().size());
            log.forged().stream().limit(10).forEach(f -> System.out.printf("  %s/%d@%d: %s%n", f.topic(), f.partition(), f.offset(),
                f.reason()));
        }
        if (export != null) {
            long n = export(log);
            System.out.printf("exported %d events of run %s to %s%n", n, runId, export);
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
        return status;
    }

    /**
     * Re-derives every student's parameters from the logged soft targets (the course step alone: the
     * hashes need nothing else), students in parallel, one thread each up to the cores.
     */
    private int verify(RunLog log, List<String> students, Dataset data) throws InterruptedException, ExecutionException {
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(students.size(),
            Runtime.getRuntime().availableProcessors())));
        List<Verdict> verdicts = new ArrayList<>();
        try {
            List<Future<Verdict>> futures = new ArrayList<>();
            for (String id : students) {
                futures.add(pool.submit(() -> verify(log, id, data)));
            }
            for (Future<Verdict> f : futures) {
                verdicts.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long total = 0;
        boolean allMatch = true;
        for (Verdict v : verdicts) {
            System.out.println(v.line());
            total += v.replayed();
            allMatch &= v.verified();
        }
        double live = log.liveSeconds();
        System.out.printf("replayed %d student-steps in %.2f s on %d threads; the live run stepped for %.2f s (replay %.1fx faster)%n",
            total, seconds, Math.min(students.size(), Runtime.getRuntime().availableProcessors()), live, live / seconds);
        return allMatch ? 0 : 1;
    }

    /** One student's trajectory against its log, on the calling thread with arrays of its own. */
    private Verdict verify(RunLog log, String id, Dataset data) {
        Envelope enrollment = log.enrollment(id);
        List<RunLog.Step> steps = log.steps(id);
        long planned = enrollment.getEnrollment().getHyperParameters().getSteps();
        try (NDManager manager = NDManager.newBaseManager();
             StudentMachine student = replayed(log, settingsOf(id, enrollment, data, null, null, planned), manager)) {
            student.apply(input(log.admitted(id).orElseThrow()));
            long replayed = 0;
            for (RunLog.Step s : steps) {
                String hash = student.relearnCourse(s.softTargets());
                String logged = s.examResult().getExamResult().getParamSha256();
                replayed++;
                if (!hash.equals(logged)) {
                    return new Verdict(replayed, false, String.format("%s: diverges at step %d: replayed %s, logged %s", id, s.step(),
                        hash, logged));
                }
            }
            if (steps.size() < planned) {
                // A log that stops early is not a verified run, however well its steps match.
                return new Verdict(replayed, false, String.format("incomplete: %s stops at step %d of %d (the %d steps before it "
                    + "match the log)", id, steps.size(), planned, steps.size()));
            }
            return new Verdict(replayed, true, String.format("%s: %d of %d steps verified, every hash matches the log%s", id,
                steps.size(), planned, steps.isEmpty() ? "" : " (final " + student.parameterHash() + ")"));
        }
    }

    /** What replaying one student found: steps replayed, whether the whole run checked out, and the line that says so. */
    private record Verdict(long replayed, boolean verified, String line) {
    }

    private void train(RunLog log, List<String> students, Dataset data, ModelSpec spec, NDManager manager) {
        String source = from == null ? students.get(0) : from;
        if (!students.contains(source)) {
            throw new IllegalArgumentException("--from " + source + ": run " + runId + " has students " + students);
        }
        List<RunLog.Step> steps = log.steps(source);
        if (steps.isEmpty()) {
            throw new IllegalArgumentException(source + " has no complete step in the log of run " + runId);
        }
        String id = "offline-" + spec.toString().replace(':', '-');
        Envelope report;
        try (StudentMachine student = replayed(log, settingsOf(id, log.enrollment(source), data, spec, studentSeed,
            steps.size()), manager)) {
            student.apply(input(log.admitted(source).orElseThrow()));
            for (RunLog.Step s : steps) {
                student.relearnCourse(s.softTargets());
            }
            report = student.apply(input(Envelopes.header(runId, id, steps.size(), Kind.FINISH, "replay", Clock.systemUTC())
                .setFinish(Finish.newBuilder().setReason("replayed")).build())).get(0);
        }
        System.out.printf("%-28s %-6s %-14s%n", "student", "steps", "test accuracy");
        for (Map.Entry<String, Envelope> r : log.reports().entrySet()) {
            System.out.printf("%-28s %-6d %-14.4f (live)%n", r.getKey(), r.getValue().getStudentReport().getSteps(),
                r.getValue().getStudentReport().getTestAccuracy());
        }
        System.out.printf("%-28s %-6d %-14.4f (offline: %s, seed %d, soft targets of %s)%n", id, steps.size(),
            report.getStudentReport().getTestAccuracy(), spec, studentSeed, source);
    }

    /** A logged envelope as the machine's input (where it was read does not matter to a student). */
    static Input input(Envelope e) {
        return new Input(e, new Position("replay", 0, e.getStep()), e.getEventTimeMs());
    }

    /** A fresh student of {@code settings}; with IAKD, holding the teacher's blocks as the log recorded them. */
    static StudentMachine replayed(RunLog log, StudentMachine.Settings settings, NDManager manager) {
        StudentMachine student = StudentMachine.fresh(settings, log.runId(), Clock.systemUTC(), StepListener.NONE, manager);
        if (settings.swap().enabled()) {
            try (NDManager scope = manager.newSubManager()) {
                student.useTeacherBlocks(TeacherBlocks.assemble(log.runId(), log.teacherBlocks(),
                    Network.build(settings.teacherSpec(), settings.data()), settings.type(), scope));
            } catch (RuntimeException e) {
                student.close();
                throw e;
            }
        }
        return student;
    }

    /** The student as it enrolled; with {@code spec} and {@code seed} a new one on the same data terms. */
    static StudentMachine.Settings settingsOf(String id, Envelope enrollment, Dataset data, ModelSpec spec, Long seed, long steps) {
        var en = enrollment.getEnrollment();
        var hp = en.getHyperParameters();
        SwapSchedule swap = hp.getSwap().isEmpty() ? SwapSchedule.OFF : SwapSchedule.parse(hp.getSwap());
        ModelSpec teacher = null;
        if (swap.enabled()) {
            if (!en.hasTeacherModel()) {
                throw new IllegalArgumentException(id + " swapped teacher stages (IAKD, --swap " + hp.getSwap() + "), but its "
                    + "enrollment does not name the teacher's model (a log written before ikd carried it)");
            }
            teacher = RunData.model(en.getTeacherModel());
        }
        var d = en.getDataset();
        return new StudentMachine.Settings(id, data, spec != null ? spec : RunData.model(en.getStudentModel()),
            new StudentConfig(hp.getLearningRate(), hp.getMomentum(), hp.getTemperature(), hp.getAlpha()),
            seed != null ? seed : hp.getSeed(), hp.getBatchSize(), hp.getExamBatchSize(), steps, d.getSplitSeed(),
            d.getLabelFraction(), d.getQuizFraction(), TeacherMode.parse(hp.getTeacherMode()),
            Presets.forSource(RunData.source(d)).type(), swap, teacher, Math.max(1, hp.getPrefetch()));
    }

    private long export(RunLog log) throws java.io.IOException {
        long n = 0;
        try (BufferedWriter out = Files.newBufferedWriter(export, StandardCharsets.UTF_8)) {
            for (RunLog.Entry e : log.byTime()) {
                JsonObject line = new JsonObject();
                line.addProperty("topic", e.topic());
                line.addProperty("partition", e.partition());
                line.addProperty("offset", e.offset());
                line.addProperty("timestamp_ms", e.timestampMs());
                Envelope env = e.envelope();
                line.addProperty("kind", env.getKind().name());
                line.addProperty("run_id", env.getRunId());
                line.addProperty("student_id", env.getStudentId());
                line.addProperty("step", env.getStep());
                line.addProperty("producer_id", env.getProducerId());
                line.addProperty("idempotency_key", env.getIdempotencyKey());
                FieldDescriptor payload = env.getOneofFieldDescriptor(Envelope.getDescriptor().getOneofs().get(0));
                if (payload != null) {
                    line.add(payload.getName(), json((Message) env.getField(payload)));
                }
                out.write(line.toString());
                out.write('\n');
                n++;
            }
        }
        return n;
    }

    /** A message as JSON; tensors as shape plus a summary (or in full with --full), bytes as their length. */
    private JsonObject json(Message m) {
        if (m instanceof Tensor t) {
            return tensor(t);
        }
        JsonObject o = new JsonObject();
        for (var f : m.getAllFields().entrySet()) {
            FieldDescriptor d = f.getKey();
            if (d.isRepeated()) {
                JsonArray a = new JsonArray();
                for (Object v : (List<?>) f.getValue()) {
                    addTo(a, v);
                }
                o.add(d.getName(), a);
            } else {
                JsonArray one = new JsonArray();
                addTo(one, f.getValue());
                o.add(d.getName(), one.get(0));
            }
        }
        return o;
    }

    private void addTo(JsonArray a, Object v) {
        if (v instanceof Message m) {
            a.add(json(m));
        } else if (v instanceof Number num) {
            a.add(num);
        } else if (v instanceof Boolean b) {
            a.add(b);
        } else if (v instanceof com.google.protobuf.ByteString bytes) {
            a.add(bytes.size() + " bytes");
        } else {
            a.add(String.valueOf(v));
        }
    }

    private JsonObject tensor(Tensor t) {
        JsonObject o = new JsonObject();
        JsonArray shape = new JsonArray();
        t.getShapeList().forEach(shape::add);
        o.add("shape", shape);
        float[] v = TensorCodec.toFloats(t, TensorCodec.Finite.ALLOWED);
        if (full) {
            JsonArray values = new JsonArray();
            for (float x : v) {
                values.add(x);
            }
            o.add("values", values);
            return o;
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        for (float x : v) {
            min = Math.min(min, x);
            max = Math.max(max, x);
            sum += x;
        }
        if (v.length > 0) {
            o.addProperty("min", min);
            o.addProperty("max", max);
            o.addProperty("mean", sum / v.length);
        }
        return o;
    }
}
