package dev.ikd.teacher;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.Message;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Plan;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.FeatureCache;
import dev.ikd.core.learn.SharedBackbone;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.DivergedException;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.WireSteps;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.Measured;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.TeacherUpdated;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.Machine;

/**
 * The teacher as one student sees it, as a state machine (docs/architecture.md §5): that student's φ
 * copy or adapter, and where its protocol stands. Admitted, it sends SoftTargets(0) at once; each
 * Feedback(k) is its exam step, applied once and answered with TeacherUpdated(k) for the coordinator
 * and SoftTargets(k+1) — from the teacher that now includes it — for the student: two hops a step. A
 * frozen teacher's soft targets do not depend on feedback, so it keeps a window of them in flight.
 * A repeated request gets the recorded answer, never a second update; content is checked before the
 * protocol; a refused input changes nothing. Until its student is admitted the machine holds nothing
 * worth saving.
 */
public final class TeacherMachine implements Machine {

    /** What every student's teacher shares: the settings, the frozen backbone, where tensors live, who hears the steps. */
    record Shared(TeacherService.Settings settings, String runId, Clock clock, SharedBackbone backbone, NDManager manager,
                  StepListener listener) {
    }

    private final Shared shared;
    private final String studentId;
    private Envelope admitted;
    private boolean finished;
    private Teacher teacher;
    private Plan plan;
    private long served = -1;
    private long applied = -1;
    private long finalVersion;
    /** Once finished: what this student's teacher had learned (its φ copy or adapter), kept for export; null if nothing. */
    private dev.ikd.proto.state.ParamGroup learned;
    /** Soft targets sent and not yet answered by feedback, by step. */
    private final TreeMap<Long, Envelope> pending = new TreeMap<>();
    private Envelope updated;
    private Feedback appliedFeedback;

    private TeacherMachine(Shared shared, String studentId) {
        this.shared = shared;
        this.studentId = studentId;
    }

    /** A student this teacher has not admitted (yet): it refuses everything but the admission. */
    static TeacherMachine fresh(Shared shared, String studentId) {
        return new TeacherMachine(shared, studentId);
    }

    /** The student's teacher exactly as {@link #state} saved it. */
    static TeacherMachine restore(Shared shared, String studentId, PupilState saved) {
        TeacherMachine m = new TeacherMachine(shared, studentId);
        m.admitted = saved.getAdmitted();
        m.finished = saved.getFinished();
        m.served = saved.getServed();
        m.applied = saved.getApplied();
        m.finalVersion = saved.getVersion();
        m.learned = m.finished && saved.hasTrainable() ? saved.getTrainable() : null;
        saved.getPendingList().forEach(e -> m.pending.put(e.getStep(), e));
        m.updated = saved.hasUpdated() ? saved.getUpdated() : null;
        m.appliedFeedback = saved.hasAppliedFeedback() ? saved.getAppliedFeedback() : null;
        if (!m.finished) {
            m.enroll();
            if (m.teacher.trainable() != null) {
                try (NDManager scope = shared.manager().newSubManager()) {
                    Params trainable = ParamsCodec.params(saved.getTrainable(), scope);
                    String difference = trainable.layoutDifference(m.teacher.trainable());
                    if (difference != null) {
                        throw new CheckpointException("the saved teacher of " + studentId + " is another model: " + difference);
                    }
                    m.teacher.restore(trainable, ParamsCodec.params(saved.getVelocity(), scope), saved.getVersion(),
                        saved.hasGathered() ? ParamsCodec.params(saved.getGathered(), scope) : null, saved.getGatheredSteps());
                }
            } else {
                m.teacher.restore(null, null, saved.getVersion(), null, 0);
            }
        }
        return m;
    }

