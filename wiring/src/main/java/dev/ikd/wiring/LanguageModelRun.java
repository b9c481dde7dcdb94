package dev.ikd.wiring;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.core.text.LmTraining;
import dev.ikd.core.train.StepListener;
import dev.ikd.dashboard.RunProjection;
import dev.ikd.embeddedkafka.BrokerSecurity;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.learning.data.RunData;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.sign.RunKeys;
import dev.ikd.coordinator.service.CoordinatorVerticle;
import dev.ikd.proto.topics.Acls;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.student.LmStudent;
import dev.ikd.student.StudentSettings;
import dev.ikd.student.StudentVerticle;
import dev.ikd.teacher.LmTeacher;
import dev.ikd.teacher.TeacherService;
import dev.ikd.teacher.TeacherVerticle;

/**
 * A language-model run over Kafka ({@code ikd local --dataset lm:... --teacher-checkpoint M.safetensors}):
 * the coordinator, the teacher (frozen or ikd, serving {@code TokenTargets}) and each {@code gpt:}
 * student as services of their own that talk only through the broker, on the very steps
 * {@link LanguageModels#distil} takes in process, so each student ends on the same parameter hash.
 */
public final class LanguageModelRun {

    private LanguageModelRun() {
    }

    /** The run's services on the broker {@code wiring} names; what each student reported. */
    static LanguageModels.Distilled run(RunOptions run, LanguageModels.Setup s, Services.Wiring wiring, ServiceHost host,
                                        NDManager manager, long timeoutSeconds, StepListener progress) {
        List<StudentSettings> students = new ArrayList<>();
        for (int i = 0; i < s.count(); i++) {
            students.add(student(run, s, i, wiring.prefetch()));
        }
        LocalRun.Outcome outcome = LocalRun.run(coordinator(run, s, LocalRun.TIMEOUT_MS, CoordinatorMachine.Settings.MAX_NUDGES),
            List.of(teacher(s)), students, wiring, host, manager, timeoutSeconds, progress);
        double teacherPerplexity = LmTraining.perplexity(s.teacher().model(), s.teacher().params(), s.sequences().test(), s.batch(), manager);
        List<LanguageModels.DistilledStudent> rows = new ArrayList<>();
        outcome.reports().forEach((id, r) -> rows.add(row(id, r)));
        return new LanguageModels.Distilled(run.dataset, s.teacher().card(), teacherPerplexity, s.mode().cliName(),
            s.encoding().toString(), run.seed, outcome.wallSeconds(), rows);
    }

    /** The coordinator's terms: the data set all must hold (every token of every split), the mode, the students. */
    static CoordinatorMachine.Settings coordinator(RunOptions run, LanguageModels.Setup s, long timeoutMs, int maxNudges) {
        return new CoordinatorMachine.Settings(RunData.spec(s.named(), run.seed, 1.0, 0), s.mode().cliName(), timeoutMs, maxNudges, s.count());
    }

    static TeacherService.Settings teacher(LanguageModels.Setup s) {
        return TeacherService.Settings.languageModel(StudentVerticle.TEACHER_ID, new LmTeacher(s.teacher().model(), s.teacher().params(),
            s.data(), s.encoding()), s.named(), s.mode(), s.teacherConfig());
    }

    /** Student i: from seed + i, as {@code ikd train} trains it. */
    static StudentSettings student(RunOptions run, LanguageModels.Setup s, int i, int prefetch) {
        return StudentSettings.languageModel(Services.studentId(i), new LmStudent(s.student(), s.data(), s.sequences(),
                s.encoding().toString()),
            s.named(), s.config(), run.seed + i, s.batch(), run.steps, run.seed, s.mode(), prefetch);
    }

    /**
     * {@code ikd coordinator} of a language model's run, in a process of its own: it reads the
     * teacher's file for its tokenizer, and the corpus, to know the data set every enrollment must name.
     */
    public static void serveCoordinator(RunOptions run, Path teacherFile, ServiceOptions service, TopicSettings topics,
                                        long stepTimeoutMs, int maxNudges) throws IOException {
        try (NDManager manager = run.newManager()) {
            LanguageModels.Setup s = LanguageModels.setup(run, teacherFile, manager, false); // a bad option stops here, before Kafka
            Services.ensureTopics(service.kafka(), topics);
            serveCoordinator(run, s, service, stepTimeoutMs, maxNudges);
        }
    }

