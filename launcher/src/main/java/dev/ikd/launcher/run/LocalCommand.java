package dev.ikd.launcher.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.TeachersUsed;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.dashboard.RunProjection;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.runlog.LogAccess;
import dev.ikd.runlog.RunLog;
import dev.ikd.wiring.LocalReport;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.StudentProgress;
import dev.ikd.wiring.Teachers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code ikd local}: the zero-setup distributed run. An embedded KRaft broker, then coordinator,
 * teacher and students as separate verticles in this JVM that talk only through Kafka. The data
 * directory keeps the broker's log, every service's checkpoints and the run's options, so that
 * {@code --resume RUN} continues a run whose process died.
 */
@Command(name = "local", mixinStandardHelpOptions = true,
    description = "Run broker, coordinator, teacher and students in one process, talking only through Kafka.")
public final class LocalCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    RunOptions run;

    @Option(names = "--data-dir", description = "Keeps the broker's log (the run's record), every service's checkpoints and "
        + "the teacher checkpoint here (default: runs/RUN in the working directory).")
    Path dataDir;

    @Option(names = "--run-id", description = "Run id (default: run-<seed>-<time>).")
    String runId;

    @Option(names = "--teacher-checkpoint", description = "A checkpoint from 'ikd pretrain' instead of pretraining now.")
    Path teacherCheckpoint;

    @Option(names = "--metrics-port", defaultValue = "0",
        description = "Port of /metrics and /health for all services (0: a free port, -1: none). Default: ${DEFAULT-VALUE}")
    int metricsPort;

    @Option(names = "--compare", description = "Also run this baseline in-process: kd (a frozen teacher).")
    String compare;

    @Option(names = "--secure", description = "Run as on a shared cluster: the broker takes TLS and SCRAM logins only and its "
        + "authorizer gives each role (coordinator, teacher, each student) exactly its rights; every service logs in as its own "
        + "principal and signs every message, and checks every signature it reads.")
    boolean secure;

    @Option(names = "--verify-inprocess", description = "Also run the in-process reference trainer and check every final hash.")
    boolean verify;

    @Option(names = "--json", description = "Print one JSON object on stdout; progress stays on stderr.")
    boolean json;

    @Option(names = "--timeout", defaultValue = "3600", description = "Give up after this many seconds. Default: ${DEFAULT-VALUE}")
    long timeoutSeconds;

    @Option(names = "--resume", paramLabel = "RUN", description = "Continue run RUN, which 'ikd local --data-dir DIR' started "
        + "and did not finish, with its options, log, checkpoints and teacher from DIR.")
    String resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (resume != null) {
            return resumed().start(true);
        }
        return start(false);
    }

    /** The command the run {@code --resume} names was started with, with this call's output options. */
    private LocalCommand resumed() throws java.io.IOException {
        // A resumed run goes on as it started: an option that would change it stops here instead of being dropped.
        java.util.Set<String> fixed = new java.util.TreeSet<>(List.of("--run-id", "--teacher-checkpoint"));
        dev.ikd.wiring.RunOptionTable.ROWS.forEach(r -> fixed.add(r.option()));
        for (var matched : spec.commandLine().getParseResult().matchedOptions()) {
            if (fixed.contains(matched.longestName())) {
                throw new IllegalArgumentException("--resume " + resume + " goes on with the options the run started with; "
                    + matched.longestName() + " cannot change it (start a new run for other options)");
            }
        }
        if (dataDir == null) {
            dataDir = defaultDir(resume);
        }
        Path saved = argsFile(dataDir, resume);
        if (!Files.exists(saved)) {
            throw new IllegalArgumentException("no run '" + resume + "' to resume in " + dataDir + " (no " + saved + ")");
        }
        LocalCommand original = CommandLine.populateCommand(new LocalCommand(), Files.readAllLines(saved).toArray(String[]::new));
        original.dataDir = dataDir;
        original.runId = resume;
        original.teacherCheckpoint = dataDir.resolve(dev.ikd.wiring.LanguageModels.isCorpus(original.run.dataset)
            ? dev.ikd.wiring.LanguageModelRun.TEACHER_FILE : "teacher.ckpt");
        original.json = json;
        original.verify = verify;
        original.timeoutSeconds = timeoutSeconds;
        original.metricsPort = metricsPort;
        return original;
    }

    /** Where a run keeps its log and checkpoints unless --data-dir says otherwise: runs/RUN, beside the user. */
    static Path defaultDir(String runId) {
        return Path.of("runs", runId);
    }

    /** Writes the command this run started with, so that --resume goes on with the same options. */
    private void remember(Path dir, String id) throws java.io.IOException {
        List<String> given = spec.commandLine().getParseResult().originalArgs();
        List<String> args = new java.util.ArrayList<>(given.subList(given.indexOf(spec.name()) + 1, given.size()));
        if (runId == null) {
            args.addAll(List.of("--run-id", id));
        }
        Files.createDirectories(argsFile(dir, id).getParent());
        Files.write(argsFile(dir, id), args);
    }

    private static Path argsFile(Path dir, String id) {
        return dir.resolve("runs").resolve(id + ".args");
    }

    private int start(boolean resuming) throws Exception {
        if (dev.ikd.wiring.LanguageModels.isCorpus(run.dataset) && compare == null) {
            var done = dev.ikd.wiring.LanguageModelRun.local(run, teacherCheckpoint, new dev.ikd.wiring.LanguageModelRun.Local(dataDir,
                runId, metricsPort, timeoutSeconds, secure, verify), resuming ? null : this::remember);
            System.out.println(done.text(json));
            return Boolean.FALSE.equals(done.verified()) ? 1 : 0;
        }
        TrainConfig c = run.toConfig();
        Services.requireDistributable(c);
        if (compare != null && !"kd".equals(compare)) {
            throw new IllegalArgumentException("--compare takes kd, got '" + compare + "'");
        }
        Dataset data = run.loadDataset();
        String id = runId != null ? runId : "run-" + c.seed() + "-" + System.currentTimeMillis();
        if (!id.matches("[A-Za-z0-9_-][A-Za-z0-9._-]*") || id.contains("..")) {
            throw new IllegalArgumentException("--run-id must be letters, digits, '_', '-' and single dots, not first, got '" + id + "'");
        }
        Path dir = dataDir != null ? dataDir : defaultDir(id);
        List<String> ids = Services.studentIds(c.students());
        BrokerSettings brokerSettings = BrokerSettings.loopback(dir.resolve("kafka"));
        try (NDManager manager = run.newManager();
             EmbeddedKafka broker = EmbeddedKafka.start(secure
                 ? brokerSettings.secure(RunKeys.identities(c.students(), c.teachers().count())) : brokerSettings);
             ServiceHost host = new ServiceHost(c.students() + 1 + c.teachers().count())) {
            List<Params> teachers = Teachers.obtainAll(c, data, teachers(resuming), manager, true);
            Params teacher = teachers.get(0);
            if (!resuming) {
                if (teachers.size() == 1) {
                    Teachers.save(dir.resolve("teacher.ckpt"), c, data, teacher);
                }
                remember(dir, id);
            }
            if (metricsPort >= 0) {
                host.withDashboard(LogAccess.reader(broker), id, RunProjection.DEFAULT_STEP_TIMEOUT_MS);
            }
            int port = host.serve("127.0.0.1", metricsPort);
            System.err.printf("ikd local: %srun %s, broker %s, log in %s%s%n", resuming ? "resuming " : "", id,
                broker.bootstrapServers(), dir, port < 0 ? "" : ", metrics http://127.0.0.1:" + port + "/metrics");
            if (port >= 0) {
                System.err.printf("ikd local: dashboard http://127.0.0.1:%d/%n", port);
            }
            System.err.printf("ikd local: if this process dies, continue with: ikd local --data-dir %s --resume %s%n", dir, id);
            Services.Wiring wiring = Services.Wiring.of(broker.bootstrapServers(), id, dir.resolve("state")).withPrefetch(run.prefetch);
            if (secure) {
                wiring = Services.secured(wiring, broker, dir.resolve("keys").resolve(id), c.students(), c.teachers().count());
                Services.secureTopics(wiring.admin(), TopicSettings.defaults(), ids, Services.teacherTags(c));
            } else {
                Services.ensureTopics(broker.bootstrapServers(), TopicSettings.DEFAULT_PARTITIONS);
            }
            LocalRun.Outcome outcome;
            try (StudentProgress progress = new StudentProgress(ids, c.steps())) {
                outcome = LocalRun.run(c, data, teachers, wiring, host, manager, timeoutSeconds, -1, progress);
            }
            TrainResult baseline = compare == null ? null
                : ReferenceTrainer.run(c.with(TeacherMode.FROZEN, c.swap(), false), data, teacher, manager, StepListener.NONE);
            Boolean verified = null;
            if (verify) {
                // A step that went without a late teacher is followed as the log recorded it.
                TeachersUsed used = c.teachers().degradable() ? RunLog.read(LogAccess.reader(broker), id, null).teachersUsed()
                    : TeachersUsed.ALL;
                TrainResult reference = ReferenceTrainer.run(c, data, teachers, null, used, manager, StepListener.NONE);
                verified = TrainResult.sameHashes(outcome.students(), reference.students());
            }
            print(outcome, dir, baseline, verified, Teachers.rows(c, data, teachers, manager));
            return Boolean.FALSE.equals(verified) ? 1 : 0;
        }
    }

    /** The teacher checkpoint to load: the one given, or the one a resumed run saved (a run of several pretrains them again). */
    private Path teachers(boolean resuming) {
        return resuming && !Files.exists(teacherCheckpoint) ? null : teacherCheckpoint;
    }

    private void print(LocalRun.Outcome o, Path dir, TrainResult baseline, Boolean verified, List<Teachers.Row> teachers) {
        System.out.print(json ? LocalReport.json(o, dir, baseline, verified, teachers) + "\n" : LocalReport.text(o, dir, baseline, verified, teachers));
    }
}
