package dev.ikd.student;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.LmIkd;
import dev.ikd.core.text.LmKd;
import dev.ikd.core.text.LmSteps;
import dev.ikd.core.text.LmTraining;
import dev.ikd.core.train.StepListener;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.learning.tokens.TokenTargetsCodec;
import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.student.protocol.Learner;

/**
 * One language-model student on DJL, behind the machine's {@link Learner} port: θ and its momentum,
 * step k's batch and quiz drawn from its seed and k ({@link LmSteps}), the course step on the
 * teacher's token targets as {@link LmKd} takes it in process, and, when the teacher learns, the
 * exact feedback on what was sent ({@link LmIkd#feedback}). Its exam is the quiz batch's next-token
 * cross-entropy at θ'; its report, the test split's perplexity and the soft-target bytes per token.
 */
public final class LmStudentLearner implements Learner, Relearner {

    private final StudentSettings settings;
    private final LmStudent lm;
    private final StepListener listener;
    private final NDManager manager;
    private Params theta;
    private Params velocity;
    private long steps;
    private long bytes;
    private long positions;

    LmStudentLearner(StudentSettings settings, StepListener listener, NDManager parent, StudentState saved) {
        this.settings = settings;
        this.lm = settings.lm();
        this.listener = listener;
        this.manager = parent.newSubManager();
        Params fresh = lm.model().init(settings.seed(), DataType.FLOAT32, manager);
        if (saved == null) {
            theta = fresh;
            velocity = theta.map((name, a) -> manager.zeros(a.getShape(), a.getDataType()));
            return;
        }
        try (NDManager scope = manager.newSubManager()) {
            Params t = ParamsCodec.params(saved.getTheta(), scope);
            String difference = t.layoutDifference(fresh);
            if (difference != null) {
                throw new CheckpointException("the saved student is another model: " + difference);
            }
            theta = t.copy(manager);
            velocity = ParamsCodec.params(saved.getVelocity(), scope).copy(manager);
        } finally {
            fresh.close();
        }
        steps = saved.getStepsDone();
        bytes = saved.getSoftTargetBytes();
        positions = saved.getSoftTargetPositions();
    }

    /** A student that has learned nothing: parameters from its seed, zero momentum. */
    public static LmStudentLearner fresh(StudentSettings settings, NDManager parent) {
        return new LmStudentLearner(settings, StepListener.NONE, parent, null);
    }

    /**
     * Replay: the next step's course step alone, on the token targets the log recorded for it (the
     * soft targets of that step, of the teacher version it learned from); the hash of θ' after it.
     */
    public String relearnCourse(dev.ikd.proto.v1.Envelope targets) {
        long k = steps;
        var st = targets.getSoftTargets();
        long expected = settings.teacherMode() == TeacherMode.FROZEN ? 0 : k;
        if (targets.getKind() != dev.ikd.proto.v1.Kind.SOFT_TARGETS || targets.getStep() != k || st.getTeacherVersion() != expected) {
            throw new IllegalArgumentException(targets.getKind() + " of step " + targets.getStep() + ", version " + st.getTeacherVersion()
                + " replayed while " + settings.studentId() + " learns step " + k + " from version " + expected);
        }
        lm.form().check(st, settings.batchSize(), "replayed soft targets");
        try (NDManager scope = manager.newSubManager()) {
            moveTo(course(k, st, false, scope).moved());
            return theta.sha256();
        }
    }

    /**
     * Step k's course batch, the targets read from {@code st}, and the course step on them (θ' and v'
     * in this learner's manager; with {@code keepLogits}, the course logits in {@code scope}, for the feedback).
     */
    private record Course(NDArray input, LmKd.Targets targets, LmKd.Step moved) {
    }

    private Course course(long k, SoftTargets st, boolean keepLogits, NDManager scope) {
        NDArray x = LmTraining.batchOf(LmSteps.batch(lm.sequences().train(), settings.batchSize(), settings.seed(), k), scope);
        long l = x.getShape().get(1) - 1;
        NDArray input = x.get(":, 0:" + l);
        LmKd.Targets targets = TokenTargetsCodec.targets(st.getTokens(), scope, DataType.FLOAT32);
        return new Course(input, targets, LmKd.courseStep(lm.model(), theta, velocity, input,
            x.get(":, 1:").toType(DataType.INT64, false).expandDims(-1), targets, settings.config(), manager, keepLogits ? scope : null));
    }