    @Override
    public List<Envelope> apply(Input input) {
        Envelope e = input.envelope();
        return switch (e.getKind()) {
            case ADMITTED -> admitted(e);
            case COURSE_START -> courseStart(e);
            case FEEDBACK -> feedback(e);
            case FINISH, ABORT -> finish();
            default -> throw new RejectedMessageException("the teacher does not take " + e.getKind() + " messages");
        };
    }

    /**
     * Admitted: this student's teacher, set up from what it enrolled with, and its first soft targets
     * (a frozen teacher's whole window of them); once: a repeat changes nothing.
     */
    private List<Envelope> admitted(Envelope e) {
        var a = e.getAdmitted();
        TeacherService.Settings s = shared.settings();
        if (!s.mode().cliName().equals(a.getTeacherMode())) {
            throw new RejectedMessageException("student " + studentId + " was admitted for teacher mode " + a.getTeacherMode()
                + ", but this teacher runs mode " + s.mode().cliName());
        }
        String sha = a.getEnrollment().getDataset().getSha256();
        if (!s.data().sha256().equals(sha)) {
            throw new RejectedMessageException("student " + studentId + " was admitted with data set " + sha + ", but this teacher "
                + "holds " + s.data().name() + " " + s.data().sha256());
        }
        var hp = a.getEnrollment().getHyperParameters();
        if (hp.getBatchSize() < 1 || hp.getExamBatchSize() < 1) {
            throw new RejectedMessageException("student " + studentId + " was admitted with batch sizes " + hp.getBatchSize()
                + " and " + hp.getExamBatchSize() + "; both must be at least 1");
        }
        if (admitted != null) {
            return List.of();
        }
        admitted = e;
        enroll();
        List<Envelope> out = new ArrayList<>();
        for (long k = 0; k < window() && !finished; k++) {
            out.addAll(serve(k));
        }
        return out;
    }

    private void enroll() {
        var en = admitted.getAdmitted().getEnrollment();
        var hp = en.getHyperParameters();
        var d = en.getDataset();
        TeacherService.Settings s = shared.settings();
        plan = Plan.of(Splits.of(d.getTrainSize(), d.getLabelFraction(), d.getQuizFraction(), d.getSplitSeed()), hp.getBatchSize(),
            hp.getExamBatchSize(), hp.getSeed(), false);
        teacher = Teacher.enroll(s.net(), s.pretrained(), s.mode(), s.config(), hp.getTemperature(), hp.getSeed() + 3,
            shared.backbone(), shared.manager());
    }

    /** How many steps of soft targets may be in flight: a learning teacher's depend on the last feedback, so one. */
    private long window() {
        var hp = admitted.getAdmitted().getEnrollment().getHyperParameters();
        return shared.settings().mode() == TeacherMode.FROZEN ? Math.max(1, hp.getPrefetch()) : 1;
    }

    /** Soft targets for step k's course batch from the teacher as it is now; nothing past the plan. */
    private List<Envelope> serve(long k) {
        if (k >= admitted.getAdmitted().getSteps()) {
            return List.of();
        }
        int[] ids = plan.course().batch(k);
        TeacherService.Settings s = shared.settings();
        long t0 = System.nanoTime();
        long cpu0 = StepListener.cpuNanos();
        float[] probs = WireSteps.softTargets(teacher, s.data(), ids, s.type(), shared.manager());
        String diverged = Divergence.ofMatrix("a soft target", probs, s.data().classes());
        if (diverged != null) {
            return diverged(k, diverged);
        }
        long cpu = StepListener.cpuNanos() - cpu0;
        shared.listener().onSoftTargets(new StepListener.SoftTargetsServed(studentId, k, System.nanoTime() - t0, cpu));
        SoftTargets.Builder body = SoftTargets.newBuilder().setTeacherVersion(teacher.version()).setTemperature(teacher.temperature())
            .setProbabilities(TensorCodec.encode(probs, ids.length, s.data().classes()));
        Measured.Builder measured = Measured.newBuilder().setBusyUs(cpu / 1000);
        if (shared.backbone() instanceof FeatureCache cache) {
            measured.setCacheHitRatio(cache.hitRate());
        }
        Envelope targets = header(k, Kind.SOFT_TARGETS).setSoftTargets(body).setMeasured(measured).build();
        pending.put(k, targets);
        served = k;
        return List.of(targets);
    }