    private static void serveCoordinator(RunOptions run, LanguageModels.Setup s, ServiceOptions service, long stepTimeoutMs,
                                         int maxNudges) {
        try (ServiceHost host = service.newHost(2, Kind.EXAM_RESULT, run.steps)) {
            var coordinator = new CoordinatorVerticle(service.wiring().config("coordinator", "coordinator"),
                coordinator(run, s, stepTimeoutMs, maxNudges), host.metrics("coordinator"));
            host.deploy(coordinator, coordinator::health);
            service.serve(host, "coordinator");
            ServiceHost.await(coordinator.ended(), service.timeoutSeconds, "all " + s.count() + " students to report");
            System.out.printf("run %s complete: %d students reported%n", service.runId, s.count());
        }
    }

    /**
     * {@code ikd teacher} of a language model's run, in a process of its own; with a {@code replica}
     * name (null: none), one of several that share the teacher's consumer group and state directory,
     * each teaching the students whose partitions it is given.
     */
    public static void serveTeacher(RunOptions run, Path teacherFile, ServiceOptions service, TopicSettings topics, String replica)
        throws IOException {
        try (NDManager manager = run.newManager()) {
            LanguageModels.Setup s = LanguageModels.setup(run, teacherFile, manager, false); // a bad option stops here, before Kafka
            Services.ensureTopics(service.kafka(), topics);
            String id = replica == null ? StudentVerticle.TEACHER_ID : StudentVerticle.TEACHER_ID + "-" + replica;
            try (ServiceHost host = service.newHost(s.count() + 2, Kind.FEEDBACK, run.steps)) {
                var teacher = new TeacherVerticle(service.wiring().config(id, StudentVerticle.TEACHER_ID),
                    teacher(s), host.metrics(StudentVerticle.TEACHER_ID), manager);
                host.deploy(teacher, teacher::health);
                service.serve(host, id);
                ServiceHost.await(teacher.ended(), service.timeoutSeconds, "the coordinator to end run " + service.runId);
                System.out.printf("run %s ended; teacher done%n", service.runId);
            }
        }
    }

    /**
     * {@code ikd student --index FIRST-LAST} of a language model's run, in a process of its own: the
     * students' reports, a line each (JSON with {@code json}).
     */
    public static void serveStudents(RunOptions run, Path teacherFile, ServiceOptions service, TopicSettings topics, int first, int last,
                                     boolean json) throws IOException {
        int count = RunOptions.studentCount(run.students);
        if (last >= count) {
            throw new IllegalArgumentException("--index names student " + last + ", but the run has --students " + count + " (0 to "
                + (count - 1) + ")");
        }
        List<String> ids = java.util.stream.IntStream.rangeClosed(first, last).mapToObj(Services::studentId).toList();
        try (NDManager manager = run.newManager()) {
            LanguageModels.Setup s = LanguageModels.setup(run, teacherFile, manager, true); // a bad option stops here, before Kafka
            Services.ensureTopics(service.kafka(), topics);
            serveStudents(run, s, service, first, last, ids, json, manager);
        }
    }

    private static void serveStudents(RunOptions run, LanguageModels.Setup s, ServiceOptions service, int first, int last,
                                      List<String> ids, boolean json, NDManager manager) {
        try (ServiceHost host = service.newHost(ids.size() + 1, null, run.steps);
             StudentProgress progress = new StudentProgress(ids, run.steps, service.progressEvery)) {
            List<StudentVerticle> students = new ArrayList<>();
            for (int i = first; i <= last; i++) {
                String id = Services.studentId(i);
                var student = new StudentVerticle(service.wiring().config(id, Acls.studentGroup(id)), student(run, s, i, run.prefetch),
                    host.metrics("student"), manager, progress);
                host.deploy(student, student::health);
                students.add(student);
            }
            service.serve(host, ids.size() == 1 ? ids.get(0) : ids.get(0) + ".." + last);
            List<io.vertx.core.Future<StudentReport>> reports = students.stream().map(StudentVerticle::finished).toList();
            ServiceHost.await(io.vertx.core.Future.all(reports), service.timeoutSeconds, ids + " to finish");
            for (int i = 0; i < reports.size(); i++) {
                System.out.println(StudentReports.line(ids.get(i), reports.get(i).result(), json));
            }
        }
    }