    /** The student after a step: θ' and v' replace θ and v, one step more done. */
    private void moveTo(LmKd.Step moved) {
        theta.close();
        velocity.close();
        theta = moved.theta();
        velocity = moved.velocity();
        steps++;
    }

    @Override
    public String relearnCourse(java.util.List<dev.ikd.proto.v1.Envelope> targets) {
        if (targets.size() != 1) {
            throw new IllegalArgumentException(targets.size() + " teachers' soft targets replayed for " + settings.studentId()
                + ", which learns from one");
        }
        return relearnCourse(targets.get(0));
    }

    @Override
    public String parameterHash() {
        return theta.sha256();
    }

    @Override
    public long stepsDone() {
        return steps;
    }

    @Override
    public Step learn(int[] present, SoftTargets[] served) {
        long k = steps;
        CausalTransformer model = lm.model();
        long t0 = System.nanoTime();
        try (NDManager scope = manager.newSubManager()) {
            boolean frozen = settings.teacherMode() == TeacherMode.FROZEN;
            Course c = course(k, served[0], !frozen, scope);
            LmKd.Step moved = c.moved();
            NDArray quiz = LmTraining.batchOf(LmSteps.batch(lm.sequences().quiz(), settings.batchSize(), settings.seed() ^ LmSteps.QUIZ_STREAM,
                k), scope);
            float[] d = new float[0];
            double[] exam;
            if (frozen) {
                exam = LmSteps.exam(model, moved.theta(), quiz);
            } else {
                LmIkd.Exam taken = LmIkd.feedback(model, theta, moved, c.input(), c.targets(), quiz, settings.config(), scope);
                d = taken.feedback().toFloatArray();
                exam = new double[] {taken.loss(), taken.accuracy()};
            }
            moveTo(moved);
            bytes += served[0].getTokens().getSerializedSize();
            positions += served[0].getTokens().getPositions();
            String hash = theta.sha256();
            listener.onStudentStep(new StepListener.StudentStepped(settings.studentId(), k, settings.steps(), moved.loss(), exam[0],
                exam[1], hash, System.nanoTime() - t0));
            String diverged = Divergence.ofLoss("the course loss", moved.loss());
            diverged = diverged != null ? diverged : Divergence.ofLoss("the exam loss", exam[0]);
            diverged = diverged != null ? diverged : Divergence.ofMatrix("a feedback value", d,
                Math.max(1, d.length / served[0].getTokens().getPositions()));
            return new Step(new float[][] {d}, null, moved.loss(), Double.NaN, exam[0], exam[1], hash, diverged);
        }
    }

    @Override
    public Step pilot(int[] present, SoftTargets[] served) {
        throw new IllegalStateException("a language model takes no pilot update");
    }

    @Override
    public String courseStep(int[] present, float[][] p) {
        throw new IllegalStateException("a language model takes no pilot update");
    }

    @Override
    public Report report() {
        int[][] test = lm.sequences().test();
        double[] tested = LmTraining.evaluate(lm.model(), theta, test, settings.batchSize(), manager);
        double perplexity = tested[0];
        double accuracy = tested[1];
        String hash = theta.sha256();
        listener.onFinished(new StepListener.StudentFinished(settings.studentId(), steps, accuracy, hash));
        return new Report(accuracy, hash, perplexity, positions == 0 ? 0 : (double) bytes / positions);
    }

    @Override
    public void saveTo(StudentState.Builder state) {
        state.setStepsDone(steps).setTheta(ParamsCodec.group(theta)).setVelocity(ParamsCodec.group(velocity))
            .setSoftTargetBytes(bytes).setSoftTargetPositions(positions);
    }

    /** θ as it stands (owned by this learner). */
    public Params parameters() {
        return theta;
    }

    /** Its model, data and encoding. */
    public LmStudent student() {
        return lm;
    }

    @Override
    public void close() {
        theta.close();
        velocity.close();
        manager.close();
    }
}