    /**
     * CourseStart(k): the coordinator's nudge when step k is overdue. What was recorded for it goes
     * again: its soft targets if they wait for feedback; its update, and the soft targets that
     * followed it, if it was applied.
     */
    private List<Envelope> courseStart(Envelope e) {
        requireAdmitted();
        long k = e.getStep();
        if (pending.containsKey(k)) {
            return List.of(pending.get(k));
        }
        if (k == applied) {
            List<Envelope> out = new ArrayList<>(List.of(updated));
            if (pending.containsKey(k + 1)) {
                out.add(pending.get(k + 1));
            }
            return out;
        }
        throw new RejectedMessageException((k < applied ? "stale" : "out of order:") + " CourseStart for step " + k + " of "
            + studentId + ": the teacher applied step " + applied + " and served step " + served);
    }

    /**
     * Feedback(k): the exam step on d, applied once and answered with the update and the next soft
     * targets; a repeat gets the recorded TeacherUpdated.
     */
    private List<Envelope> feedback(Envelope e) {
        var f = e.getFeedback();
        TeacherService.Settings s = shared.settings();
        // Content first (byte length, finite values), whoever it is for; the batch shape once the step is known.
        TensorCodec.toFloats(f.getD(), TensorCodec.Finite.REQUIRED);
        if (s.mode() == TeacherMode.PESF) {
            TensorCodec.toFloats(f.getCourseLogits(), TensorCodec.Finite.REQUIRED);
        }
        requireAdmitted();
        long k = e.getStep();
        if (k == applied) {
            if (!f.equals(appliedFeedback)) {
                throw new RejectedMessageException("conflicting duplicate: feedback for step " + k + " of " + studentId
                    + " was already applied with other values");
            }
            return List.of(updated);
        }
        if (k < applied) {
            throw new RejectedMessageException("stale feedback: step " + k + " of " + studentId + " was applied long ago");
        }
        Envelope targets = pending.get(k);
        if (k != applied + 1 || targets == null) {
            throw new RejectedMessageException("out of order: feedback for step " + k + " of " + studentId
                + " before its soft targets (the teacher served step " + served + ")");
        }
        long servedVersion = targets.getSoftTargets().getTeacherVersion();
        if (f.getTeacherVersion() != servedVersion) {
            throw new RejectedMessageException("stale teacher version: feedback for step " + k + " answers version "
                + f.getTeacherVersion() + ", soft targets were version " + servedVersion);
        }
        int[] ids = plan.course().batch(k);
        int classes = s.data().classes();
        float[] d = matrix(f.getD(), ids.length, classes, "feedback d");
        float[] logits = s.mode() == TeacherMode.PESF
            ? matrix(f.getCourseLogits(), ids.length, classes, "course logits")
            : new float[ids.length * classes];
        long t0 = System.nanoTime();
        long cpu0 = StepListener.cpuNanos();
        Teacher.Update u = WireSteps.teach(teacher, s.data(), ids, plan.exam().batch(k), k, admitted.getAdmitted().getSteps(), d,
            logits, s.type(), shared.manager());
        long cpu = StepListener.cpuNanos() - cpu0;
        shared.listener().onTeacherStep(new StepListener.TeacherStepped(studentId, k, u.loss(), u.version(), u.driftKl(),
            u.examAccuracy(), System.nanoTime() - t0, cpu));
        appliedFeedback = f;
        applied = k;
        pending.remove(k);
        String diverged = Divergence.ofLoss("the teacher's loss", u.loss());
        if (diverged != null) {
            return diverged(k, diverged);
        }
        updated = header(k, Kind.TEACHER_UPDATED).setTeacherUpdated(TeacherUpdated.newBuilder()
            .setTeacherLoss(u.loss()).setTeacherVersion(u.version()).setDriftKl(u.driftKl())
            .setTeacherExamAccuracy(u.examAccuracy())).setMeasured(Measured.newBuilder().setBusyUs(cpu / 1000)).build();
        // The next soft targets come from the teacher that includes this update: two hops a step.
        List<Envelope> next = serve(k + window());
        if (!next.isEmpty() && next.get(0).getKind() == Kind.TEACHER_UPDATED) {
            return next; // they were not finite: the coordinator hears why instead
        }
        List<Envelope> out = new ArrayList<>(List.of(updated));
        out.addAll(next);
        return out;
    }

