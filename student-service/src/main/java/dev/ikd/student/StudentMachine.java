package dev.ikd.student;

import java.time.Clock;
import java.util.Arrays;
import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.protobuf.Message;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Plan;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.Student;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.train.DivergedException;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.WireSteps;
import dev.ikd.learning.data.RunData;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.Machine;

/**
 * One student as a state machine (docs/architecture.md §5): step k runs as soon as SoftTargets(k)
 * of the teacher version it expects is here (and the student is admitted), on the batches the
 * student's plan fixes for step k; it answers with Feedback(k) for the teacher and ExamResult(k)
 * for the coordinator. Soft targets that come early (before the admission, or from a frozen teacher
 * sending ahead) are held, up to the prefetch window. A repeated request for the last step gets its
 * recorded answers again; nothing is learned twice. Content is checked before the protocol, and a
 * refused input changes nothing. {@link #state} is everything there is (θ, velocity, step, recorded
 * answers, held soft targets), and {@link #restore} continues from it bit for bit.
 */
public final class StudentMachine implements Machine {

    /**
     * What one student is: its id, model, course settings, seed (parameters and batches), and the
     * data terms it enrolls with.
     */
    public record Settings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                           int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                           TeacherMode teacherMode, DataType type, SwapSchedule swap, ModelSpec teacherSpec, int prefetch) {

        public Settings {
            if (prefetch < 1) {
                throw new IllegalArgumentException("--prefetch must be at least 1 step, got " + prefetch);
            }
        }

        /** Without stage swapping, one step of soft targets at a time. */
        public Settings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                        int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                        TeacherMode teacherMode, DataType type) {
            this(studentId, data, spec, config, seed, batchSize, examBatchSize, steps, splitSeed, labelFraction, quizFraction,
                teacherMode, type, SwapSchedule.OFF, null, 1);
        }

        /** How many steps of soft targets may come ahead: a learning teacher's depend on the last feedback, so one. */
        int window() {
            return teacherMode == TeacherMode.FROZEN ? prefetch : 1;
        }

        /** The version of the teacher whose soft targets step k must learn from: one update per step, or none at all. */
        long expectedVersion(long k) {
            return teacherMode == TeacherMode.FROZEN ? 0 : k;
        }
    }

    private static final String DIVERGED = "diverged at step ";

    private final Settings settings;
    private final String runId;
    private final Clock clock;
    private final StepListener listener;
    private final NDManager manager;
    private final Network net;
    private final Network teacherNet;
    private final Student student;
    private final Plan plan;
    private Params teacherBlocks;
    private boolean admitted;
    private String stopped = "";
    private long teacherVersion = -1;
    private List<Envelope> lastAnswers = List.of();
    private Envelope learnedSoftTargets;
    private Envelope report;
    private final java.util.TreeMap<Long, Envelope> held = new java.util.TreeMap<>();

    private StudentMachine(Settings settings, String runId, Clock clock, StepListener listener, NDManager parent,
                           StudentState saved) {
        this.settings = settings;
        this.runId = runId;
        this.clock = clock;
        this.listener = listener;
        this.manager = parent.newSubManager();
        this.net = Network.build(settings.spec(), settings.data());
        this.teacherNet = settings.swap().enabled() ? Network.build(settings.teacherSpec(), settings.data()) : null;
        this.plan = Plan.of(Splits.of(settings.data().trainSize(), settings.labelFraction(), settings.quizFraction(),
            settings.splitSeed()), settings.batchSize(), settings.examBatchSize(), settings.seed(), false);
        Student fresh = Student.fresh(net, settings.config(), settings.seed(), settings.type(), manager);
        if (saved == null) {
            this.student = fresh;
            return;
        }
        try (NDManager scope = manager.newSubManager()) {
            Params theta = ParamsCodec.params(saved.getTheta(), scope);
            Params velocity = ParamsCodec.params(saved.getVelocity(), scope);
            String difference = theta.layoutDifference(fresh.parameters());
            if (difference != null) {
                throw new CheckpointException("the saved student is another model: " + difference);
            }
            this.student = new Student(net, settings.config(), theta, velocity, saved.getStepsDone(), manager);
        } finally {
            fresh.close();
        }
        this.admitted = saved.getAdmitted();
        this.stopped = saved.getStopped();
        this.teacherVersion = saved.getTeacherVersion();
        this.lastAnswers = List.copyOf(saved.getLastAnswersList());
        this.learnedSoftTargets = saved.hasLearnedSoftTargets() ? saved.getLearnedSoftTargets() : null;
        this.report = saved.hasReport() ? saved.getReport() : null;
        saved.getHeldSoftTargetsList().forEach(e -> held.put(e.getStep(), e));
    }

    /** A student that has learned nothing: parameters from its seed, zero velocity. */
    public static StudentMachine fresh(Settings settings, String runId, Clock clock, StepListener listener, NDManager parent) {
        return new StudentMachine(settings, runId, clock, listener, parent, null);
    }

    /** The student exactly as {@link #state} saved it; a state of another model is refused with the reason. */
    public static StudentMachine restore(Settings settings, String runId, Clock clock, StepListener listener,
                                         NDManager parent, StudentState saved) {
        return new StudentMachine(settings, runId, clock, listener, parent, saved);
    }

    @Override
    public List<Envelope> apply(Input input) {
        Envelope e = input.envelope();
        if (!stopped.isEmpty() && (e.getKind() == Kind.ABORT || e.getKind() == Kind.FINISH)) {
            return List.of(); // the run's end, or the abort that follows this student's own stop: nothing left to do
        }
        if (stopped.startsWith(DIVERGED) && e.getKind() == Kind.COURSE_START && e.getStep() == student.stepsDone() - 1) {
            return lastAnswers; // a nudge before the coordinator heard why: the same answer again
        }
        if (!stopped.isEmpty()) {
            throw new RejectedMessageException(settings.studentId() + " " + stopped + "; it takes no more messages");
        }
        return switch (e.getKind()) {
            case ADMITTED -> admitted();
            case REFUSED -> stop("was refused: " + e.getRefused().getReason());
            case ABORT -> stop("was aborted: " + e.getAbort().getReason());
            case COURSE_START -> courseStart(e);
            case SOFT_TARGETS -> softTargets(e);
            case FINISH -> finish();
            default -> throw new RejectedMessageException("a student does not take " + e.getKind() + " messages");
        };
    }

    /** The enrollment request, registering {@code key} as the one this student signs with (null: the run does not sign). */
    public Envelope enrollment(java.security.PublicKey key) {
        Envelope e = enrollment();
        return key == null ? e : e.toBuilder().setEnrollment(e.getEnrollment().toBuilder()
            .setPublicKey(com.google.protobuf.ByteString.copyFrom(key.getEncoded()))).build();
    }

    /** The enrollment request: model, data terms and hyper-parameters. */
    public Envelope enrollment() {
        Dataset d = settings.data();
        StudentConfig c = settings.config();
        Enrollment.Builder enrollment = Enrollment.newBuilder().setStudentModel(RunData.model(settings.spec()))
            .setDataset(RunData.spec(d, settings.splitSeed(), settings.labelFraction(), settings.quizFraction()))
            .setHyperParameters(HyperParameters.newBuilder().setLearningRate(c.learningRate()).setMomentum(c.momentum())
                .setTemperature(c.temperature()).setAlpha(c.alpha()).setBatchSize(settings.batchSize())
                .setExamBatchSize(settings.examBatchSize()).setSteps(settings.steps()).setSeed(settings.seed())
                .setSwap(settings.swap().enabled() ? settings.swap().toString() : "")
                .setTeacherMode(settings.teacherMode().cliName()).setPrefetch(settings.window()));
        if (settings.swap().enabled()) {
            enrollment.setTeacherModel(RunData.model(settings.teacherSpec()));
        }
        return header(0, Kind.ENROLLMENT).setEnrollment(enrollment).build();
    }

    /** Admitted: the student may learn; soft targets that overtook the admission on their own topic are used now. */
    private List<Envelope> admitted() {
        admitted = true;
        return tryStep();
    }

    private List<Envelope> stop(String why) {
        stopped = why;
        return List.of();
    }

    /**
     * CourseStart(k): the coordinator's nudge when step k is overdue. The last step done is answered
     * again; the step the student waits for needs its soft targets, not this.
     */
    private List<Envelope> courseStart(Envelope e) {
        long k = e.getStep();
        if (!admitted) {
            throw new RejectedMessageException("CourseStart for step " + k + " before " + settings.studentId() + " was admitted");
        }
        if (k < student.stepsDone()) {
            return repeatOf(e);
        }
        if (k > student.stepsDone()) {
            throw new RejectedMessageException("out of order: CourseStart for step " + k + " while " + settings.studentId()
                + " is at step " + student.stepsDone());
        }
        return List.of();
    }

    /**
     * SoftTargets(k): the teacher's p. Its content (shape [batch, classes], finite values) is checked
     * first, then the teacher version it must come from, then the protocol: a repeat, a step past the
     * window or the plan, a second copy of what is held.
     */
    private List<Envelope> softTargets(Envelope e) {
        long k = e.getStep();
        var st = e.getSoftTargets();
        long[] shape = TensorCodec.shape(st.getProbabilities());
        int classes = settings.data().classes();
        if (shape.length != 2 || shape[0] != settings.batchSize() || shape[1] != classes) {
            throw new RejectedMessageException("soft targets have shape " + Arrays.toString(shape) + ", the course batch needs ["
                + settings.batchSize() + ", " + classes + "]");
        }
        TensorCodec.toFloats(st.getProbabilities(), TensorCodec.Finite.REQUIRED);
        long expected = settings.expectedVersion(k);
        if (st.getTeacherVersion() != expected) {
            throw new RejectedMessageException((st.getTeacherVersion() < expected ? "stale" : "unexpected") + " teacher version: soft "
                + "targets for step " + k + " are version " + st.getTeacherVersion() + ", " + settings.studentId()
                + " learns step " + k + " from version " + expected);
        }
        if (k < student.stepsDone()) {
            if (k == student.stepsDone() - 1 && !sameTargets(st, learnedSoftTargets.getSoftTargets())) {
                throw new RejectedMessageException("conflicting duplicate: soft targets for step " + k
                    + " differ from the ones already learned from");
            }
            return repeatOf(e);
        }
        if (k >= settings.steps()) {
            throw new RejectedMessageException("soft targets for step " + k + ", but " + settings.studentId() + " takes "
                + settings.steps() + " steps");
        }
        if (k >= student.stepsDone() + settings.window()) {
            throw new RejectedMessageException("out of order: soft targets for step " + k + " while " + settings.studentId()
                + " is at step " + student.stepsDone() + " and holds at most " + settings.window() + " ahead");
        }
        Envelope already = held.get(k);
        if (already != null) {
            if (!sameTargets(st, already.getSoftTargets())) {
                throw new RejectedMessageException("conflicting duplicate: soft targets for step " + k
                    + " differ from the ones already held for it");
            }
            return List.of();
        }
        held.put(k, e);
        return tryStep();
    }

    /**
     * Whether two copies of a step's soft targets say the same: the whole payload (the teacher's
     * version, temperature and probabilities). What the teacher measured making them travels in the
     * envelope's {@code measured}, outside the payload, and may differ in a recomputed copy.
     */
    static boolean sameTargets(SoftTargets a, SoftTargets b) {
        return a.equals(b);
    }

    /** Finish: the test accuracy and final hash, as this student's report (the same report if asked again). */
    private List<Envelope> finish() {
        if (student.stepsDone() != settings.steps()) {
            throw new RejectedMessageException("Finish after " + student.stepsDone() + " of " + settings.steps() + " steps");
        }
        if (report == null) {
            double accuracy = Evaluation.testAccuracy(net, student.parameters(), settings.data(), manager);
            report = header(student.stepsDone(), Kind.STUDENT_REPORT).setStudentReport(StudentReport.newBuilder()
                .setSteps(student.stepsDone()).setTestAccuracy(accuracy).setParamSha256(student.parameterHash())).build();
            listener.onFinished(new StepListener.StudentFinished(settings.studentId(), student.stepsDone(), accuracy,
                student.parameterHash()));
        }
        return List.of(report);
    }

    private List<Envelope> repeatOf(Envelope e) {
        if (e.getStep() != student.stepsDone() - 1) {
            throw new RejectedMessageException("stale " + e.getKind() + ": step " + e.getStep() + " of " + settings.studentId()
                + " was done long ago (now at step " + student.stepsDone() + ")");
        }
        return lastAnswers;
    }

    /** Learns every step whose soft targets are here, in order, once admitted; their answers, in order. */
    private List<Envelope> tryStep() {
        List<Envelope> out = new java.util.ArrayList<>();
        while (admitted && held.containsKey(student.stepsDone())) {
            out.addAll(learn(held.remove(student.stepsDone())));
        }
        return out;
    }

    private List<Envelope> learn(Envelope targets) {
        long k = student.stepsDone();
        int[] ids = plan.course().batch(k);
        int[] examIds = plan.exam().batch(k);
        var st = targets.getSoftTargets();
        float[] p = TensorCodec.toFloats(st.getProbabilities(), TensorCodec.Finite.REQUIRED);
        long t0 = System.nanoTime();
        Student.StepResult r = WireSteps.learn(student, settings.data(), ids, plan.labeledMask(ids), examIds, p, swap(k),
            settings.teacherMode(), settings.type(), manager);
        listener.onStudentStep(new StepListener.StudentStepped(settings.studentId(), k, settings.steps(), r.courseLoss(),
            r.examLoss(), r.examAccuracy(), r.paramSha256(), System.nanoTime() - t0));
        int classes = settings.data().classes();
        String diverged = Divergence.ofStudentStep(r, classes);
        if (diverged != null) {
            // Nothing that is not finite leaves the student: the coordinator hears why and aborts the run.
            String line = DivergedException.line(settings.studentId(), k, diverged);
            stopped = DIVERGED + k + ": " + diverged;
            lastAnswers = List.of(header(k, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setDiverged(line)
                .setTeacherVersion(st.getTeacherVersion())).build());
            learnedSoftTargets = targets;
            return lastAnswers;
        }
        var feedback = Feedback.newBuilder().setTeacherVersion(st.getTeacherVersion())
            .setD(TensorCodec.encode(r.feedback(), ids.length, classes)).setCourseLoss(r.courseLoss()).setDistillKl(r.distillKl());
        if (settings.teacherMode() == TeacherMode.PESF) {
            feedback.setCourseLogits(TensorCodec.encode(r.courseLogits(), ids.length, classes));
        }
        lastAnswers = List.of(header(k, Kind.FEEDBACK).setFeedback(feedback).build(),
            header(k, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setExamLoss(r.examLoss())
                .setExamAccuracy(r.examAccuracy()).setParamSha256(r.paramSha256()).setCourseLoss(r.courseLoss())
                .setTeacherVersion(st.getTeacherVersion())).build());
        learnedSoftTargets = targets;
        teacherVersion = st.getTeacherVersion();
        return lastAnswers;
    }

    /**
     * Replay: the next step's course step alone, on soft targets read back from the log; no exam, no
     * answers. Returns the hash of θ' after it, which the logged exam result of that step must name.
     */
    public String relearnCourse(Envelope targets) {
        long k = student.stepsDone();
        var st = targets.getSoftTargets();
        if (targets.getKind() != Kind.SOFT_TARGETS || targets.getStep() != k) {
            throw new IllegalArgumentException(targets.getKind() + " of step " + targets.getStep() + " replayed while "
                + settings.studentId() + " is at step " + k);
        }
        if (st.getTeacherVersion() != settings.expectedVersion(k)) {
            throw new IllegalArgumentException("soft targets of step " + k + " are version " + st.getTeacherVersion() + ", "
                + settings.studentId() + " learns step " + k + " from version " + settings.expectedVersion(k));
        }
        int[] ids = plan.course().batch(k);
        float[] p = TensorCodec.toFloats(st.getProbabilities(), TensorCodec.Finite.REQUIRED);
        String hash = WireSteps.courseStep(student, settings.data(), ids, plan.labeledMask(ids), p, swap(k), settings.type(), manager);
        learnedSoftTargets = targets;
        teacherVersion = st.getTeacherVersion();
        lastAnswers = List.of();
        return hash;
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

    @Override
    public Message state() {
        var s = StudentState.newBuilder().setAdmitted(admitted).setStopped(stopped).setStepsDone(student.stepsDone())
            .setTeacherVersion(teacherVersion).setTheta(ParamsCodec.group(student.parameters()))
            .setVelocity(ParamsCodec.group(student.velocity())).addAllLastAnswers(lastAnswers);
        if (learnedSoftTargets != null) {
            s.setLearnedSoftTargets(learnedSoftTargets);
        }
        if (report != null) {
            s.setReport(report);
        }
        s.addAllHeldSoftTargets(held.values());
        return s.build();
    }

    public boolean isAdmitted() {
        return admitted;
    }

    /**
     * Why this student stopped, as a phrase after its id ("was refused: ...", "was aborted: ...",
     * "diverged at step k: ..."), or "" while it may learn.
     */
    public String stopped() {
        return stopped;
    }

    /** Whether this student stopped because a step of its own was not finite. */
    public boolean diverged() {
        return stopped.startsWith(DIVERGED);
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

    /** θ as it stands (owned by this machine: copy it to keep it past {@link #close}). */
    public Params parameters() {
        return student.parameters();
    }

    /** The network this student's parameters belong to. */
    public Network network() {
        return net;
    }

    @Override
    public void close() {
        student.close();
        manager.close();
    }

    private Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(runId, settings.studentId(), step, kind, settings.studentId(), clock);
    }
}
