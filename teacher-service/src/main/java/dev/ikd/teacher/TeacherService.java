package dev.ikd.teacher;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.checkpoint.Checkpoint;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.FeatureCache;
import dev.ikd.core.learn.MicroBatcher;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.WireSteps;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.TeacherUpdated;
import dev.ikd.runtime.Covered;
import dev.ikd.runtime.SampleIds;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.StateDir;
import io.micrometer.core.instrument.Gauge;

/**
 * The teacher's handlers (DESIGN §4–§5), one per message kind, free of Kafka and Vert.x: each takes
 * a decoded envelope and returns the envelopes to send, or refuses it with a reason. Per student it
 * holds that student's teacher (a copy of φ, or an adapter on the shared backbone) and the answers
 * already given, so a repeated request gets the recorded answer and never a second update.
 * Calls for one student must not overlap; calls for different students may. A student's teacher
 * and protocol state is one checkpoint ({@link #checkpoint}), from which {@link #resume} continues.
 */
public final class TeacherService implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TeacherService.class);

    /**
     * What the teacher serves: its network, pretrained φ, mode and exam-step settings, and how many
     * samples' backbone outputs it caches in the modes whose backbone is frozen.
     */
    public record Settings(String teacherId, Dataset data, Network net, Params pretrained, TeacherMode mode,
                           TeacherConfig config, DataType type, long featureCacheSamples, long microBatchMs) {

        /** With the feature cache, no micro-batching. */
        public Settings(String teacherId, Dataset data, Network net, Params pretrained, TeacherMode mode, TeacherConfig config,
                        DataType type, long featureCacheSamples) {
            this(teacherId, data, net, pretrained, mode, config, type, featureCacheSamples, -1);
        }
    }

    /** Requests one micro-batch takes at most. */
    static final int MAX_BATCH_REQUESTS = 64;

    /** One student's teacher and where its protocol stands. */
    private static final class Pupil {
        final Teacher teacher;
        final Envelope admitted;
        final Covered covered;
        long served = -1;
        long applied = -1;
        int[] courseIds;
        long servedVersion;
        Envelope softTargets;
        Envelope updated;
        byte[] appliedFeedback;

        Pupil(Teacher teacher, Envelope admitted, Covered covered) {
            this.teacher = teacher;
            this.admitted = admitted;
            this.covered = covered;
        }
    }

    private final Settings settings;
    private final String runId;
    private final ServiceMetrics metrics;
    private final Clock clock;
    private final NDManager manager;
    private final Map<String, Pupil> pupils = new ConcurrentHashMap<>();
    private final FeatureCache cache;
    private final MicroBatcher batcher;

    public TeacherService(Settings settings, String runId, ServiceMetrics metrics, Clock clock, NDManager parent) {
        this.settings = settings;
        this.runId = runId;
        this.metrics = metrics;
        this.clock = clock;
        this.manager = parent.newSubManager();
        boolean shared = settings.mode() != TeacherMode.IKD;
        // Micro-batching (--micro-batch-ms >= 0) serves the shared backbone instead of the cache: 0 runs each request alone.
        this.batcher = shared && settings.microBatchMs() >= 0 ? new MicroBatcher(settings.net(), settings.pretrained(),
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
    }

    /** The shared backbone's feature cache; null in mode ikd, where every student's φ moves. */
    public FeatureCache cache() {
        return cache;
    }

    /** Admitted: set up this student's teacher from what it enrolled with (once; a repeat changes nothing). */
    public List<Envelope> admitted(Envelope e) {
        var admitted = e.getAdmitted();
        if (!settings.mode().cliName().equals(admitted.getTeacherMode())) {
            throw new RejectedMessageException("student " + e.getStudentId() + " was admitted for teacher mode "
                + admitted.getTeacherMode() + ", but this teacher runs mode " + settings.mode().cliName());
        }
        pupils.computeIfAbsent(e.getStudentId(), id -> new Pupil(enroll(e), e, Covered.none()));
        return List.of();
    }

    private Teacher enroll(Envelope admitted) {
        var hp = admitted.getAdmitted().getEnrollment().getHyperParameters();
        return Teacher.enroll(settings.net(), settings.pretrained(), settings.mode(), settings.config(), hp.getTemperature(),
            hp.getSeed() + 3, cache != null ? cache : batcher, manager);
    }

    /** Whether this teacher holds {@code studentId}'s state now. */
    public boolean has(String studentId) {
        return pupils.containsKey(studentId);
    }

    /** The students held now. */
    public List<String> studentIds() {
        return List.copyOf(pupils.keySet());
    }

    /** Lets go of a student another replica now serves (its state is in its checkpoint). */
    public void drop(String studentId) {
        Pupil p = pupils.remove(studentId);
        if (p != null) {
            p.teacher.close();
        }
    }

    /** How many records this student's state has applied (its checkpoints' progress). */
    public long records(String studentId) {
        Pupil p = pupils.get(studentId);
        return p == null ? 0 : p.covered.records();
    }

    /** Whether this student's state already includes the record at {@code at} (false for a student not admitted here). */
    public boolean covers(String studentId, dev.ikd.runtime.Position at) {
        Pupil p = pupils.get(studentId);
        return p != null && p.covered.covers(at);
    }

    /** The record at {@code at} is now in this student's state. */
    public void advance(String studentId, dev.ikd.runtime.Position at) {
        Pupil p = pupils.get(studentId);
        if (p != null) {
            p.covered.advance(at);
        }
    }

    /** This student's teacher and protocol state with the input it covers; null if the student is not here. */
    public Checkpoint checkpoint(String studentId) {
        Pupil p = pupils.get(studentId);
        if (p == null) {
            return null;
        }
        Map<String, String> m = new LinkedHashMap<>(p.covered.toMetadata());
        m.put("run", runId);
        m.put("student", studentId);
        m.put("mode", settings.mode().cliName());
        m.put("version", Long.toString(p.teacher.version()));
        m.put("served", Long.toString(p.served));
        m.put("applied", Long.toString(p.applied));
        m.put("served_version", Long.toString(p.servedVersion));
        if (p.courseIds != null) {
            m.put("course_ids", Arrays.toString(p.courseIds).replaceAll("[\\[\\] ]", ""));
        }
        if (p.appliedFeedback != null) {
            m.put("applied_feedback", Base64.getEncoder().encodeToString(p.appliedFeedback));
        }
        StateDir.putEnvelope(m, "admitted", p.admitted);
        StateDir.putEnvelope(m, "soft_targets", p.softTargets);
        StateDir.putEnvelope(m, "updated", p.updated);
        Map<String, Params> groups = new LinkedHashMap<>();
        if (p.teacher.trainable() != null) {
            groups.put("trainable", p.teacher.trainable());
            groups.put("velocity", p.teacher.velocity());
        }
        return new Checkpoint(p.applied + 1, 0, m, groups);
    }

    /**
     * Takes this student's teacher back from its checkpoint at {@code file} and returns the answers
     * it last gave (sent again after a restart). A damaged or foreign file is refused with the reason.
     */
    public List<Envelope> resume(Path file) {
        try (NDManager scope = manager.newSubManager()) {
            Checkpoint saved = Checkpoint.read(file, scope);
            var m = saved.metadata();
            if (!runId.equals(m.get("run")) || !settings.mode().cliName().equals(m.get("mode"))) {
                throw new CheckpointException("checkpoint " + file + " is of run " + m.get("run") + " in mode " + m.get("mode")
                    + ", this teacher serves run " + runId + " in mode " + settings.mode().cliName());
            }
            Envelope admitted = StateDir.envelope(m, "admitted");
            Pupil p = new Pupil(enroll(admitted), admitted, Covered.fromMetadata(m));
            if (p.teacher.trainable() != null) {
                Checkpoint.requireSameLayout(file, saved.group("trainable"), p.teacher.trainable());
                p.teacher.restore(saved.group("trainable"), saved.group("velocity"), Long.parseLong(m.get("version")));
            } else {
                p.teacher.restore(null, null, Long.parseLong(m.get("version")));
            }
            p.served = Long.parseLong(m.get("served"));
            p.applied = Long.parseLong(m.get("applied"));
            p.servedVersion = Long.parseLong(m.get("served_version"));
            if (m.containsKey("course_ids")) {
                p.courseIds = Arrays.stream(m.get("course_ids").split(",")).mapToInt(Integer::parseInt).toArray();
            }
            if (m.containsKey("applied_feedback")) {
                p.appliedFeedback = Base64.getDecoder().decode(m.get("applied_feedback"));
            }
            p.softTargets = StateDir.envelope(m, "soft_targets");
            p.updated = StateDir.envelope(m, "updated");
            pupils.put(m.get("student"), p);
            boolean done = p.applied == admitted.getAdmitted().getSteps() - 1;
            if (p.served < 0 || done) {
                return List.of();
            }
            return p.applied == p.served ? List.of(p.softTargets, p.updated) : List.of(p.softTargets);
        }
    }

    /** CourseStart(k): soft targets for the course batch, from the teacher that includes every update before k. */
    public List<Envelope> courseStart(Envelope e) {
        Pupil p = pupil(e);
        long k = e.getStep();
        if (k == p.served) {
            return p.applied == k ? List.of(p.softTargets, p.updated) : List.of(p.softTargets);
        }
        if (k < p.served) {
            throw new RejectedMessageException("stale CourseStart: step " + k + " of " + e.getStudentId()
                + " is past, the teacher served step " + p.served);
        }
        if (k != p.served + 1 || p.applied != p.served) {
            throw new RejectedMessageException("out of order: CourseStart for step " + k + " of " + e.getStudentId()
                + " while the feedback of step " + p.served + " is not applied");
        }
        int[] ids = SampleIds.require(e.getCourseStart().getCourse(), settings.data().trainSize(), "course");
        long t0 = System.nanoTime();
        long cpu0 = ServiceMetrics.cpuNanos();
        float[] probs = WireSteps.softTargets(p.teacher, settings.data(), ids, settings.type(), manager);
        metrics.phase("soft_targets", System.nanoTime() - t0);
        metrics.phaseCpu("soft_targets", cpu0);
        p.courseIds = ids;
        p.servedVersion = p.teacher.version();
        p.softTargets = header(e, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder()
            .setTeacherVersion(p.servedVersion)
            .setTemperature(p.teacher.temperature())
            .setProbabilities(TensorCodec.encode(probs, ids.length, settings.data().classes()))).build();
        p.served = k;
        return List.of(p.softTargets);
    }

    /** Feedback(k): the exam step on d, applied once; a repeat gets the recorded TeacherUpdated. */
    public List<Envelope> feedback(Envelope e) {
        var f = e.getFeedback();
        // Content first (byte length, finite values), whoever it is for; the batch shape once the step is known.
        TensorCodec.toFloats(f.getD(), TensorCodec.Finite.REQUIRED);
        if (settings.mode() == TeacherMode.PESF) {
            TensorCodec.toFloats(f.getCourseLogits(), TensorCodec.Finite.REQUIRED);
        }
        Pupil p = pupil(e);
        long k = e.getStep();
        if (k == p.applied) {
            if (!Arrays.equals(p.appliedFeedback, f.toByteArray())) {
                throw new RejectedMessageException("conflicting duplicate: feedback for step " + k + " of " + e.getStudentId()
                    + " was already applied with other values");
            }
            return List.of(p.updated);
        }
        if (k < p.applied) {
            throw new RejectedMessageException("stale feedback: step " + k + " of " + e.getStudentId() + " was applied long ago");
        }
        if (k != p.served) {
            throw new RejectedMessageException("out of order: feedback for step " + k + " of " + e.getStudentId()
                + " before its soft targets (the teacher served step " + p.served + ")");
        }
        if (f.getTeacherVersion() != p.servedVersion) {
            throw new RejectedMessageException("stale teacher version: feedback for step " + k + " answers version "
                + f.getTeacherVersion() + ", soft targets were version " + p.servedVersion);
        }
        int classes = settings.data().classes();
        float[] d = matrix(f.getD(), p.courseIds.length, classes, "feedback d");
        float[] logits = settings.mode() == TeacherMode.PESF
            ? matrix(f.getCourseLogits(), p.courseIds.length, classes, "course logits")
            : new float[p.courseIds.length * classes];
        long t0 = System.nanoTime();
        long cpu0 = ServiceMetrics.cpuNanos();
        Teacher.Update u = WireSteps.teach(p.teacher, settings.data(), p.courseIds, d, logits, settings.type(), manager);
        metrics.phase("teacher_update", System.nanoTime() - t0);
        metrics.phaseCpu("teacher_update", cpu0);
        metrics.latest("teacher_loss", e.getStudentId(), u.loss());
        p.updated = header(e, Kind.TEACHER_UPDATED).setTeacherUpdated(TeacherUpdated.newBuilder()
            .setTeacherLoss(u.loss()).setTeacherVersion(u.version())).build();
        p.appliedFeedback = f.toByteArray();
        p.applied = k;
        return List.of(p.updated);
    }

    /** Finish for one student: its teacher is no longer needed. */
    public List<Envelope> finish(Envelope e) {
        drop(e.getStudentId());
        return List.of();
    }

    public int students() {
        return pupils.size();
    }

    @Override
    public void close() {
        manager.close();
    }

    private Pupil pupil(Envelope e) {
        Pupil p = pupils.get(e.getStudentId());
        if (p == null) {
            throw new RejectedMessageException("unknown student " + e.getStudentId() + " (not admitted, or finished)");
        }
        return p;
    }

    private static float[] matrix(dev.ikd.proto.v1.Tensor t, int rows, int cols, String what) {
        long[] shape = TensorCodec.shape(t);
        if (shape.length != 2 || shape[0] != rows || shape[1] != cols) {
            throw new RejectedMessageException(what + " has shape " + Arrays.toString(shape) + ", the batch needs ["
                + rows + ", " + cols + "]");
        }
        return TensorCodec.toFloats(t, TensorCodec.Finite.REQUIRED);
    }

    private Envelope.Builder header(Envelope request, Kind kind) {
        return Envelopes.header(runId, request.getStudentId(), request.getStep(), kind, settings.teacherId(), clock);
    }
}
