package dev.ikd.launcher.service;

import java.util.concurrent.Callable;

import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.coordinator.service.CoordinatorVerticle;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.dashboard.RunProjection;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.ServiceOptions;
import dev.ikd.wiring.Services;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd coordinator}: the protocol for one run, against any Kafka cluster. */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
    description = "Run the coordinator of one run: admit students, issue course steps, end the run when all reported.")
public final class CoordinatorCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    ServiceOptions service;

    @Mixin
    RunOptions run;

    @Mixin
    TopicOptions topics;

    @Option(names = "--teacher-checkpoint", description = "A language model's run: the teacher's model file (its tokenizer reads the corpus).")
    java.nio.file.Path teacherCheckpoint;

    @Option(names = "--no-dashboard", description = "Do not serve the run's dashboard at / on the metrics port.")
    boolean noDashboard;

    @Option(names = "--step-timeout-ms", defaultValue = "" + RunProjection.DEFAULT_STEP_TIMEOUT_MS,
        description = "Re-issue a CourseStart whose answers are this late. Default: ${DEFAULT-VALUE}")
    long stepTimeoutMs;

    @Option(names = "--max-nudges", defaultValue = "" + CoordinatorMachine.Settings.MAX_NUDGES,
        description = "Nudges at one step, with no news from the student or its teacher, before the run is aborted. "
            + "Default: ${DEFAULT-VALUE}")
    int maxNudges;

    @Override
    public Integer call() throws java.io.IOException {
        service.validate();
        if (dev.ikd.wiring.LanguageModels.isCorpus(run.dataset)) {
            dev.ikd.wiring.LanguageModelRun.serveCoordinator(run, teacherCheckpoint, service, topics.settings(), stepTimeoutMs, maxNudges);
            return 0;
        }
        TrainConfig c = run.toConfig();
        Services.requireDistributable(c);
        if (stepTimeoutMs < 1) {
            throw new IllegalArgumentException("--step-timeout-ms must be at least 1, got " + stepTimeoutMs);
        }
        if (maxNudges < 1) {
            throw new IllegalArgumentException("--max-nudges must be at least 1, got " + maxNudges);
        }
        var data = run.loadDataset();
        Services.ensureTopics(service.kafka(), topics.settings());
        try (ServiceHost host = service.newHost(2, dev.ikd.proto.v1.Kind.EXAM_RESULT, c.steps())) {
            var coordinator = new CoordinatorVerticle(service.wiring().config("coordinator", "coordinator"),
                Services.coordinator(c, data, stepTimeoutMs, maxNudges, c.students()), host.metrics("coordinator"));
            host.deploy(coordinator, coordinator::health);
            if (!noDashboard && service.metricsPort >= 0) {
                if ("PLAINTEXT".equals(service.kafka().securityProtocol())) {
                    host.withDashboard(service.kafka(), service.runId, stepTimeoutMs);
                } else {
                    // Least privilege: the coordinator's login reads only the topics it consumes, the page needs them all.
                    System.err.println("ikd coordinator: no dashboard on a secured cluster (this login may not read every topic); "
                        + "run 'ikd dashboard --bootstrap ... --kafka-config admin.properties --run-id " + service.runId + "'");
                }
            }
            service.serve(host, "coordinator");
            ServiceHost.await(coordinator.ended(), service.timeoutSeconds, "all " + c.students() + " students to report");
            System.out.printf("run %s complete: %d students reported%n", service.runId, c.students());
        }
        return 0;
    }
}
