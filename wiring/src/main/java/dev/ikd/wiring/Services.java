package dev.ikd.wiring;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.embeddedkafka.BrokerSecurity;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.sign.RunManifest;
import dev.ikd.proto.sign.SigningKey;
import dev.ikd.proto.topics.Acls;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.processor.FaultPoints;
import dev.ikd.runtime.processor.KafkaProcessor;
import dev.ikd.runtime.processor.ProcessorConfig;
import dev.ikd.student.StudentSettings;
import dev.ikd.teacher.TeacherService;
import org.apache.kafka.clients.admin.Admin;

/**
 * One run configuration turned into each service's settings: the same {@link TrainConfig} that
 * drives {@code ikd train}, so the distributed run and the in-process one see the same numbers.
 */
public final class Services {

    private Services() {
    }

    /**
     * Where a run's services meet and keep their state, shared by every service of one process.
     *
     * @param kafka     how the service of each principal (coordinator, teacher, a student id, admin)
     *                  reaches the cluster: one --kafka-config for a whole process, or one login per
     *                  principal ({@code ikd local --secure})
     * @param stateBase where checkpoints go; null keeps state in memory only
     * @param keys      the run's signing keys ({@link RunKeys}); null when the run does not sign
     */
    public record Wiring(Function<String, KafkaAccess> kafka, String runId, KafkaTuning tuning, int queueBound, FaultPoints faults,
                  Path stateBase, int prefetch, Path keys) {

        /** The prefetch window when none is asked for (`--prefetch`). */
        static final int DEFAULT_PREFETCH = 8;

        public static Wiring of(String bootstrap, String runId, Path stateBase) {
            KafkaAccess plain = KafkaAccess.plain(bootstrap);
            return new Wiring(p -> plain, runId, KafkaTuning.defaults(), ProcessorConfig.DEFAULT_QUEUE_BOUND,
                FaultPoints.fromEnvironment(), stateBase, DEFAULT_PREFETCH, null);
        }

        public Wiring withTuning(KafkaTuning t) {
            return new Wiring(kafka, runId, t, queueBound, faults, stateBase, prefetch, keys);
        }

        public Wiring withPrefetch(int steps) {
            return new Wiring(kafka, runId, tuning, queueBound, faults, stateBase, steps, keys);
        }

        /** Every service logs in as its own principal and signs with its own key ({@code ikd local --secure}). */
        public Wiring secured(Function<String, KafkaAccess> logins, Path runKeys) {
            return new Wiring(logins, runId, tuning, queueBound, faults, stateBase, prefetch, runKeys);
        }

        /** How the principal with every right reaches the cluster (topics, replay). */
        public KafkaAccess admin() {
            return kafka.apply(BrokerSecurity.ADMIN);
        }

        /**
         * The processor of {@code serviceId}, in consumer group {@code group} (replicas of one service
         * share it), logging in and signing as its role: {@code coordinator}, {@code teacher} or the student.
         */
        public ProcessorConfig config(String serviceId, String group) {
            String principal = group.equals(Acls.studentGroup(serviceId)) ? serviceId : group;
            SigningKey signer = keys == null ? null : RunKeys.signingKey(RunKeys.roleDirectory(keys, principal), principal);
            RunManifest manifest = keys == null ? null : RunKeys.manifest(keys);
            return new ProcessorConfig(new KafkaProcessor.Connection(kafka.apply(principal), "ikd-" + group + "-" + runId, tuning,
                signer), runId, serviceId, queueBound, faults, stateBase, manifest);
        }
    }

    /** Student {@code index}'s id on the wire; the in-process trainer's {@code TrainConfig.studentId} is the same. */
    public static String studentId(int index) {
        return dev.ikd.proto.envelope.Envelopes.studentId(index);
    }

    /** The ids of a run's {@code students} students: student-0 ... */
    public static List<String> studentIds(int students) {
        return java.util.stream.IntStream.range(0, students).mapToObj(Services::studentId).toList();
    }

    public static TeacherService.Settings teacher(TrainConfig c, Dataset data, Params pretrained) {
        return teacher(c, data, pretrained, 0);
    }

    /** @param cacheSamples how many samples' backbone outputs to cache (0: the whole training set, filled at start) */
    public static TeacherService.Settings teacher(TrainConfig c, Dataset data, Params pretrained, long cacheSamples) {
        return teacher(c, data, pretrained, cacheSamples, -1);
    }

    /** @param microBatchMs -1: off (the feature cache serves the shared backbone); 0: each request alone; more: the batching window */
    public static TeacherService.Settings teacher(TrainConfig c, Dataset data, Params pretrained, long cacheSamples, long microBatchMs) {
        return teacher(c, data, 0, pretrained, cacheSamples, microBatchMs);
    }

    /** The service of the run's teacher {@code k} (of {@code c.teachers()}), on its pretrained parameters. */
    public static TeacherService.Settings teacher(TrainConfig c, Dataset data, int k, Params pretrained, long cacheSamples,
                                                  long microBatchMs) {
        if (microBatchMs < -1) {
            throw new IllegalArgumentException("--micro-batch-ms must be -1 (off), 0 or more, got " + microBatchMs);
        }
        if (cacheSamples < 0) {
            throw new IllegalArgumentException("--feature-cache must be >= 0 samples (0: the whole training set), got "
                + cacheSamples);
        }
        return new TeacherService.Settings(teacherId(c, k), data, Network.build(c.teachers().models().get(k), data), pretrained,
            c.mode(), c.teacherConfig(), c.type(), cacheSamples == 0 ? data.trainSize() : cacheSamples, microBatchMs);
    }