    /** The teacher's model file, its card and its tokenizer, copied into the run's directory as {@value #TEACHER_FILE}. */
    private static void keepTeacher(Path teacherFile, Path dir) throws IOException {
        Path kept = dir.resolve(TEACHER_FILE);
        if (kept.toAbsolutePath().equals(teacherFile.toAbsolutePath())) {
            return;
        }
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.copy(teacherFile, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.nio.file.Files.copy(dev.ikd.learning.export.ModelCard.beside(teacherFile), dev.ikd.learning.export.ModelCard.beside(kept),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path tokenizer = dev.ikd.learning.export.LanguageModelFile.tokenizerBeside(teacherFile);
        java.nio.file.Files.copy(tokenizer, dir.resolve(tokenizer.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static LanguageModels.DistilledStudent row(String id, StudentReport r) {
        return new LanguageModels.DistilledStudent(id, r.getSteps(), r.getTestPerplexity(), r.getSoftTargetBytesPerToken(),
            r.getParamSha256(), Double.NaN, null);
    }

    /** The teacher's model file a run keeps in its data directory, from which {@code ikd local --resume} goes on. */
    public static final String TEACHER_FILE = "teacher.safetensors";

    /** What a fresh run does once its directory and id are known: {@code ikd local} remembers its command there. */
    public interface Started {
        void at(Path dir, String runId) throws IOException;
    }

    /**
     * How {@code ikd local} runs a language model: its log in {@code dataDir} (null: runs/RUN), the
     * run named {@code id} (null: run-SEED-MILLIS), the dashboard and metrics on {@code metricsPort}
     * (0: a free one, -1: none), at most {@code timeoutSeconds}; {@code secure}: the broker takes TLS
     * and SCRAM logins only, each service logs in as its own principal and signs what it sends (its
     * keys in keys/RUN), as a classifier's {@code ikd local --secure}; {@code verify}: the students are
     * trained again in process ({@link LanguageModels#distil}) and every hash compared.
     */
    public record Local(Path dataDir, String id, int metricsPort, long timeoutSeconds, boolean secure, boolean verify) {
    }

    /**
     * {@code ikd local} on a language-model corpus: a real broker (KRaft, from Kafka's jars), the
     * run's services on it, as {@code local} says. A fresh run ({@code started} not null) keeps the
     * teacher's file, card and tokenizer in its directory ({@value #TEACHER_FILE}); a resumed one
     * ({@code started} null) is given that copy, and its services go on from their checkpoints. A bad
     * option stops it before it makes anything.
     */
    public static LanguageModels.Distilled local(RunOptions run, Path teacherFile, Local local, Started started) throws IOException {
        String runId = local.id() != null ? local.id() : "run-" + run.seed + "-" + System.currentTimeMillis();
        Path dir = local.dataDir() != null ? local.dataDir() : Path.of("runs", runId);
        try (NDManager manager = run.newManager()) {
            LanguageModels.Setup s = LanguageModels.setup(run, teacherFile, manager, true);
            if (started != null) {
                keepTeacher(teacherFile, dir);
                started.at(dir, runId);
            }
            LanguageModels.Distilled done = onBroker(run, s, dir, runId, local, manager);
            if (!local.verify()) {
                return done;
            }
            List<String> reference = LanguageModels.distil(run, teacherFile, null).students().stream()
                .map(LanguageModels.DistilledStudent::paramSha256).toList();
            return done.verified(reference.equals(done.students().stream().map(LanguageModels.DistilledStudent::paramSha256).toList()));
        }
    }

    /** The run's services on a broker of its own, its log in {@code dir}. */
    private static LanguageModels.Distilled onBroker(RunOptions run, LanguageModels.Setup s, Path dir, String runId, Local local,
                                                     NDManager manager) {
        int students = s.count();
        BrokerSettings settings = BrokerSettings.loopback(dir.resolve("kafka"));
        try (EmbeddedKafka broker = EmbeddedKafka.start(local.secure() ? settings.secure(RunKeys.identities(students, 1)) : settings);
             ServiceHost host = new ServiceHost(students + 2)) {
            if (local.metricsPort() >= 0) {
                host.withDashboard(local.secure()
                    ? KafkaAccess.withConfig(broker.bootstrapServers(), broker.security().clientConfig(BrokerSecurity.ADMIN))
                    : KafkaAccess.plain(broker.bootstrapServers()), runId, RunProjection.DEFAULT_STEP_TIMEOUT_MS);
            }
            int port = host.serve("127.0.0.1", local.metricsPort());
            System.err.printf("ikd local: run %s, broker %s, log in %s%s%n", runId, broker.bootstrapServers(), dir,
                port < 0 ? "" : ", dashboard http://127.0.0.1:" + port + "/");
            Services.Wiring wiring = Services.Wiring.of(broker.bootstrapServers(), runId, dir.resolve("state")).withPrefetch(run.prefetch);
            if (local.secure()) {
                wiring = Services.secured(wiring, broker, dir.resolve("keys").resolve(runId), students, 1);
                Services.secureTopics(wiring.admin(), TopicSettings.defaults(), Services.studentIds(students));
            } else {
                Services.ensureTopics(broker.bootstrapServers(), TopicSettings.DEFAULT_PARTITIONS);
            }
            try (StudentProgress progress = new StudentProgress(Services.studentIds(students), run.steps)) {
                return run(run, s, wiring, host, manager, local.timeoutSeconds(), progress);
            }
        }
    }
}