    /**
     * This student's teacher stops: {@code what} (at step k) is not finite. The coordinator hears it
     * in a TeacherUpdated that carries only the reason, and aborts the run; nothing else is sent, and
     * a nudge gets the same answer.
     */
    private List<Envelope> diverged(long k, String what) {
        updated = header(k, Kind.TEACHER_UPDATED).setTeacherUpdated(TeacherUpdated.newBuilder()
            .setDiverged("the teacher of " + DivergedException.line(studentId, k, what)).setTeacherVersion(teacher.version())).build();
        finish();
        return List.of(updated);
    }

    /** Finish (or an abort) for this student: its teacher is no longer needed (a repeat changes nothing). */
    private List<Envelope> finish() {
        if (admitted != null && finished) {
            return List.of(); // already stopped (its own divergence, then the run's abort): nothing left to do
        }
        requireAdmitted();
        finalVersion = teacher.version();
        learned = teacher.trainable() == null ? null : ParamsCodec.group(teacher.trainable());
        finished = true;
        pending.clear();
        teacher.close();
        teacher = null;
        return List.of();
    }

    private void requireAdmitted() {
        if (admitted == null || finished) {
            throw new RejectedMessageException("unknown student " + studentId + " (not admitted, or finished)");
        }
    }

    private static float[] matrix(dev.ikd.proto.v1.Tensor t, int rows, int cols, String what) {
        long[] shape = TensorCodec.shape(t);
        if (shape.length != 2 || shape[0] != rows || shape[1] != cols) {
            throw new RejectedMessageException(what + " has shape " + Arrays.toString(shape) + ", the batch needs ["
                + rows + ", " + cols + "]");
        }
        return TensorCodec.toFloats(t, TensorCodec.Finite.REQUIRED);
    }

    @Override
    public Message state() {
        if (admitted == null) {
            return null;
        }
        var b = PupilState.newBuilder().setAdmitted(admitted).setFinished(finished).setServed(served).setApplied(applied)
            .setVersion(teacher == null ? finalVersion : teacher.version()).addAllPending(pending.values());
        if (updated != null) {
            b.setUpdated(updated);
        }
        if (appliedFeedback != null) {
            b.setAppliedFeedback(appliedFeedback);
        }
        if (teacher != null && teacher.trainable() != null) {
            b.setTrainable(ParamsCodec.group(teacher.trainable())).setVelocity(ParamsCodec.group(teacher.velocity()));
            if (teacher.gathered() != null) {
                b.setGathered(ParamsCodec.group(teacher.gathered())).setGatheredSteps(teacher.gatheredSteps());
            }
        } else if (learned != null) {
            b.setTrainable(learned); // 'ikd export --teacher-of' reads it
        }
        return b.build();
    }

    /** Whether this student's teacher is set up (admitted and not finished). */
    public boolean active() {
        return admitted != null && !finished;
    }

    public long version() {
        return teacher == null ? finalVersion : teacher.version();
    }

    @Override
    public void close() {
        if (teacher != null) {
            teacher.close();
            teacher = null;
        }
    }

    private Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(shared.runId(), studentId, step, kind, shared.settings().teacherId(), shared.clock());
    }
}
