package dev.ikd.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ikd.embeddedkafka.BrokerSecurity;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.runtime.KafkaTuning;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import dev.ikd.wiring.HopLog;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptionTable;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.ServiceProcess;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;

/**
 * {@code ikd bench overhead}: what distributing a run costs. For every data set and teacher mode,
 * the in-process run and the same run through the embedded broker, with the services as threads of
 * this process or each in a JVM of its own, with and without a state directory (and other Kafka
 * settings on request). Warm-up runs first and the first steps of every run are not timed; every
 * setting is repeated, in an order that rotates from one repeat to the next, and summarised by its
 * median. Per run: ms per step in-process and distributed, the ratio, hop latency, and how many hops
 * a step waits for in sequence, measured from every hop's moments.
 */
@Command(name = "overhead", mixinStandardHelpOptions = true,
    description = "Compare distributed runs with in-process ones: ms per step, ratio, hop latency, hops per step.")
public final class OverheadBench implements Callable<Integer> {

    /**
     * Steps per run, and steps not timed at its start, where --steps and --warmup-steps are not given: a JVM of
     * its own runs its first seconds compiling, so the short digits steps need a long warm-up.
     */
    static final Map<String, long[]> DEFAULT_STEPS = Map.of("digits", new long[] {2000, 500}, "fashion-mnist", new long[] {150, 30});
    static final List<String> ISOLATIONS = List.of("thread", "process");
    /** The student's step for each way of learning: on its labels alone, from a frozen teacher (KD), interactively (IKD). */
    static final Map<String, String> METHODS = Map.of("alone", "alone", "kd", "frozen", "ikd", "ikd");

    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions run;

    @Option(names = "--datasets", split = ",", defaultValue = "digits,fashion-mnist",
        description = "Data sets, each with its preset (digits: MLP, fashion-mnist: CNN). Default: ${DEFAULT-VALUE}")
    List<String> datasets;

    @Option(names = "--teacher-modes", split = ",", defaultValue = "ikd,frozen",
        description = "Teacher modes to run distributed (frozen streams soft targets --prefetch steps ahead). Default: ${DEFAULT-VALUE}")
    List<String> modes;

    @Option(names = "--variants", split = ",", defaultValue = "default,durable",
        description = "default (Kafka settings as shipped, no state directory), durable (default with a state directory: every "
            + "record's state checkpointed and fsync'd before its answers leave), secure (default on a broker with TLS, SCRAM "
            + "logins and ACLs, every message signed and checked), fetch-wait-5, fetch-wait-100, linger-5, acks-1. "
            + "Default: ${DEFAULT-VALUE}")
    List<String> variants;

    @Option(names = "--isolation", split = ",", defaultValue = "thread,process",
        description = "thread: the services in this process; process: each service in a JVM of its own. Default: ${DEFAULT-VALUE}")
    List<String> isolations;

    @Option(names = "--repeats", defaultValue = "3", description = "Runs of every setting; the summary reports their median. "
        + "Default: ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--warmup-steps", description = "First steps of every run that are not timed (default: digits 500, "
        + "fashion-mnist 30, others 20).")
    Integer warmupGiven;

    /** The warm-up of the data set being measured. */
    int warmupSteps;
    /** Per data set, its steps and warm-up, for the summary's text. */
    private final Map<String, String> stepsOf = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print the summary as one JSON object on stdout.")
    boolean json;

    @Mixin
    BenchOutput output;

    /** A Kafka setting under test: how the services in this process are tuned, and the same as command-line options. */
    record Variant(String name, KafkaTuning tuning, boolean stateDir, boolean secure) {

        Variant(String name, KafkaTuning tuning, boolean stateDir) {
            this(name, tuning, stateDir, false);
        }

        static Variant parse(String name) {
            return switch (name) {
                case "default" -> new Variant(name, KafkaTuning.defaults(), false);
                case "durable" -> new Variant(name, KafkaTuning.defaults(), true);
                case "secure" -> new Variant(name, KafkaTuning.defaults(), false, true);
                case "fetch-wait-5" -> new Variant(name, new KafkaTuning(0, "all", 5), false);
                case "fetch-wait-100" -> new Variant(name, new KafkaTuning(0, "all", 100), false);
                case "linger-5" -> new Variant(name, new KafkaTuning(5, "all", KafkaTuning.DEFAULT_FETCH_MAX_WAIT_MS), false);
                case "acks-1" -> new Variant(name, new KafkaTuning(0, "1", KafkaTuning.DEFAULT_FETCH_MAX_WAIT_MS), false);
                default -> throw new IllegalArgumentException("unknown variant '" + name
                    + "'; known: default, durable, secure, fetch-wait-5, fetch-wait-100, linger-5, acks-1");
            };
        }

