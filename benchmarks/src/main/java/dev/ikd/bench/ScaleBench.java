package dev.ikd.bench;

import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.StepListener;
import dev.ikd.runtime.checkpoint.CheckpointFiles;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;

/**
 * {@code ikd bench scale}: one teacher, more and more students, per teacher mode. For each setting,
 * a distributed run (embedded broker, every service in this process) and what the teacher spent:
 * busy time per student-step (its soft-target and update phases), the capacity that implies, the
 * student-steps per second achieved here, the feature cache's hit rate, and the teacher's state per
 * student (the size of its checkpoint of that student).
 */
@Command(name = "scale", mixinStandardHelpOptions = true,
    description = "Teacher cost and capacity as students are added, per teacher mode; writes scale.json and a PNG plot. Here "
        + "--students and --teacher-mode take lists, 1,2,4,8,16 and ikd,ikd-adapter unless given.")
public final class ScaleBench implements Callable<Integer> {

    @Mixin
    RunOptions run;

    @Option(names = "--teacher-checkpoint", description = "A checkpoint from 'ikd pretrain' instead of pretraining now.")
    Path teacherCheckpoint;

    @Spec
    CommandSpec spec;

    @Option(names = "--micro-batch-ms", defaultValue = "-1",
        description = "The teacher's micro-batching window for every setting (-1: off, the feature cache; 0: no cache, each "
            + "request alone). Results go to scale-microbatch-MS.json unless -1. Default: ${DEFAULT-VALUE}")
    long microBatchMs;

    @Mixin
    BenchOutput output;

    @Override
    public Integer call() throws Exception {
        // Here --students and --teacher-mode take lists: every count in every mode.
        List<Integer> studentCounts = Arrays.stream((BenchOutput.given(spec, "--students") ? run.students : "1,2,4,8,16")
            .split(",")).map(RunOptions::studentCount).toList();
        List<String> modes = List.of((BenchOutput.given(spec, "--teacher-mode") ? run.teacherMode : "ikd,ikd-adapter").split(","));
        List<TeacherMode> teacherModes = modes.stream().map(TeacherMode::parse).toList();
        run.students = "1";
        run.teacherMode = modes.get(0);
        TrainConfig base = run.toConfig();
        Services.requireDistributable(base);
        Dataset data = run.loadDataset();
        Path dir = Files.createTempDirectory("ikd-bench-scale-");
        JsonArray settings = new JsonArray();
        List<LinePlot.Series> lines = new ArrayList<>();
        Color[] colors = {new Color(200, 60, 40), new Color(30, 110, 200), new Color(40, 150, 60), new Color(140, 70, 170)};
        try (NDManager manager = run.newManager();
             EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")))) {
            Params teacher = Teachers.obtain(base, data, teacherCheckpoint, manager, false);
            Services.ensureTopics(broker.bootstrapServers(), 4);
            for (TeacherMode mode : teacherModes) { // warm-up of each mode's code path before anything is timed
                try (ServiceHost host = new ServiceHost(4)) {
                    LocalRun.run(base.with(mode, base.swap(), false).withStudents(2).withSteps(Math.min(10, base.steps())), data,
                        teacher, Services.Wiring.of(broker.bootstrapServers(), "scale-warmup-" + System.nanoTime(), null), host, manager,
                        3600);
                }
            }
            int m = 0;
            for (TeacherMode mode : teacherModes) {
                double[] xs = new double[studentCounts.size()];
                double[] capacity = new double[xs.length];
                double[] achieved = new double[xs.length];
                for (int i = 0; i < xs.length; i++) {
                    int n = studentCounts.get(i);
                    TrainConfig c = base.with(mode, base.swap(), false).withStudents(n);
                    JsonObject row = measure(c, data, teacher, broker.bootstrapServers(), dir.resolve("state"), manager);
                    settings.add(row);
                    xs[i] = n;
                    capacity[i] = row.get("capacity_steps_per_s").getAsDouble();
                    achieved[i] = row.get("achieved_steps_per_s").getAsDouble();
                    System.err.printf(Locale.ROOT, "%-12s %3d students: teacher %.3f ms per student-step, capacity %.0f, achieved %.1f "
                        + "student-steps/s, cache hit rate %.3f, %d bytes per student%n", mode.cliName(), n,
                        row.get("teacher_busy_ms_per_step").getAsDouble(), capacity[i], achieved[i],
                        row.get("cache_hit_rate").getAsDouble(), row.get("teacher_bytes_per_student").getAsLong());
                }
                lines.add(new LinePlot.Series(mode.cliName() + " capacity", xs, capacity, colors[m % colors.length], false));
                lines.add(new LinePlot.Series(mode.cliName() + " achieved", xs, achieved, colors[m % colors.length], true));
                m++;
            }
        }
        String name = microBatchMs < 0 ? "scale" : "scale-microbatch-" + microBatchMs;
        Path png = output.results.resolve(name + ".png");
        LinePlot.write(png, "Teacher capacity vs students (" + data.name() + ")", "students per teacher",
            "student-steps per second", lines);
        var json = new JsonObject();
        String command = "ikd bench scale --dataset " + data.name() + " --steps " + base.steps() + " --students "
            + String.join(",", studentCounts.stream().map(String::valueOf).toList()) + " --teacher-mode " + String.join(",", modes)
            + (microBatchMs < 0 ? "" : " --micro-batch-ms " + microBatchMs);
        json.addProperty("command", command);
        json.addProperty("dataset", data.name());
        json.addProperty("steps", base.steps());
        json.addProperty("teacher", base.teacher().toString());
        json.add("settings", settings);
        output.record(name, json, markdown(command, settings, data, base, name));
        return 0;
    }

