package dev.ikd.launcher.service;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.teacher.TeacherVerticle;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.ServiceOptions;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd teacher}: serves soft targets and learns from feedback, against any Kafka cluster. */
@Command(name = "teacher", mixinStandardHelpOptions = true,
    description = "Run the teacher of one run until the coordinator ends it.")
public final class TeacherCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    ServiceOptions service;

    @Mixin
    RunOptions run;

    @Mixin
    TopicOptions topics;

    @Option(names = "--teacher-checkpoint", description = "A checkpoint from 'ikd pretrain' instead of pretraining now.")
    Path teacherCheckpoint;

    @Option(names = "--replica", description = "Name of this replica when several teachers share the run's students "
        + "(one Kafka consumer group; give them the same --state-dir, e.g. a shared volume).")
    String replica;

    @Option(names = "--teacher-id", paramLabel = "teacher-a|teacher-b|...",
        description = "With --teachers K: which of the run's teachers this service is (its model from --teacher-models, its "
            + "pretraining seed, its Kafka identity). Required then; a run of one teacher has none.")
    String teacherId;

    @Option(names = "--feature-cache", defaultValue = "0", paramLabel = "SAMPLES",
        description = "In modes frozen, ikd-adapter and pesf, cache the backbone's outputs of this many training samples "
            + "(0: all, filled at start; fewer: filled by chunks as asked, least recently used go). Default: ${DEFAULT-VALUE}")
    long featureCache;

    @Option(names = "--micro-batch-ms", defaultValue = "-1", paramLabel = "MS",
        description = "Instead of the feature cache, run the shared backbone for requests of different students that arrive "
            + "within MS of each other as one forward (0: each alone; -1: off, use the cache). Not bit-exact: within 1e-5 on "
            + "the students' parameters. Default: ${DEFAULT-VALUE}")
    long microBatchMs;

    @Override
    public Integer call() throws java.io.IOException {
        service.validate();
        if (microBatchMs < -1) {
            throw new IllegalArgumentException("--micro-batch-ms must be -1 (off), 0 or more, got " + microBatchMs);
        }
        if (featureCache < 0) {
            throw new IllegalArgumentException("--feature-cache must be >= 0 samples (0: the whole training set), got " + featureCache);
        }
        if (replica != null && !replica.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--replica must be letters, digits, '.', '_' or '-', got '" + replica + "'");
        }
        if (dev.ikd.wiring.LanguageModels.isCorpus(run.dataset) && teacherId == null) {
            dev.ikd.wiring.LanguageModelRun.serveTeacher(run, teacherCheckpoint, service, topics.settings(), replica);
            return 0;
        }
        TrainConfig c = run.toConfig();
        Services.requireDistributable(c);
        int k = Services.teacherIndex(c, teacherId);
        var data = run.loadDataset();
        Services.ensureTopics(service.kafka(), topics.settings());
        try (NDManager manager = run.newManager(); ServiceHost host = service.newHost(c.students() + 2, dev.ikd.proto.v1.Kind.FEEDBACK, c.steps())) {
            String name = Services.teacherId(c, k);
            var pretrained = Teachers.obtain(c.ofTeacher(k), data, teacherCheckpoint, manager, false);
            String id = replica == null ? name : name + "-" + replica;
            var teacher = new TeacherVerticle(service.wiring().config(id, name),
                Services.teacher(c, data, k, pretrained, featureCache, microBatchMs), host.metrics(name), manager);
            host.deploy(teacher, teacher::health);
            service.serve(host, id);
            ServiceHost.await(teacher.ended(), service.timeoutSeconds, "the coordinator to end run " + service.runId);
            System.out.printf("run %s ended; teacher done%n", service.runId);
        }
        return 0;
    }
}
