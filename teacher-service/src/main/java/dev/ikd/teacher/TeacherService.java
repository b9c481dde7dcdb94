package dev.ikd.teacher;


import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.FeatureCache;
import dev.ikd.core.learn.MicroBatcher;
import dev.ikd.core.learn.SharedBackbone;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.processor.Service;
import dev.ikd.teacher.protocol.TeacherMachine;
import dev.ikd.teacher.protocol.Teaching;
import io.micrometer.core.instrument.Gauge;

/**
 * The teacher on the processor: one {@link TeacherMachine} per student, keyed by student id, so a
 * student's records are applied in order and students in parallel. Records are keyed by student,
 * so replicas of the teacher in one consumer group each hold the students of their partitions. In
 * the modes whose backbone is frozen every student's teacher reads one shared backbone: a feature
 * cache filled at start, or a micro-batcher.
 */
public final class TeacherService implements Service<TeacherMachine>, AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TeacherService.class);

    /**
     * What the teacher serves: its network, pretrained φ, mode and exam-step settings, and how many
     * samples' backbone outputs it caches in the modes whose backbone is frozen.
     *
     * @param microBatchMs -1: off (the feature cache serves the shared backbone); 0: each request alone; more: the window
     * @param lm           a language model's teacher (then {@code data} names its sequences, {@code net} and
     *                     {@code pretrained} are null); null for a classifier's
     */
    public record Settings(String teacherId, Dataset data, Network net, Params pretrained, TeacherMode mode,
                           TeacherConfig config, DataType type, long featureCacheSamples, long microBatchMs, LmTeacher lm) {

        public Settings {
            if (lm != null && mode != TeacherMode.FROZEN && mode != TeacherMode.IKD) {
                throw new IllegalArgumentException("--teacher-mode " + mode.cliName() + " is for classifiers; a language model's teacher "
                    + "is frozen (KD) or ikd");
            }
            if (lm != null && mode == TeacherMode.IKD) {
                dev.ikd.core.text.LmIkd.check(lm.encoding());
            }
        }

        /** A classifier's teacher. */
        public Settings(String teacherId, Dataset data, Network net, Params pretrained, TeacherMode mode, TeacherConfig config,
                        DataType type, long featureCacheSamples, long microBatchMs) {
            this(teacherId, data, net, pretrained, mode, config, type, featureCacheSamples, microBatchMs, null);
        }

        /** A language model's teacher {@code teacherId}, in mode frozen or ikd; {@code named}: its data as the run names it. */
        public static Settings languageModel(String teacherId, LmTeacher lm, Dataset named, TeacherMode mode, TeacherConfig config) {
            return new Settings(teacherId, named, null, null, mode, config, DataType.FLOAT32, 0, -1, lm);
        }

        /** With the feature cache, no micro-batching. */
        public Settings(String teacherId, Dataset data, Network net, Params pretrained, TeacherMode mode, TeacherConfig config,
                        DataType type, long featureCacheSamples) {
            this(teacherId, data, net, pretrained, mode, config, type, featureCacheSamples, -1);
        }
    }

    /** Requests one micro-batch takes at most. */
    static final int MAX_BATCH_REQUESTS = 64;

    private final Teaching.School shared;
    private final TeacherMachine.Settings terms;
    private final NDManager manager;
    private final FeatureCache cache;

    /** Sets up the shared backbone: the whole training set's cache is filled here, so call it off the event loop. */
    public TeacherService(Settings settings, String runId, ServiceMetrics metrics, StepListener listener,
                          NDManager parent) {
        this.manager = parent.newSubManager();
        if (settings.lm() != null) {
            this.cache = null;
            this.shared = new LmTeaching.Shared(settings, manager, listener);
            this.terms = new TeacherMachine.Settings(runId, settings.teacherId(), settings.mode().cliName(),
                settings.mode() == TeacherMode.FROZEN, false, settings.data().name(), settings.data().sha256(), settings.data().classes(),
                Envelopes.isTeacherId(settings.teacherId()) ? settings.teacherId() : "", false, settings.lm().form());
            return;
        }
        boolean shared = settings.mode() != TeacherMode.IKD;
        MicroBatcher batcher = shared && settings.microBatchMs() >= 0 ? new MicroBatcher(settings.net(), settings.pretrained(),
            settings.data(), settings.type(), settings.microBatchMs(), settings.microBatchMs() == 0 ? 1 : MAX_BATCH_REQUESTS, manager)
            : null;
        this.cache = shared && batcher == null ? new FeatureCache(settings.net(), settings.pretrained(),
            settings.data(), settings.type(), settings.featureCacheSamples(), manager) : null;
        if (batcher != null) {
            Gauge.builder("ikd.micro.batch.requests", batcher, b -> b.forwards() == 0 ? 0 : (double) b.requests() / b.forwards())
                .description("Mean requests per batched backbone forward").tag("service", metrics.service())
                .register(metrics.registry());
        }
        if (cache != null && settings.featureCacheSamples() >= settings.data().trainSize()) {
            // The whole training set fits: fill it now, so that no student's step pays for a chunk.
            long t0 = System.nanoTime();
            cache.fill();
            LOG.info("{}: feature cache holds all {} training samples ({} MB), filled in {} ms", settings.teacherId(),
                settings.data().trainSize(), cache.bytes() >> 20, (System.nanoTime() - t0) / 1_000_000);
        }
        if (cache != null) {
            Gauge.builder("ikd.feature.cache.hit.ratio", cache, FeatureCache::hitRate)
                .description("Share of backbone rows served from the feature cache").tag("service", metrics.service())
                .register(metrics.registry());
            Gauge.builder("ikd.feature.cache.bytes", cache, FeatureCache::bytes).baseUnit("bytes")
                .tag("service", metrics.service()).register(metrics.registry());
        }
        SharedBackbone backbone = cache != null ? cache : batcher;
        this.shared = new TeacherLearner.Shared(settings, backbone, manager, listener);
        this.terms = new TeacherMachine.Settings(runId, settings.teacherId(), settings.mode().cliName(),
            settings.mode() == TeacherMode.FROZEN, settings.mode() == TeacherMode.PESF, settings.data().name(),
            settings.data().sha256(), settings.data().classes(), Envelopes.isTeacherId(settings.teacherId()) ? settings.teacherId() : "")
            .withPilot(settings.config().leash().pilot());
    }

    /** The shared backbone's feature cache; null in mode ikd, where every student's φ moves, or when micro-batching. */
    public FeatureCache cache() {
        return cache;
    }

    @Override
    public String skip(Envelope e) {
        return switch (e.getKind()) {
            case ADMITTED, COURSE_START -> null;
            case FEEDBACK -> e.getTeacherId().equals(terms.tag()) ? null : "feedback_for_another_teacher";
            case FINISH, ABORT -> e.getStudentId().isEmpty() ? "run_end" : null;
            default -> "not_for_teacher";
        };
    }

    @Override
    public String keyOf(Envelope e) {
        return e.getStudentId();
    }

    @Override
    public TeacherMachine fresh(String key) {
        return new TeacherMachine(terms, shared, key);
    }

    @Override
    public TeacherMachine restore(String key, Any state) {
        try {
            return TeacherMachine.restore(terms, shared, key, state.unpack(PupilState.class));
        } catch (InvalidProtocolBufferException e) {
            throw new CheckpointException("the saved state is not a teacher's: " + e.getMessage(), e);
        }
    }

    @Override
    public Placement placement() {
        return Placement.BY_KEY_HASH;
    }

    @Override
    public void close() {
        manager.close();
    }
}
