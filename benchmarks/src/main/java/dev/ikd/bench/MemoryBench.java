package dev.ikd.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.StepListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;

/**
 * {@code ikd bench memory}: a long in-process run, sampling the process's resident memory (native
 * tensors included) and the JVM heap, to show that every step's tensors are freed.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
    description = "Resident memory over a long run: it must stay flat. Here --steps is 10,000 unless given.")
public final class MemoryBench implements Callable<Integer> {

    @Mixin
    RunOptions run;

    @Option(names = "--every", defaultValue = "500", description = "Sample every N steps. Default: ${DEFAULT-VALUE}")
    int every;

    @Mixin
    BenchOutput output;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** This benchmark's point is a long run. */
    static final long STEPS = 10_000;

    @Override
    public Integer call() {
        if (!BenchOutput.given(spec, "--steps")) {
            run.steps = STEPS;
        }
        TrainConfig c = run.toConfig();
        Dataset data = run.loadDataset();
        List<long[]> samples = new ArrayList<>();
        double wall;
        try (NDManager manager = run.newManager()) {
            Params teacher = Teachers.obtain(c, data, null, manager, false);
            samples.add(new long[] {0, residentBytes(), heapBytes(), committedHeapBytes()});
            wall = ReferenceTrainer.run(c, data, teacher, manager, new StepListener() {
                @Override
                public void onStudentStep(StudentStepped e) {
                    if (e.student().equals(Services.studentId(c.students() - 1)) && (e.step() + 1) % every == 0) {
                        long[] s = {e.step() + 1, residentBytes(), heapBytes(), committedHeapBytes()};
                        samples.add(s);
                        System.err.printf("step %d: resident %.1f MB (outside the heap %.1f MB), heap used %.1f of %.1f MB%n",
                            s[0], s[1] / 1e6, (s[1] - s[3]) / 1e6, s[2] / 1e6, s[3] / 1e6);
                    }
                }
            }).wallSeconds();
        }
        // The first samples include warm-up (allocator pools, JIT); growth is judged from the first quarter on,
        // on memory outside the JVM heap (native tensors): the heap's committed size moves with the collector.
        long[] base = samples.get(Math.max(1, samples.size() / 4));
        long[] last = samples.get(samples.size() - 1);
        double growthPerThousand = ((last[1] - last[3]) - (base[1] - base[3])) / 1e6 / Math.max(1, (last[0] - base[0]) / 1000.0);
        write(c, data, samples, base, last, growthPerThousand, wall);
        return 0;
    }

    private void write(TrainConfig c, Dataset data, List<long[]> samples, long[] base, long[] last, double growth, double wall) {
        var o = new JsonObject();
        o.addProperty("dataset", data.name());
        o.addProperty("teacher_mode", c.mode().cliName());
        o.addProperty("steps", c.steps());
        o.addProperty("wall_s", wall);
        o.addProperty("outside_heap_mb_growth_per_1000_steps", growth);
        var rows = new JsonArray();
        for (long[] s : samples) {
            var r = new JsonObject();
            r.addProperty("step", s[0]);
            r.addProperty("resident_mb", s[1] / 1e6);
            r.addProperty("heap_used_mb", s[2] / 1e6);
            r.addProperty("heap_committed_mb", s[3] / 1e6);
            r.addProperty("outside_heap_mb", (s[1] - s[3]) / 1e6);
            rows.add(r);
        }
        o.add("samples", rows);
        String md = "### Memory over a long run\n\n"
                + "`ikd bench memory --dataset " + data.name() + " --teacher-mode " + c.mode().cliName() + " --steps " + c.steps()
                + "`: " + c.students() + " student(s), every step's tensors in a scoped manager.\n\n"
                + String.format(Locale.ROOT, "Resident memory outside the JVM heap (native tensors, libraries): %.1f MB at step %d, "
                    + "%.1f MB at step %d: %+.2f MB per 1,000 steps (whole process %.1f -> %.1f MB; %.0f s for the run; "
                    + "samples in bench/results/memory.json).%n", (base[1] - base[3]) / 1e6, base[0], (last[1] - last[3]) / 1e6,
                    last[0], growth, base[1] / 1e6, last[1] / 1e6, wall);
        output.record("memory", o, md);
        System.out.printf(Locale.ROOT, "outside the heap %.1f MB at step %d -> %.1f MB at step %d: %+.2f MB per 1,000 steps%n",
                (base[1] - base[3]) / 1e6, base[0], (last[1] - last[3]) / 1e6, last[0], growth);
    }

    private static long committedHeapBytes() {
        return Runtime.getRuntime().totalMemory();
    }

    private static long heapBytes() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    /** VmRSS from /proc/self/status: the whole process, native tensors included. */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status (Linux only): " + e.getMessage(), e);
        }
        throw new IllegalStateException("no VmRSS line in /proc/self/status");
    }
}