        List<String> args() {
            return List.of("--kafka-linger-ms", Integer.toString(tuning.lingerMs()), "--kafka-acks", tuning.acks(),
                "--kafka-fetch-max-wait-ms", Integer.toString(tuning.fetchMaxWaitMs()));
        }
    }

    /** The plain broker every variant uses, and the secure one the variant {@code secure} uses (null when not asked for). */
    private record Clusters(String plain, EmbeddedKafka secure) {
    }

    /** One data set and teacher mode: the run's configuration, its data and its pretrained teacher. */
    private record Setting(String dataset, String mode, TrainConfig config, Dataset data, Params teacher, Path teacherFile,
                           List<String> args) {
    }

    /** An in-process run: ms per step in the steady state, the student's own step time, and the final hashes. */
    private record InProcess(double msPerStep, double msPerRound, double studentStepMs, List<String> hashes) {
    }

    @Override
    public Integer call() throws Exception {
        for (String fixed : List.of("--dataset", "--teacher-mode")) {
            if (spec.commandLine().getParseResult().hasMatchedOption(fixed)) {
                throw new IllegalArgumentException("ikd bench overhead takes --datasets and --teacher-modes, not " + fixed);
            }
        }
        if (repeats < 1) {
            throw new IllegalArgumentException("--repeats must be at least 1, got " + repeats);
        }
        if (warmupGiven != null && warmupGiven < 1) {
            throw new IllegalArgumentException("--warmup-steps must be at least 1, got " + warmupGiven);
        }
        List<Variant> vs = variants.stream().map(Variant::parse).toList();
        for (String i : isolations) {
            if (!ISOLATIONS.contains(i)) {
                throw new IllegalArgumentException("unknown isolation '" + i + "'; known: thread, process");
            }
        }
        modes.forEach(TeacherMode::parse);
        boolean stepsGiven = spec.commandLine().getParseResult().hasMatchedOption("--steps");
        long given = run.steps;
        Path dir = Files.createTempDirectory("ikd-bench-overhead-");
        List<JsonObject> runs = new ArrayList<>();
        List<JsonObject> studentSteps = new ArrayList<>();
        int principals = RunOptions.studentCount(run.students);
        boolean secure = vs.stream().anyMatch(Variant::secure);
        try (EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")));
             EmbeddedKafka secureBroker = secure ? EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka-secure"))
                 .secure(RunKeys.identities(principals))) : null) {
            Services.ensureTopics(broker.bootstrapServers(), 4);
            if (secure) {
                Services.secureTopics(KafkaAccess.withConfig(secureBroker.bootstrapServers(),
                    secureBroker.security().clientConfig(BrokerSecurity.ADMIN)), TopicSettings.defaults(),
                    Services.studentIds(principals));
            }
            Clusters bootstrap = new Clusters(broker.bootstrapServers(), secureBroker);
            for (String dataset : datasets) {
                run.dataset = dataset;
                long[] defaults = DEFAULT_STEPS.getOrDefault(dataset, new long[] {given, 20});
                run.steps = stepsGiven ? given : defaults[0];
                warmupSteps = warmupGiven != null ? warmupGiven : (int) defaults[1];
                stepsOf.put(dataset, String.format(Locale.ROOT, "%s: %d steps, the first %d not timed", dataset, run.steps,
                    warmupSteps));
                if (run.steps < warmupSteps + 10) {
                    throw new IllegalArgumentException("--steps " + run.steps + " leaves fewer than 10 timed steps after "
                        + "--warmup-steps " + warmupSteps);
                }
                try (NDManager manager = run.newManager()) {
                    bench(dataset, vs, bootstrap, dir, manager, runs, studentSteps);
                }
            }
        }
        JsonObject result = new JsonObject();
        result.addProperty("command", commandLine());
        result.addProperty("students", RunOptions.studentCount(run.students));
        result.addProperty("cores", Runtime.getRuntime().availableProcessors());
        result.addProperty("repeats", repeats);
        JsonArray runArray = new JsonArray();
        runs.forEach(runArray::add);
        result.add("runs", runArray);
        JsonArray summary = OverheadReport.summarise(runs);
        result.add("summary", summary);
        JsonArray steps = new JsonArray();
        studentSteps.forEach(steps::add);
        result.add("student_steps", steps);
        JsonArray stepSummary = OverheadReport.summariseStudentSteps(studentSteps);
        result.add("student_step_summary", stepSummary);
        int students = RunOptions.studentCount(run.students);
        String name = students == 1 ? "overhead" : "overhead-students-" + students;
        Path png = output.results.resolve(name + ".png");
        OverheadReport.plot(png, summary, students);
        output.record(name, result, OverheadReport.markdown(commandLine(), repeats, List.copyOf(stepsOf.values()), output.results,
            summary, stepSummary, students, png));
        if (json) {
            JsonObject brief = new JsonObject();
            brief.add("summary", summary);
            brief.add("student_step_summary", stepSummary);
            System.out.println(new GsonBuilder().create().toJson(brief));
        }
        OverheadReport.requireSameHashes(summary);
        return 0;
    }

    /** Every mode, isolation and variant of one data set, {@code repeats} times, each repeat in a rotated order. */
    private void bench(String dataset, List<Variant> vs, Clusters bootstrap, Path dir, NDManager manager, List<JsonObject> runs,
                       List<JsonObject> studentSteps) throws Exception {
        Dataset data = run.loadDataset();
        run.teacherMode = "ikd";
        TrainConfig base = run.toConfig();
        Params teacher = Teachers.obtain(base, data, null, manager, false);
        Path teacherFile = dir.resolve(dataset + "-teacher.ckpt");
        Teachers.save(teacherFile, base, data, teacher);
        Map<String, Setting> settings = new LinkedHashMap<>();
        // The modes run distributed, and those the student's step time per method needs in-process.
        List<String> inProcessModes = new ArrayList<>(new LinkedHashSet<>(concat(modes, List.of("frozen", "ikd"))));
        for (String mode : inProcessModes) {
            run.teacherMode = mode;
            settings.put(mode, new Setting(dataset, mode, run.toConfig(), data, teacher, teacherFile, run.asArgs()));
        }
        TrainConfig alone = base.with(TeacherMode.FROZEN, SwapSchedule.OFF, true);
        // Warm-up: the JIT, the natives and the broker's topics, with nothing timed.
        for (String mode : modes) {
            Setting s = settings.get(mode);
            TrainConfig shortRun = s.config().withSteps(Math.min(2L * warmupSteps, s.config().steps()));
            inProcess(shortRun, s, manager);
            distributedInThreads(new Setting(dataset, mode, shortRun, data, teacher, teacherFile, s.args()), vs.get(0), bootstrap,
                dir, "overhead-warmup-" + dataset + "-" + mode + "-" + System.currentTimeMillis(), manager);
        }
        List<String[]> combos = new ArrayList<>();
        for (String isolation : isolations) {
            for (Variant v : vs) {
                combos.add(new String[] {isolation, v.name()});
            }
        }
        for (int r = 0; r < repeats; r++) {
            InProcess a = inProcess(alone, settings.get("frozen"), manager);
            studentSteps.add(studentStep(dataset, "alone", r, a));
            Map<String, InProcess> reference = new LinkedHashMap<>();
            for (String mode : rotate(inProcessModes, r)) {
                reference.put(mode, inProcess(settings.get(mode).config(), settings.get(mode), manager));
            }
            studentSteps.add(studentStep(dataset, "kd", r, reference.get("frozen")));
            studentSteps.add(studentStep(dataset, "ikd", r, reference.get("ikd")));
            for (String mode : rotate(modes, r)) {
                Setting s = settings.get(mode);
                for (String[] combo : rotate(combos, r)) {
                    Variant v = Variant.parse(combo[1]);
                    String runId = String.format(Locale.ROOT, "overhead-%s-%s-%s-%s-%d-%d", dataset, mode, combo[0], v.name(), r,
                        System.currentTimeMillis());
                    Distributed d = "thread".equals(combo[0]) ? distributedInThreads(s, v, bootstrap, dir, runId, manager)
                        : distributedInProcesses(s, v, bootstrap, dir, runId);
                    JsonObject row = row(s, combo[0], v.name(), r, reference.get(mode), d);
                    runs.add(row);
                    System.err.printf(Locale.ROOT, "%s %s %s %s repeat %d: %.2f ms per step in-process, %.2f distributed "
                            + "(ratio %.3f), hop p50 %.2f ms, %.2f hops per step%n", dataset, mode, combo[0], v.name(), r + 1,
                        row.get("inprocess_ms_per_step").getAsDouble(), row.get("distributed_ms_per_step").getAsDouble(),
                        row.get("ratio").getAsDouble(), row.get("hop_p50_ms").getAsDouble(), row.get("hops_per_step").getAsDouble());
                }
            }
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** {@code items} started at position {@code r}: every item takes every place in turn over the repeats. */
    static <T> List<T> rotate(List<T> items, int r) {
        List<T> out = new ArrayList<>(items);
        Collections.rotate(out, -(r % Math.max(1, items.size())));
        return out;
    }

    private InProcess inProcess(TrainConfig c, Setting s, NDManager manager) {
        long[] roundDone = new long[(int) c.steps()];
        List<Long> studentNanos = new ArrayList<>();
        TrainResult result = ReferenceTrainer.run(c, s.data(), s.teacher(), manager, new StepListener() {
            @Override
            public void onStudentStep(StudentStepped e) {
                roundDone[(int) e.step()] = System.nanoTime();
                if (e.step() >= warmupSteps) {
                    studentNanos.add(e.wallNanos());
                }
            }
        });
        double round = (roundDone[roundDone.length - 1] - roundDone[warmupSteps - 1]) / 1e6 / (c.steps() - warmupSteps);
        return new InProcess(round / c.students(), round, OverheadReport.median(studentNanos.stream().map(n -> n / 1e6).toList()),
            result.students().stream().map(TrainResult.StudentResult::paramSha256).toList());
    }

    private static JsonObject studentStep(String dataset, String method, int repeat, InProcess run) {
        var o = new JsonObject();
        o.addProperty("dataset", dataset);
        o.addProperty("method", method);
        o.addProperty("repeat", repeat);
        o.addProperty("student_step_ms", run.studentStepMs());
        o.addProperty("inprocess_ms_per_step", run.msPerStep());
        return o;
    }

    /** The --kafka-config of {@code principal} on the secure broker, for a secure variant; nothing otherwise. */
    private static List<String> login(Variant v, Clusters clusters, String principal) {
        return v.secure() ? List.of("--kafka-config", clusters.secure().security().clientConfig(principal).toString()) : List.of();
    }

    /** A distributed run: what its hops show, and its final hashes. */
    private record Distributed(HopAnalysis.Result hops, List<String> hashes) {
    }

    private Distributed distributedInThreads(Setting s, Variant v, Clusters clusters, Path dir, String runId, NDManager manager) {
        List<HopLog.Sample> samples = Collections.synchronizedList(new ArrayList<>());
        try (ServiceHost host = new ServiceHost(s.config().students() + 2)) {
            host.observe((service, topic, e, hop) -> samples.add(new HopLog.Sample(service, topic, e.getKind(), e.getStudentId(),
                e.getStep(), hop)));
            Services.Wiring wiring = Services.Wiring.of(v.secure() ? clusters.secure().bootstrapServers() : clusters.plain(), runId,
                v.stateDir() ? dir.resolve("state") : null).withTuning(v.tuning()).withPrefetch(run.prefetch);
            if (v.secure()) {
                wiring = Services.secured(wiring, clusters.secure(), dir.resolve("keys").resolve(runId), s.config().students());
            }
            LocalRun.Outcome o = LocalRun.run(s.config(), s.data(), s.teacher(), wiring, host, manager, 3600);
            // A copy (toArray holds the list's lock): services may still be handling the run's last records.
            List<HopLog.Sample> taken = new ArrayList<>(samples);
            return new Distributed(HopAnalysis.of(taken, s.config().students(), s.config().steps(), warmupSteps),
                o.students().stream().map(TrainResult.StudentResult::paramSha256).toList());
        }
    }

    private Distributed distributedInProcesses(Setting s, Variant v, Clusters clusters, Path dir, String runId) throws Exception {
        Path runDir = Files.createDirectories(dir.resolve(runId));
        List<String> common = new ArrayList<>(s.args());
        common.addAll(List.of("--bootstrap", v.secure() ? clusters.secure().bootstrapServers() : clusters.plain(), "--run-id", runId,
            "--metrics-port", "-1"));
        common.addAll(v.args());
        if (v.secure()) {
            Path keys = dir.resolve("keys").resolve(runId);
            RunKeys.create(keys, runId, s.config().students());
            common.addAll(List.of("--keys", keys.toString()));
        }
        if (v.stateDir()) {
            common.addAll(List.of("--state-dir", dir.resolve("state").toString()));
        }
        List<ServiceProcess> fleet = new ArrayList<>();
        try {
            fleet.add(ServiceProcess.start(runDir, "coordinator", with(concat(List.of("coordinator"), login(v, clusters, "coordinator")),
                common, "--hop-log",
                runDir.resolve("coordinator.hops").toString())));
            fleet.add(ServiceProcess.start(runDir, "teacher", with(concat(List.of("teacher"), login(v, clusters, "teacher")), common,
                "--teacher-checkpoint",
                s.teacherFile().toString(), "--hop-log", runDir.resolve("teacher.hops").toString())));
            List<ServiceProcess> students = new ArrayList<>();
            for (int i = 0; i < s.config().students(); i++) {
                String id = Services.studentId(i);
                ServiceProcess p = ServiceProcess.start(runDir, id, with(concat(List.of("student"), login(v, clusters, id)), common,
                    "--index", Integer.toString(i),
                    "--json", "--hop-log", runDir.resolve(id + ".hops").toString()));
                students.add(p);
                fleet.add(p);
            }
            for (ServiceProcess p : fleet) {
                p.awaitSuccess(3600);
            }
            List<HopLog.Sample> samples = new ArrayList<>();
            for (ServiceProcess p : fleet) {
                samples.addAll(HopLog.read(runDir.resolve(p.name() + ".hops")));
            }
            List<String> hashes = new ArrayList<>();
            for (ServiceProcess p : students) {
                hashes.add(hashOf(p.stdout()));
            }
            return new Distributed(HopAnalysis.of(samples, s.config().students(), s.config().steps(), warmupSteps), hashes);
        } finally {
            fleet.forEach(ServiceProcess::destroy);
        }
    }

    /** A service's command line: its command, the run's common options that command takes, and its own. */
    private static List<String> with(List<String> head, List<String> common, String... more) {
        List<String> all = new ArrayList<>(head);
        all.addAll(RunOptionTable.forCommand(head.get(0), common));
        all.addAll(List.of(more));
        return all;
    }

    private JsonObject row(Setting s, String isolation, String variant, int repeat, InProcess in, Distributed d) {
        var row = new JsonObject();
        row.addProperty("dataset", s.dataset());
        row.addProperty("teacher_mode", s.mode());
        row.addProperty("isolation", isolation);
        row.addProperty("variant", variant);
        row.addProperty("repeat", repeat);
        row.addProperty("students", s.config().students());
        row.addProperty("steps", s.config().steps());
        row.addProperty("warmup_steps", warmupSteps);
        row.addProperty("inprocess_ms_per_step", in.msPerStep());
        row.addProperty("distributed_ms_per_step", d.hops().msPerStep());
        row.addProperty("added_ms_per_step", d.hops().msPerStep() - in.msPerStep());
        row.addProperty("ratio", d.hops().msPerStep() / in.msPerStep());
        row.addProperty("inprocess_ms_per_round", in.msPerRound());
        row.addProperty("distributed_ms_per_round", d.hops().msPerRound());
        row.addProperty("hops_per_step", d.hops().hopsPerStep());
        row.addProperty("hop_p50_ms", d.hops().hopP50Ms());
        row.addProperty("hop_p99_ms", d.hops().hopP99Ms());
        var stages = new JsonObject();
        d.hops().stageP50Ms().forEach((topic, p50) -> {
            var t = new JsonObject();
            p50.forEach(t::addProperty);
            stages.add(topic, t);
        });
        row.add("stage_p50_ms", stages);
        row.addProperty("same_hashes", d.hashes().equals(in.hashes()));
        return row;
    }

    /** The command as given: picocli's original arguments start at the top command ({@code bench overhead ...}). */
    private String commandLine() {
        return "ikd " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }

    /** The parameter hash a student process printed (its --json report, one object per line). */
    static String hashOf(String stdout) {
        String line = stdout.strip().lines().reduce((a, b) -> b).orElseThrow(() -> new IllegalStateException("a student printed no report"));
        return JsonParser.parseString(line).getAsJsonObject().get("param_sha256").getAsString();
    }
}
