package dev.ikd.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.broker.BrokerSettings;
import dev.ikd.broker.EmbeddedKafka;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.TrainingListener;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.ServiceMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd bench overhead}: the same run in-process and distributed (embedded broker, loopback),
 * in one process, one after the other: step time ratio, per-hop latency, messages and bytes per
 * step, for each set of Kafka client settings asked for.
 */
@Command(name = "overhead", mixinStandardHelpOptions = true,
    description = "Compare the distributed run with the in-process one: step time, hop latency, traffic.")
final class OverheadBench implements Callable<Integer> {

    static final List<String> HOPS = List.of("ikd.control", "ikd.soft-targets", "ikd.feedback", "ikd.exam-results",
        "ikd.teacher-updates");

    @Mixin
    RunOptions run;

    @Option(names = "--teacher-checkpoint", description = "A checkpoint from 'ikd pretrain' instead of pretraining now.")
    Path teacherCheckpoint;

    @Option(names = "--variants", split = ",", defaultValue = "default,durable,fetch-wait-5,fetch-wait-100,linger-5,acks-1",
        description = "Settings to compare: default (linger 0, acks all, fetch wait 500 ms, Kafka's own, no state directory), "
            + "durable (default with a state directory: every record's state checkpointed and fsync'd before its answers leave), "
            + "fetch-wait-5, fetch-wait-100, linger-5, acks-1. Default: ${DEFAULT-VALUE}")
    List<String> variants;

    @Mixin
    BenchOutput output;

    /** Raw samples of one run: hop times per topic, and when each step was done by every student. */
    static final class Samples implements ServiceMetrics.Observer {
        final Map<String, List<Long>> hops = new ConcurrentHashMap<>();
        final Map<Long, Long> roundDoneNanos = new ConcurrentHashMap<>();

        @Override
        public void received(String topic, Envelope e, long hopMicros) {
            // Steps 0 and 1 include consumers joining and code warming up: the steady state starts at step 2.
            if (e.getStep() >= 2 && hopMicros >= 0 && e.getKind() != Kind.STUDENT_REPORT) {
                hops.computeIfAbsent(topic, t -> Collections.synchronizedList(new ArrayList<>())).add(hopMicros);
            }
            if (e.getKind() == Kind.EXAM_RESULT) {
                stepDone(e.getStep());
            }
        }

        void stepDone(long step) {
            roundDoneNanos.merge(step, System.nanoTime(), Math::max);
        }

        /** Steady-state time of one round (every student one step), from step 1 to the last. */
        double msPerRound(long steps) {
            return (roundDoneNanos.get(steps - 1) - roundDoneNanos.get(1L)) / 1e6 / (steps - 2);
        }

