package dev.ikd.student;

import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Plan;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.Ensemble;
import dev.ikd.core.learn.Student;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.WireSteps;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.student.protocol.Learner;

/**
 * One student's learning on DJL, behind the machine's {@link Learner} port: θ and its velocity,
 * the batches its plan fixes for each step, the steps of {@link WireSteps} (the same ones the
 * in-process trainer takes), and the measuring: how long a step took goes to the listener, never
 * into what the machine sends.
 */
public final class StudentLearner implements Learner, Relearner {

    private final StudentSettings settings;
    private final StepListener listener;
    private final NDManager manager;
    private final Network net;
    private final Network teacherNet;
    private final Student student;
    private final Plan plan;
    private Params teacherBlocks;
    /** Replay: how many of the steps replayed went ahead without each teacher. */
    private final long[] missed;

    private StudentLearner(StudentSettings settings, StepListener listener, NDManager parent, StudentState saved) {
        this.settings = settings;
        this.missed = new long[settings.teachers().size()];
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
    }

    /** A student that has learned nothing: parameters from its seed, zero velocity. */
    public static StudentLearner fresh(StudentSettings settings, StepListener listener, NDManager parent) {
        return new StudentLearner(settings, listener, parent, null);
    }

    /** θ, velocity and steps as {@code saved} holds them; a state of another model is refused with the reason. */
    public static StudentLearner restore(StudentSettings settings, StepListener listener, NDManager parent, StudentState saved) {
        return new StudentLearner(settings, listener, parent, saved);
    }

    @Override
    public long stepsDone() {
        return student.stepsDone();
    }

    @Override
    public Step learn(int[] present, SoftTargets[] served) {
        return step(present, probabilities(served), false);
    }

    @Override
    public Step pilot(int[] present, SoftTargets[] served) {
        return step(present, probabilities(served), true);
    }

    private static float[][] probabilities(SoftTargets[] served) {
        float[][] p = new float[served.length][];
        for (int t = 0; t < p.length; t++) {
            p[t] = TensorCodec.toFloats(served[t].getProbabilities(), TensorCodec.Finite.REQUIRED);
        }
        return p;
    }

    @Override
    public String courseStep(int[] present, float[][] served) {
        long k = student.stepsDone();
        int[] ids = plan.course().batch(k);
        boolean[] labeled = plan.labeledMask(ids);
        float[] p = Ensemble.mix(settings.weighting().among(present), served, settings.data().classes(),
            settings.data().trainLabels(ids), labeled).targets();
        return WireSteps.courseStep(student, settings.data(), ids, labeled, p, swap(k), settings.type(), manager);
    }

    private Step step(int[] present, float[][] served, boolean pilot) {
        long k = student.stepsDone();
        int[] ids = plan.course().batch(k);
        boolean[] labeled = plan.labeledMask(ids);
        int[] labels = settings.data().trainLabels(ids);
        Ensemble.Mix mix = Ensemble.mix(settings.weighting().among(present), served, settings.data().classes(), labels, labeled);
        float[] p = mix.targets();
        long t0 = System.nanoTime();
        Student.StepResult r = pilot
            ? WireSteps.pilot(student, settings.data(), ids, labeled, plan.exam().batch(k), p, swap(k), settings.teacherMode(),
                settings.type(), manager)
            : WireSteps.learn(student, settings.data(), ids, labeled, plan.exam().batch(k), p, swap(k), settings.teacherMode(),
                settings.type(), manager);
        listener.onStudentStep(new StepListener.StudentStepped(settings.studentId(), k, settings.steps(), r.courseLoss(),
            r.examLoss(), r.examAccuracy(), r.paramSha256(), System.nanoTime() - t0));
        String diverged = Divergence.ofStudentStep(r, settings.data().classes());
        float[][] shares = diverged != null ? null : mix.feedback(r.feedback());
        double[] weights = settings.teachers().size() == 1 ? null : mix.meanWeights();
        if (weights != null) {
            listener.onTeachersWeighed(StepListener.TeachersWeighed.of(settings.studentId(), k, settings.teachers(), present, weights));
        }
        return new Step(shares, r.courseLogits(), r.courseLoss(), r.distillKl(), r.examLoss(), r.examAccuracy(), r.paramSha256(),
            diverged, weights);
    }

    @Override
    public Report report() {
        double accuracy = Evaluation.testAccuracy(net, student.parameters(), settings.data(), manager);
        listener.onFinished(new StepListener.StudentFinished(settings.studentId(), student.stepsDone(), accuracy,
            student.parameterHash()));
        return new Report(accuracy, student.parameterHash());
    }

    @Override
    public void saveTo(StudentState.Builder state) {
        state.setStepsDone(student.stepsDone()).setTheta(ParamsCodec.group(student.parameters()))
            .setVelocity(ParamsCodec.group(student.velocity()));
    }

    /**
     * Replay: the next step's course step alone, on soft targets read back from the log; no exam.
     * Returns the hash of θ' after it, which the logged exam result of that step must name.
     */
    public String relearnCourse(Envelope targets) {
        return relearnCourse(List.of(targets));
    }

    /**
     * As {@link #relearnCourse(Envelope)}, on the soft targets of each teacher the step used, in the
     * settings' order: all of them, or those that answered by the step's deadline. A teacher's
     * version must be the one it had reached: one update per step it was used in (0 for a frozen one).
     */
    @Override
    public String relearnCourse(List<Envelope> targets) {
        long k = student.stepsDone();
        // Under the pilot update, step k's course step learned from the updated targets that the soft targets of step k+1 carry.
        long from = settings.pilot() ? k + 1 : k;
        if (targets.isEmpty() || targets.size() < settings.teachersRequired()) {
            throw new IllegalArgumentException(targets.size() + " teachers' soft targets replayed for step " + k + " of "
                + settings.studentId() + ", which needs " + settings.teachersRequired());
        }
        int[] present = new int[targets.size()];
        float[][] served = new float[targets.size()][];
        for (int t = 0, next = 0; t < served.length; t++) {
            Envelope e = targets.get(t);
            var st = e.getSoftTargets();
            int index = settings.teachers().indexOf(e.getTeacherId());
            if (e.getKind() != Kind.SOFT_TARGETS || e.getStep() != from || index < next) {
                throw new IllegalArgumentException(e.getKind() + " of step " + e.getStep() + (e.getTeacherId().isEmpty() ? ""
                    : " from " + e.getTeacherId()) + " replayed while " + settings.studentId() + " is at step " + k);
            }
            long expected = settings.expectedVersion(from, missed[index]);
            if (st.getTeacherVersion() != expected) {
                throw new IllegalArgumentException("soft targets of step " + from + (e.getTeacherId().isEmpty() ? "" : " from "
                    + e.getTeacherId()) + " are version " + st.getTeacherVersion() + ", " + settings.studentId() + " learns step "
                    + from + " from version " + expected);
            }
            present[t] = index;
            next = index + 1;
            served[t] = TensorCodec.toFloats(settings.pilot() ? st.getUpdatedCourse() : st.getProbabilities(), TensorCodec.Finite.REQUIRED);
        }
        for (int index = 0, t = 0; index < missed.length; index++) {
            if (t < present.length && present[t] == index) {
                t++;
            } else {
                missed[index]++;
            }
        }
        return courseStep(present, served);
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
    public String parameterHash() {
        return student.parameterHash();
    }

    /** θ as it stands (owned by this learner: copy it to keep it past {@link #close}). */
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
}