    private JsonObject measure(TrainConfig c, Dataset data, Params teacher, String bootstrap, Path state, NDManager manager)
        throws Exception {
        String runId = "scale-" + c.mode().cliName() + "-" + c.students() + "-" + System.nanoTime();
        try (ServiceHost host = new ServiceHost(c.students() + 2)) {
            LocalRun.Outcome o = LocalRun.run(c, data, teacher, Services.Wiring.of(bootstrap, runId, state), host, manager, 3600,
                microBatchMs, StepListener.NONE);
            MeterRegistry registry = host.registry();
            double busyMs = registry.find("ikd.step.phase.cpu").tag("service", "teacher").timers().stream()
                .mapToDouble(t -> t.totalTime(TimeUnit.MILLISECONDS)).sum();
            double studentSteps = (double) c.students() * c.steps();
            Gauge hitRatio = registry.find("ikd.feature.cache.hit.ratio").tag("service", "teacher").gauge();
            // The largest of a student's two kept checkpoints: the newest is its finished (and emptied) teacher.
            CheckpointFiles teacherState = CheckpointFiles.of(state, runId, "teacher");
            long total = 0;
            for (String student : teacherState.keys()) {
                try (var files = Files.list(teacherState.path().resolve(student))) {
                    total += files.mapToLong(f -> f.toFile().length()).max().orElse(0);
                }
            }
            long bytes = teacherState.keys().isEmpty() ? 0 : total / teacherState.keys().size();
            var row = new JsonObject();
            row.addProperty("teacher_mode", c.mode().cliName());
            row.addProperty("students", c.students());
            row.addProperty("teacher_busy_ms_per_step", busyMs / studentSteps);
            row.addProperty("capacity_steps_per_s", 1000.0 * studentSteps / busyMs);
            row.addProperty("achieved_steps_per_s", studentSteps / o.wallSeconds());
            row.addProperty("cache_hit_rate", hitRatio == null ? 0.0 : hitRatio.value());
            row.addProperty("teacher_bytes_per_student", bytes);
            row.addProperty("wall_s", o.wallSeconds());
            row.addProperty("micro_batch_ms", microBatchMs);
            Gauge batch = registry.find("ikd.micro.batch.requests").tag("service", "teacher").gauge();
            if (batch != null) {
                row.addProperty("mean_requests_per_forward", batch.value());
            }
            return row;
        }
    }

    private static String markdown(String command, JsonArray settings, Dataset data, TrainConfig c, String name) {
        StringBuilder md = new StringBuilder("### Many students per teacher" + (name.equals("scale") ? "" : " (" + name + ")")
            + "\n\n`").append(command).append("` (teacher ")
            .append(c.teacher()).append(", student ").append(c.student()).append("): one teacher service, N students, every "
                + "service in one process on this 2-core machine, talking through the embedded broker.\n\n")
            .append("| teacher mode | students | teacher busy ms per student-step | capacity (student-steps/s at 100% busy) "
                + "| achieved student-steps/s | cache hit rate | teacher bytes per student |\n")
            .append("| --- | --- | --- | --- | --- | --- | --- |\n");
        for (var e : settings) {
            JsonObject r = e.getAsJsonObject();
            md.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.0f | %.1f | %.3f | %d |%n", r.get("teacher_mode").getAsString(),
                r.get("students").getAsInt(), r.get("teacher_busy_ms_per_step").getAsDouble(),
                r.get("capacity_steps_per_s").getAsDouble(), r.get("achieved_steps_per_s").getAsDouble(),
                r.get("cache_hit_rate").getAsDouble(), r.get("teacher_bytes_per_student").getAsLong()));
        }
        md.append("\n![capacity vs students](bench/results/" + name + ".png)\n\n")
            .append("Busy time: the CPU time of the teacher's soft-target and update phases (`ikd_step_phase_cpu_seconds`; "
                + "DJL runs one intra-op thread, on the calling thread), summed over the run, per student-step; the feature "
                + "cache is filled when the teacher starts and is not in it. Capacity = 1000 / busy ms. Achieved: student-steps per wall second here, where students, "
                + "teacher and broker share 2 cores. Bytes per student: the size of the teacher's checkpoint of one student "
                + "(its own φ copy and velocity in mode ikd, its adapter and velocity in the adapter modes, plus the recorded "
                + "answers); the feature cache is shared by all students and not counted per student.\n");
        return md.toString();
    }
}
