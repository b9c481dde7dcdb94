package dev.ikd.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.processor.FaultPoints;
import dev.ikd.runtime.processor.KafkaProcessor;
import dev.ikd.runtime.processor.ProcessorConfig;
import dev.ikd.student.StudentMachine;
import dev.ikd.teacher.TeacherService;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * One run configuration turned into each service's settings: the same {@link TrainConfig} that
 * drives {@code ikd train}, so the distributed run and the in-process one see the same numbers.
 */
final class Services {

    private Services() {
    }

    /**
     * Where a run's services meet and keep their state, shared by every service of one process.
     *
     * @param stateBase where checkpoints go; null keeps state in memory only
     */
    record Wiring(String bootstrap, String runId, KafkaTuning tuning, int queueBound, FaultPoints faults, Path stateBase,
                  int prefetch) {

        /** The prefetch window when none is asked for (`--prefetch`). */
        static final int DEFAULT_PREFETCH = 8;

        static Wiring of(String bootstrap, String runId, Path stateBase) {
            return new Wiring(bootstrap, runId, KafkaTuning.defaults(), ProcessorConfig.DEFAULT_QUEUE_BOUND,
                FaultPoints.fromEnvironment(), stateBase, DEFAULT_PREFETCH);
        }

        Wiring withTuning(KafkaTuning t) {
            return new Wiring(bootstrap, runId, t, queueBound, faults, stateBase, prefetch);
        }

        Wiring withPrefetch(int steps) {
            return new Wiring(bootstrap, runId, tuning, queueBound, faults, stateBase, steps);
        }

        /** The processor of {@code serviceId}, in consumer group {@code group} (replicas of one service share it). */
        ProcessorConfig config(String serviceId, String group) {
            return new ProcessorConfig(new KafkaProcessor.Connection(bootstrap, "ikd-" + group + "-" + runId, tuning), runId,
                serviceId, queueBound, faults, stateBase);
        }
    }

    static String studentId(int index) {
        return "student-" + index;
    }

    static TeacherService.Settings teacher(TrainConfig c, Dataset data, Params pretrained) {
        return teacher(c, data, pretrained, 0);
    }

    /** @param cacheSamples how many samples' backbone outputs to cache (0: the whole training set, filled at start) */
    static TeacherService.Settings teacher(TrainConfig c, Dataset data, Params pretrained, long cacheSamples) {
        return teacher(c, data, pretrained, cacheSamples, -1);
    }

    /** @param microBatchMs -1: off (the feature cache serves the shared backbone); 0: each request alone; more: the batching window */
    static TeacherService.Settings teacher(TrainConfig c, Dataset data, Params pretrained, long cacheSamples, long microBatchMs) {
        if (microBatchMs < -1) {
            throw new IllegalArgumentException("--micro-batch-ms must be -1 (off), 0 or more, got " + microBatchMs);
        }
        if (cacheSamples < 0) {
            throw new IllegalArgumentException("--feature-cache must be >= 0 samples (0: the whole training set), got "
                + cacheSamples);
        }
        return new TeacherService.Settings("teacher", data, Network.build(c.teacher(), data), pretrained, c.mode(),
            c.teacherConfig(), c.type(), cacheSamples == 0 ? data.trainSize() : cacheSamples, microBatchMs);
    }

    /** @param prefetch how many steps of a frozen teacher's soft targets the student holds ahead */
    static StudentMachine.Settings student(TrainConfig c, Dataset data, int index, int prefetch) {
        return new StudentMachine.Settings(studentId(index), data, c.student(), c.studentConfig(), c.studentSeed(index),
            c.batchSize(), c.examBatchSize(), c.steps(), c.seed(), c.labelFraction(), c.quizFraction(), c.mode(), c.type(),
            c.swap(), c.teacher(), prefetch);
    }

    static CoordinatorMachine.Settings coordinator(TrainConfig c, Dataset data, long timeoutMs, int expectedStudents) {
        return new CoordinatorMachine.Settings(datasetSpec(c, data), c.mode().cliName(), timeoutMs, expectedStudents);
    }

    static DatasetSpec datasetSpec(TrainConfig c, Dataset data) {
        return DatasetSpec.newBuilder().setName(data.name()).setSha256(data.sha256()).setTrainSize(data.trainSize())
            .setTestSize(data.testSize()).setSplitSeed(c.seed()).setLabelFraction(c.labelFraction())
            .setQuizFraction(c.quizFraction()).build();
    }

    /** Refuses what the services cannot do yet, before anything starts. */
    static void requireDistributable(TrainConfig c) {
        if (c.steps() < 1) {
            throw new IllegalArgumentException("--steps must be at least 1 for a distributed run, got " + c.steps());
        }
    }

    /** Creates ikd's topics on the cluster if they are missing. */
    static void ensureTopics(String bootstrap, int partitions) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            Topics.ensure(admin, TopicSettings.defaults().withPartitions(partitions), Duration.ofSeconds(30));
        }
    }
}