    /** Teacher {@code k}'s service id and Kafka identity: "teacher" when it is the run's only one, else teacher-a, teacher-b, ... */
    public static String teacherId(TrainConfig c, int k) {
        return c.teachers().count() == 1 ? "teacher" : dev.ikd.proto.envelope.Envelopes.teacherId(k, c.teachers().count());
    }

    /** Which of the run's teachers {@code teacherId} names: the only one (null), or one of several (teacher-a, ...). */
    public static int teacherIndex(TrainConfig c, String teacherId) {
        int count = c.teachers().count();
        if (count == 1) {
            if (teacherId != null) {
                throw new IllegalArgumentException("--teacher-id names one of several teachers: give --teachers 2 or more");
            }
            return 0;
        }
        String range = " (teacher-a ... " + teacherId(c, count - 1) + ")";
        if (teacherId == null) {
            throw new IllegalArgumentException("a run of " + count + " teachers: say which this is with --teacher-id" + range);
        }
        for (int k = 0; k < count; k++) {
            if (teacherId(c, k).equals(teacherId)) {
                return k;
            }
        }
        throw new IllegalArgumentException("--teacher-id " + teacherId + " is not a teacher of this run" + range);
    }

    /** The teachers as envelopes name them: none for one teacher, else teacher-a, teacher-b, ... */
    public static List<String> teacherTags(TrainConfig c) {
        List<String> tags = new java.util.ArrayList<>();
        for (int k = 0; k < c.teachers().count() && c.teachers().count() > 1; k++) {
            tags.add(teacherId(c, k));
        }
        return tags;
    }

    /** @param prefetch how many steps of a frozen teacher's soft targets the student holds ahead */
    public static StudentSettings student(TrainConfig c, Dataset data, int index, int prefetch) {
        return new StudentSettings(studentId(index), data, c.student(), c.studentConfig(), c.studentSeed(index),
            c.batchSize(), c.examBatchSize(), c.steps(), c.seed(), c.labelFraction(), c.quizFraction(), c.mode(), c.type(),
            c.swap(), c.teacher(), prefetch, c.teachers().count() == 1 ? List.of("") : teacherTags(c), c.teachers().weighting(),
            c.teachers().required(), c.teacherConfig().leash().pilot());
    }

    public static CoordinatorMachine.Settings coordinator(TrainConfig c, Dataset data, long timeoutMs, int maxNudges, int expectedStudents) {
        return new CoordinatorMachine.Settings(datasetSpec(c, data), c.mode().cliName(), timeoutMs, maxNudges, expectedStudents,
            teacherTags(c), c.teachers().required(), c.teachers().deadlineMs());
    }

    static DatasetSpec datasetSpec(TrainConfig c, Dataset data) {
        return dev.ikd.learning.data.RunData.spec(data, c.seed(), c.labelFraction(), c.quizFraction());
    }

    /** Refuses what the services cannot do yet, before anything starts. */
    public static void requireDistributable(TrainConfig c) {
        if (c.steps() < 1) {
            throw new IllegalArgumentException("--steps must be at least 1 for a distributed run, got " + c.steps());
        }
        if (c.teacherConfig().leash().pilot() && c.teachers().count() > 1) {
            throw new IllegalArgumentException("--teacher-leash pilot=1 (MetaDistil's pilot update) with several teachers runs in "
                + "process only (ikd train, ikd bench accuracy); over Kafka it takes one teacher");
        }
    }

    public static void ensureTopics(String bootstrap, int partitions) {
        ensureTopics(KafkaAccess.plain(bootstrap), TopicSettings.defaults().withPartitions(partitions));
    }

    /**
     * Creates ikd's topics on the cluster if they are missing. A service that logs in (a secured
     * cluster) leaves that to the cluster's admin: least privilege gives it no right to create topics.
     */
    public static void ensureTopics(KafkaAccess kafka, TopicSettings settings) {
        if (!"PLAINTEXT".equals(kafka.securityProtocol())) {
            return;
        }
        try (Admin admin = Admin.create(KafkaClients.adminConfig(kafka))) {
            Topics.ensure(admin, settings, Duration.ofSeconds(30));
        }
    }

    /** As the admin of a secure broker: ikd's topics, and the ACLs that give each role exactly its rights. */
    public static void secureTopics(KafkaAccess admin, TopicSettings settings, List<String> students) {
        secureTopics(admin, settings, students, List.of());
    }

    /** As above, with the ACLs of several teachers ({@code teachers}: teacher-a, ...; empty with one). */
    public static void secureTopics(KafkaAccess admin, TopicSettings settings, List<String> students, List<String> teachers) {
        try (Admin client = Admin.create(KafkaClients.adminConfig(admin))) {
            Topics.ensure(client, settings, Duration.ofSeconds(30));
            client.createAcls(Acls.bindings(Acls.roles(students, teachers))).all().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating ACLs", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create the ACLs of ikd's roles: " + e.getMessage(), e);
        }
    }

    /** Each service logs in to the secure broker as its own principal and signs with its own key from {@code keys}. */
    public static Wiring secured(Wiring wiring, EmbeddedKafka broker, Path keys, int students) {
        return secured(wiring, broker, keys, students, 1);
    }

    /** As above, for a run of {@code teachers} teachers (several: each logs in and signs as its own). */
    public static Wiring secured(Wiring wiring, EmbeddedKafka broker, Path keys, int students, int teachers) {
        RunKeys.create(keys, wiring.runId(), students, teachers);
        var security = broker.security();
        java.util.Map<String, KafkaAccess> logins = new java.util.concurrent.ConcurrentHashMap<>();
        System.err.printf("ikd local: secure broker; client logins in %s, run keys in %s%n", security.credentialsDir(), keys);
        return wiring.secured(principal -> logins.computeIfAbsent(principal,
            p -> KafkaAccess.withConfig(broker.bootstrapServers(), security.clientConfig(p))), keys);
    }
}