        static double percentile(List<Long> values, double p) {
            List<Long> sorted = new ArrayList<>(values);
            Collections.sort(sorted);
            int i = (int) Math.ceil(p * sorted.size()) - 1;
            return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i))) / 1000.0;
        }
    }

    static KafkaTuning tuning(String variant) {
        return switch (variant) {
            case "default", "durable" -> KafkaTuning.defaults();
            case "fetch-wait-5" -> new KafkaTuning(0, "all", 5);
            case "fetch-wait-100" -> new KafkaTuning(0, "all", 100);
            case "linger-5" -> new KafkaTuning(5, "all", 500);
            case "acks-1" -> new KafkaTuning(0, "1", 500);
            default -> throw new IllegalArgumentException("unknown variant '" + variant
                + "'; known: default, durable, fetch-wait-5, fetch-wait-100, linger-5, acks-1");
        };
    }

    @Override
    public Integer call() throws Exception {
        TrainConfig c = run.toConfig();
        Services.requireDistributable(c);
        variants.forEach(OverheadBench::tuning);
        Dataset data = run.loadDataset();
        Path dir = Files.createTempDirectory("ikd-bench-overhead-");
        JsonArray rows = new JsonArray();
        StringBuilder md = new StringBuilder();
        try (NDManager manager = run.newManager();
             EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")))) {
            Params teacher = Teachers.obtain(c, data, teacherCheckpoint, manager, false);
            Services.ensureTopics(broker.bootstrapServers(), 4);
            // Warm-up (JIT, native library, one distributed run) before anything is timed.
            ReferenceTrainer.run(c.withSteps(Math.min(20, c.steps())), data, teacher, manager, TrainingListener.NONE);
            try (ServiceHost host = new ServiceHost(c.students() + 2)) {
                LocalRun.run(c.withSteps(Math.min(20, c.steps())), data, teacher, Services.Wiring.of(broker.bootstrapServers(),
                    "overhead-warmup-" + System.currentTimeMillis(), null), host, manager, 3600);
            }
            Samples first = new Samples();
            TrainResult before = inProcess(c, data, teacher, manager, first);
            List<JsonObject> distributed = new ArrayList<>();
            for (String v : variants) {
                Samples samples = new Samples();
                try (ServiceHost host = new ServiceHost(c.students() + 2)) {
                    host.observe(samples);
                    Path state = "durable".equals(v) ? dir.resolve("state") : null;
                    LocalRun.Outcome o = LocalRun.run(c, data, teacher, Services.Wiring.of(broker.bootstrapServers(), "overhead-" + v
                        + "-" + System.currentTimeMillis(), state).withTuning(tuning(v)), host, manager, 3600);
                    JsonObject row = measure(v, tuning(v), o, samples, host.registry(), c, LocalCommand.sameHashes(o.students(),
                        before.students()));
                    distributed.add(row);
                    System.err.printf(Locale.ROOT, "%-15s distributed %.2f ms per round%n", v, samples.msPerRound(c.steps()));
                }
            }
            Samples second = new Samples();
            TrainResult after = inProcess(c, data, teacher, manager, second);
            double inProcessRound = (first.msPerRound(c.steps()) + second.msPerRound(c.steps())) / 2;
            double inProcess = (before.wallSeconds() + after.wallSeconds()) / 2;
            md.append("### Distributed overhead").append("digits".equals(data.name()) ? "" : " (" + data.name() + ")")
                .append("\n\n`ikd bench overhead --dataset ").append(data.name()).append(" --students ")
                .append(c.students()).append(" --steps ").append(c.steps()).append(" --teacher-mode ").append(c.mode().cliName())
                .append("`: the same run in-process and through the embedded broker on loopback, in one process. ")
                .append(String.format(Locale.ROOT, "In-process: %.2f ms per round (every student one step; mean of a run "
                    + "before and one after the distributed ones: %.2f and %.2f ms).%n%n", inProcessRound,
                    first.msPerRound(c.steps()), second.msPerRound(c.steps())))
                .append("| Kafka settings | ms per round | step time ratio | soft targets p50 / p99 ms | feedback p50 / p99 ms "
                    + "| CourseStart p50 / p99 ms | messages per step | bytes per step | same hashes |\n")
                .append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
            for (JsonObject row : distributed) {
                double ratio = row.get("ms_per_round").getAsDouble() / inProcessRound;
                row.addProperty("step_time_ratio", ratio);
                rows.add(row);
                md.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s | %s | %s | %.1f | %.0f | %s |%n",
                    row.get("variant").getAsString(), row.get("ms_per_round").getAsDouble(),
                    ratio, pair(row, "ikd.soft-targets"), pair(row, "ikd.feedback"), pair(row, "ikd.control"),
                    row.get("messages_per_step").getAsDouble(), row.get("bytes_per_step").getAsDouble(),
                    row.get("same_hashes_as_inprocess").getAsBoolean() ? "yes" : "NO"));
            }
            md.append("\nVariant `durable`: the default settings with a state directory, so that every service checkpoints the "
                + "state a record left (typed protobuf, file and directory fsync'd) before that record's answers leave; the other "
                + "variants keep state in memory (the coordinator journals every event in all of them).\n");
            md.append("\nStep time ratio: distributed / in-process time per round, in the steady state (step 1 to the last; "
                + "goal <= 1.10). Hop latency: from the producer's send (the envelope's microsecond clock) to the consumer's "
                + "handler, steps 2 onward, exact percentiles of every record. "
                + "A step crosses four hops in turn (CourseStart, SoftTargets, Feedback, then ExamResult and TeacherUpdated), "
                + "so with a small model the hops, not the learning, set the pace.\n");
            var o = new JsonObject();
            o.addProperty("command", "ikd bench overhead --dataset " + data.name() + " --students " + c.students() + " --steps "
                + c.steps() + " --teacher-mode " + c.mode().cliName());
            o.addProperty("dataset", data.name());
            o.addProperty("students", c.students());
            o.addProperty("steps", c.steps());
            o.addProperty("teacher_mode", c.mode().cliName());
            o.addProperty("inprocess_wall_s", inProcess);
            o.addProperty("inprocess_ms_per_round", inProcessRound);
            o.add("variants", rows);
            output.record("digits".equals(data.name()) ? "overhead" : "overhead-" + data.name(), o, md.toString());
        }
        return 0;
    }

    private static String pair(JsonObject row, String topic) {
        JsonObject h = row.getAsJsonObject("hops").getAsJsonObject(topic);
        return h == null ? "-" : String.format(Locale.ROOT, "%.2f / %.2f", h.get("p50_ms").getAsDouble(), h.get("p99_ms").getAsDouble());
    }

    private static TrainResult inProcess(TrainConfig c, Dataset data, Params teacher, NDManager manager, Samples samples) {
        return ReferenceTrainer.run(c, data, teacher, manager, new TrainingListener() {
            @Override
            public void onStudentStep(StudentStepped e) {
                samples.stepDone(e.step());
            }
        });
    }

    private static JsonObject measure(String variant, KafkaTuning t, LocalRun.Outcome o, Samples samples, MeterRegistry registry,
                                      TrainConfig c, boolean sameHashes) {
        var row = new JsonObject();
        row.addProperty("variant", variant);
        row.addProperty("linger_ms", t.lingerMs());
        row.addProperty("acks", t.acks());
        row.addProperty("fetch_max_wait_ms", t.fetchMaxWaitMs());
        row.addProperty("state_dir", "durable".equals(variant));
        row.addProperty("wall_s", o.wallSeconds());
        row.addProperty("ms_per_round", samples.msPerRound(c.steps()));
        row.addProperty("same_hashes_as_inprocess", sameHashes);
        var hops = new JsonObject();
        for (String topic : HOPS) {
            List<Long> values = samples.hops.getOrDefault(topic, List.of());
            if (values.isEmpty()) {
                continue;
            }
            var h = new JsonObject();
            h.addProperty("count", values.size());
            h.addProperty("p50_ms", Samples.percentile(values, 0.5));
            h.addProperty("p99_ms", Samples.percentile(values, 0.99));
            hops.add(topic, h);
        }
        row.add("hops", hops);
        double messages = registry.find("ikd.messages.out").counters().stream().mapToDouble(Counter::count).sum();
        double bytes = registry.find("ikd.bytes.out").counters().stream().mapToDouble(Counter::count).sum();
        double studentSteps = c.students() * c.steps();
        row.addProperty("messages_per_step", messages / studentSteps);
        row.addProperty("bytes_per_step", bytes / studentSteps);
        return row;
    }
}
