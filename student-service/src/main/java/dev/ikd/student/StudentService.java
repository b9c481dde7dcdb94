package dev.ikd.student;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.checkpoint.Checkpoint;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Student;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.WireSteps;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.runtime.Covered;
import dev.ikd.runtime.SampleIds;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.StateDir;

/**
 * One student's handlers (DESIGN §4–§5), free of Kafka and Vert.x. Step k runs once both
 * CourseStart(k) (which samples) and SoftTargets(k) (the teacher's p) are here, in whichever order
 * they arrive; it answers with Feedback(k) for the teacher and ExamResult(k) for the coordinator. A
 * repeated request for the last step gets those recorded answers again; nothing is learned twice.
 * {@link #checkpoint} is the whole state (θ, velocity, step, recorded answers, held requests), and
 * {@link #resume} continues from one exactly.
 */
public final class StudentService implements AutoCloseable {

    /**
     * What one student is: its id, model, course settings, seed (parameters and batches), and the
     * data terms it enrolls with.
     */
    public record Settings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                           int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                           TeacherMode teacherMode, DataType type, SwapSchedule swap, ModelSpec teacherSpec) {

        /** Without stage swapping. */
        public Settings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                        int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                        TeacherMode teacherMode, DataType type) {
            this(studentId, data, spec, config, seed, batchSize, examBatchSize, steps, splitSeed, labelFraction, quizFraction,
                teacherMode, type, SwapSchedule.OFF, null);
        }
    }

    private final Settings settings;
    private final String runId;
    private final ServiceMetrics metrics;
    private final Clock clock;
    private final NDManager manager;
    private final Network net;
    private final Student student;
    private final boolean[] labeled;
    private final Map<Long, Envelope> courseStarts = new HashMap<>();
    private final Map<Long, Envelope> softTargets = new HashMap<>();
    private boolean admitted;
    private long teacherVersion = -1;
    private List<Envelope> lastAnswers = List.of();
    private Envelope lastSoftTargets;
    private final Covered covered;
    private final Network teacherNet;
    private Params teacherBlocks;
    private Envelope report;

    public StudentService(Settings settings, String runId, ServiceMetrics metrics, Clock clock, NDManager parent) {
        this(settings, runId, metrics, clock, parent, null, null);
    }

    private StudentService(Settings settings, String runId, ServiceMetrics metrics, Clock clock, NDManager parent,
                           Path file, Checkpoint saved) {
        this.settings = settings;
        this.runId = runId;
        this.metrics = metrics;
        this.clock = clock;
        this.manager = parent.newSubManager();
        this.net = Network.build(settings.spec(), settings.data());
        this.teacherNet = settings.swap().enabled() ? Network.build(settings.teacherSpec(), settings.data()) : null;
        Student fresh = Student.fresh(net, settings.config(), settings.seed(), settings.type(), manager);
        if (saved == null) {
            this.student = fresh;
            this.covered = Covered.none();
        } else {
            var m = saved.metadata();
            if (!runId.equals(m.get("run")) || !settings.studentId().equals(m.get("student"))) {
                fresh.close();
                throw new CheckpointException("checkpoint " + file + " is of " + m.get("student") + " in run " + m.get("run")
                    + ", not of " + settings.studentId() + " in run " + runId);
            }
            Checkpoint.requireSameLayout(file, saved.group("theta"), fresh.parameters());
            this.student = new Student(net, settings.config(), saved.group("theta"), saved.group("velocity"), saved.step(), manager);
            fresh.close();
            this.covered = Covered.fromMetadata(m);
            this.admitted = Boolean.parseBoolean(m.get("admitted"));
            this.teacherVersion = Long.parseLong(m.get("teacher_version"));
            List<Envelope> answers = new ArrayList<>();
            for (int i = 0; m.containsKey("answer." + i); i++) {
                answers.add(StateDir.envelope(m, "answer." + i));
            }
            this.lastAnswers = List.copyOf(answers);
            this.lastSoftTargets = StateDir.envelope(m, "learned_soft_targets");
            this.report = StateDir.envelope(m, "report");
            Envelope heldStart = StateDir.envelope(m, "held.course_start");
            Envelope heldTargets = StateDir.envelope(m, "held.soft_targets");
            if (heldStart != null) {
                courseStarts.put(heldStart.getStep(), heldStart);
            }
            if (heldTargets != null) {
                softTargets.put(heldTargets.getStep(), heldTargets);
            }
        }
        this.labeled = Splits.of(settings.data().trainSize(), settings.labelFraction(), settings.quizFraction(),
            settings.splitSeed()).labeled();
    }

    /** A student continued from its checkpoint at {@code file}: a damaged or foreign file is refused with the reason. */
    public static StudentService resume(Settings settings, String runId, ServiceMetrics metrics, Clock clock, NDManager parent,
                                        Path file) {
        try (NDManager scope = parent.newSubManager()) {
            return new StudentService(settings, runId, metrics, clock, parent, file, Checkpoint.read(file, scope));
        }
    }

    /** The input this state already includes; the caller advances it as it applies records. */
    public Covered covered() {
        return covered;
    }

    /** The whole state of this student, with the input it covers. */
    public Checkpoint checkpoint() {
        Map<String, String> m = new LinkedHashMap<>(covered.toMetadata());
        m.put("run", runId);
        m.put("student", settings.studentId());
        m.put("admitted", Boolean.toString(admitted));
        m.put("teacher_version", Long.toString(teacherVersion));
        for (int i = 0; i < lastAnswers.size(); i++) {
            StateDir.putEnvelope(m, "answer." + i, lastAnswers.get(i));
        }
        StateDir.putEnvelope(m, "learned_soft_targets", lastSoftTargets);
        StateDir.putEnvelope(m, "report", report);
        StateDir.putEnvelope(m, "held.course_start", courseStarts.get(student.stepsDone()));
        StateDir.putEnvelope(m, "held.soft_targets", softTargets.get(student.stepsDone()));
        Map<String, dev.ikd.core.model.Params> groups = new LinkedHashMap<>();
        groups.put("theta", student.parameters());
        groups.put("velocity", student.velocity());
        return new Checkpoint(student.stepsDone(), settings.seed(), m, groups);
    }

    /** The answers to the last step learned (sent again after a restart: the first sending may not have left). */
    public List<Envelope> lastAnswers() {
        return lastAnswers;
    }

    public boolean isAdmitted() {
        return admitted;
    }

    /** The enrollment request: model, data terms and hyper-parameters. */
    public Envelope enrollment() {
        Dataset d = settings.data();
        StudentConfig c = settings.config();
        return header(0, Kind.ENROLLMENT).setEnrollment(Enrollment.newBuilder()
            .setStudentModel(dev.ikd.proto.v1.ModelSpec.newBuilder().setFamily(settings.spec().family().name().toLowerCase(java.util.Locale.ROOT))
                .addWidths(settings.spec().boundary()).addAllWidths(settings.spec().widths())
                .putOptions("spec", settings.spec().toString()))
            .setDataset(DatasetSpec.newBuilder().setName(d.name()).setSha256(d.sha256()).setTrainSize(d.trainSize())
                .setTestSize(d.testSize()).setSplitSeed(settings.splitSeed()).setLabelFraction(settings.labelFraction())
                .setQuizFraction(settings.quizFraction()))
            .setHyperParameters(HyperParameters.newBuilder().setLearningRate(c.learningRate()).setMomentum(c.momentum())
                .setTemperature(c.temperature()).setAlpha(c.alpha()).setBatchSize(settings.batchSize())
                .setExamBatchSize(settings.examBatchSize()).setSteps(settings.steps()).setSeed(settings.seed())
                .setSwap(settings.swap().enabled() ? settings.swap().toString() : "")
                .setTeacherMode(settings.teacherMode().cliName())))
            .build();
    }

    /** Admitted: the student may learn; soft targets that overtook the admission on their own topic are used now. */
    public List<Envelope> admitted(Envelope e) {
        admitted = true;
        return tryStep(student.stepsDone());
    }

    /** CourseStart(k): which samples; what it says is checked first, then whether it is due. */
    public List<Envelope> courseStart(Envelope e) {
        long k = e.getStep();
        SampleIds.require(e.getCourseStart().getCourse(), settings.data().trainSize(), "course");
        SampleIds.require(e.getCourseStart().getExam(), settings.data().trainSize(), "exam");
        if (k < student.stepsDone()) {
            return repeatOf(k, e);
        }
        requireCurrent(e, "CourseStart");
        requireSameAsHeld(courseStarts.get(k), e, e.getCourseStart().equals(held(courseStarts, k).getCourseStart()));
        courseStarts.put(k, e);
        return tryStep(k);
    }

    /**
     * SoftTargets(k): the teacher's p. Its content (shape [batch, classes], byte length, finite
     * values) is checked first, then the protocol: a repeat, a stale teacher version, the step.
     */
    public List<Envelope> softTargets(Envelope e) {
        long k = e.getStep();
        var st = e.getSoftTargets();
        long[] shape = TensorCodec.shape(st.getProbabilities());
        int classes = settings.data().classes();
        if (shape.length != 2 || shape[0] != settings.batchSize() || shape[1] != classes) {
            throw new RejectedMessageException("soft targets have shape " + Arrays.toString(shape) + ", the course batch needs ["
                + settings.batchSize() + ", " + classes + "]");
        }
        TensorCodec.toFloats(st.getProbabilities(), TensorCodec.Finite.REQUIRED);
        if (k < student.stepsDone()) {
            if (k == student.stepsDone() - 1 && !st.equals(lastSoftTargets.getSoftTargets())) {
                throw new RejectedMessageException("conflicting duplicate: soft targets for step " + k
                    + " differ from the ones already learned from");
            }
            return repeatOf(k, e);
        }
        long version = st.getTeacherVersion();
        if (version < teacherVersion) {
            throw new RejectedMessageException("stale teacher version: soft targets for step " + k + " are version " + version
                + ", the student already learned from version " + teacherVersion);
        }
        requireCurrent(e, "SoftTargets");
        requireSameAsHeld(softTargets.get(k), e, st.equals(held(softTargets, k).getSoftTargets()));
        softTargets.put(k, e);
        return tryStep(k);
    }

    private static Envelope held(Map<Long, Envelope> held, long k) {
        return held.getOrDefault(k, Envelope.getDefaultInstance());
    }

    /** A second request for a step still waiting for its pair must say the same as the first. */
    private static void requireSameAsHeld(Envelope held, Envelope e, boolean same) {
        if (held != null && !same) {
            throw new RejectedMessageException("conflicting duplicate: " + e.getKind() + " for step " + e.getStep()
                + " differs from the one already held for it");
        }
    }

    /** Finish: the test accuracy and final hash, as this student's report. */
    public Envelope finish(Envelope e) {
        if (student.stepsDone() != settings.steps()) {
            throw new RejectedMessageException("Finish after " + student.stepsDone() + " of " + settings.steps() + " steps");
        }
        if (report == null) {
            double accuracy = Evaluation.testAccuracy(net, student.parameters(), settings.data(), manager);
            metrics.latest("test_accuracy", settings.studentId(), accuracy);
            report = header(student.stepsDone(), Kind.STUDENT_REPORT).setStudentReport(StudentReport.newBuilder()
                .setSteps(student.stepsDone()).setTestAccuracy(accuracy).setParamSha256(student.parameterHash())).build();
        }
        return report;
    }

    /** The report, once Finish came; null before. */
    public Envelope report() {
        return report;
    }

    public long stepsDone() {
        return student.stepsDone();
    }

    public String parameterHash() {
        return student.parameterHash();
    }

    @Override
    public void close() {
        student.close();
        manager.close();
    }

    /**
     * Only the current step may be held. Soft targets may arrive before the admission (they travel
     * on their own topic and can overtake it); a CourseStart comes after it on the same partition.
     */
    private void requireCurrent(Envelope e, String what) {
        if (!admitted && e.getKind() == Kind.COURSE_START) {
            throw new RejectedMessageException(what + " for step " + e.getStep() + " before " + settings.studentId() + " was admitted");
        }
        if (e.getStep() != student.stepsDone()) {
            throw new RejectedMessageException("out of order: " + what + " for step " + e.getStep() + " while "
                + settings.studentId() + " is at step " + student.stepsDone());
        }
    }

    private List<Envelope> repeatOf(long k, Envelope e) {
        if (k != student.stepsDone() - 1) {
            throw new RejectedMessageException("stale " + e.getKind() + ": step " + k + " of " + settings.studentId()
                + " was done long ago (now at step " + student.stepsDone() + ")");
        }
        return lastAnswers;
    }

    private List<Envelope> tryStep(long k) {
        Envelope start = courseStarts.get(k);
        Envelope targets = softTargets.get(k);
        if (!admitted || start == null || targets == null) {
            return List.of();
        }
        int[] ids = SampleIds.require(start.getCourseStart().getCourse(), settings.data().trainSize(), "course");
        int[] examIds = SampleIds.require(start.getCourseStart().getExam(), settings.data().trainSize(), "exam");
        var st = targets.getSoftTargets();
        long[] shape = TensorCodec.shape(st.getProbabilities());
        int classes = settings.data().classes();
        if (shape.length != 2 || shape[0] != ids.length || shape[1] != classes) {
            softTargets.remove(k);
            throw new RejectedMessageException("soft targets have shape " + Arrays.toString(shape) + ", the course batch needs ["
                + ids.length + ", " + classes + "]");
        }
        float[] p = TensorCodec.toFloats(st.getProbabilities(), TensorCodec.Finite.REQUIRED);
        boolean[] mask = new boolean[ids.length];
        for (int i = 0; i < ids.length; i++) {
            mask[i] = labeled[ids[i]];
        }
        long t0 = System.nanoTime();
        Student.StepResult r = WireSteps.learn(student, settings.data(), ids, mask, examIds, p, swap(k), settings.type(), manager);
        metrics.phase("course_exam", System.nanoTime() - t0);
        String id = settings.studentId();
        metrics.latest("course_loss", id, r.courseLoss());
        metrics.latest("exam_loss", id, r.examLoss());
        metrics.latest("exam_accuracy", id, r.examAccuracy());
        metrics.latest("step", id, k + 1);
        var feedback = Feedback.newBuilder().setTeacherVersion(st.getTeacherVersion())
            .setD(TensorCodec.encode(r.feedback(), ids.length, classes)).setCourseLoss(r.courseLoss());
        if (settings.teacherMode() == TeacherMode.PESF) {
            feedback.setCourseLogits(TensorCodec.encode(r.courseLogits(), ids.length, classes));
        }
        lastAnswers = List.of(header(k, Kind.FEEDBACK).setFeedback(feedback).build(),
            header(k, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setExamLoss(r.examLoss())
                .setExamAccuracy(r.examAccuracy()).setParamSha256(r.paramSha256()).setCourseLoss(r.courseLoss())).build());
        lastSoftTargets = targets;
        teacherVersion = st.getTeacherVersion();
        courseStarts.remove(k);
        softTargets.remove(k);
        return lastAnswers;
    }

    /** IAKD: the teacher's frozen stages this student swaps in (from ikd.teacher-blocks); needed before the first step. */
    public void useTeacherBlocks(Params blocks) {
        this.teacherBlocks = blocks.copy(manager);
    }

    /** Step k's swap mask, drawn from the student's seed and k as the in-process run draws it. */
    private Swap swap(long k) {
        if (!settings.swap().enabled()) {
            return Swap.NONE;
        }
        if (teacherBlocks == null) {
            throw new IllegalStateException(settings.studentId() + " swaps teacher stages but has no teacher blocks");
        }
        return new Swap(teacherNet, teacherBlocks, settings.swap().mask(settings.seed(), k, settings.steps(),
            teacherNet.stageCount() - 1));
    }

    private Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(runId, settings.studentId(), step, kind, settings.studentId(), clock);
    }
}
