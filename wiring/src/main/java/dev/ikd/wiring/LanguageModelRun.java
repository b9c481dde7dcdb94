package dev.ikd.wiring;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.text.LmTraining;
import dev.ikd.core.train.StepListener;
import dev.ikd.dashboard.RunProjection;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.learning.data.RunData;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.student.LmStudent;
import dev.ikd.student.StudentSettings;
import dev.ikd.student.StudentVerticle;
import dev.ikd.teacher.LmTeacher;
import dev.ikd.teacher.TeacherService;

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
    public static LanguageModels.Distilled run(RunOptions run, Path teacherFile, Services.Wiring wiring, ServiceHost host,
                                               NDManager manager, long timeoutSeconds, StepListener progress) throws IOException {
        LanguageModels.Setup s = LanguageModels.setup(run, teacherFile, manager);
        Dataset named = s.data().dataset();
        var coordinator = new CoordinatorMachine.Settings(RunData.spec(named, run.seed, 1.0, 0), s.mode().cliName(), LocalRun.TIMEOUT_MS,
            CoordinatorMachine.Settings.MAX_NUDGES, s.count());
        var teacher = TeacherService.Settings.languageModel(StudentVerticle.TEACHER_ID, new LmTeacher(s.teacher().model(),
            s.teacher().params(), s.data(), s.encoding()), s.mode(), s.teacherConfig());
        LmStudent lm = new LmStudent(s.student(), s.data(), s.encoding().toString());
        List<StudentSettings> students = new ArrayList<>();
        for (int i = 0; i < s.count(); i++) {
            students.add(StudentSettings.languageModel(Services.studentId(i), lm, s.config(), run.seed + i, s.batch(), run.steps,
                run.seed, s.mode(), wiring.prefetch()));
        }
        LocalRun.Outcome outcome = LocalRun.run(coordinator, List.of(teacher), students, wiring, host, manager, timeoutSeconds, progress);
        double teacherPerplexity = LmTraining.perplexity(s.teacher().model(), s.teacher().params(), s.data().test(), s.batch(), manager);
        List<LanguageModels.DistilledStudent> rows = new ArrayList<>();
        outcome.reports().forEach((id, r) -> rows.add(row(id, r)));
        return new LanguageModels.Distilled(run.dataset, s.teacher().card(), teacherPerplexity, s.mode().cliName(),
            s.encoding().toString(), run.seed, outcome.wallSeconds(), rows);
    }

    private static LanguageModels.DistilledStudent row(String id, StudentReport r) {
        return new LanguageModels.DistilledStudent(id, r.getSteps(), r.getTestPerplexity(), r.getSoftTargetBytesPerToken(),
            r.getParamSha256(), Double.NaN, null);
    }

    /**
     * {@code ikd local} on a language-model corpus: a real broker (KRaft, from Kafka's jars) with its
     * log in {@code dataDir} (null: runs/RUN), the run's services on it, the dashboard and metrics on
     * {@code metricsPort} (0: a free one, -1: none). {@code id} names the run (null: run-SEED-MILLIS).
     */
    public static LanguageModels.Distilled local(RunOptions run, Path teacherFile, Path dataDir, String id, int metricsPort,
                                                 long timeoutSeconds) throws IOException {
        String runId = id != null ? id : "run-" + run.seed + "-" + System.currentTimeMillis();
        Path dir = dataDir != null ? dataDir : Path.of("runs", runId);
        int students = RunOptions.studentCount(run.students);
        try (NDManager manager = run.newManager();
             EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")));
             ServiceHost host = new ServiceHost(students + 2)) {
            if (metricsPort >= 0) {
                host.withDashboard(KafkaAccess.plain(broker.bootstrapServers()), runId, RunProjection.DEFAULT_STEP_TIMEOUT_MS);
            }
            int port = host.serve("127.0.0.1", metricsPort);
            System.err.printf("ikd local: run %s, broker %s, log in %s%s%n", runId, broker.bootstrapServers(), dir,
                port < 0 ? "" : ", dashboard http://127.0.0.1:" + port + "/");
            Services.ensureTopics(broker.bootstrapServers(), TopicSettings.DEFAULT_PARTITIONS);
            Services.Wiring wiring = Services.Wiring.of(broker.bootstrapServers(), runId, dir.resolve("state")).withPrefetch(run.prefetch);
            try (StudentProgress progress = new StudentProgress(Services.studentIds(students), run.steps)) {
                return run(run, teacherFile, wiring, host, manager, timeoutSeconds, progress);
            }
        }
    }
}
