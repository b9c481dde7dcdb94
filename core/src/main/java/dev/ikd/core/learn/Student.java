package dev.ikd.core.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;

/**
 * One student's state (θ and the optimizer's velocity) and its step: course step, exam, feedback.
 * The services and the in-process trainer call {@link #learn} with the same inputs in the same
 * order, which is what makes a distributed run equal the in-process one.
 */
public final class Student implements AutoCloseable {

    private final Network net;
    private final StudentConfig config;
    private final NDManager manager;
    private Params theta;
    private Params velocity;
    private long stepsDone;

    public Student(Network net, StudentConfig config, Params theta, Params velocity, long stepsDone, NDManager parent) {
        this.net = net;
        this.config = config;
        this.manager = parent.newSubManager();
        this.theta = theta.copy(manager);
        this.velocity = velocity.copy(manager);
        this.stepsDone = stepsDone;
    }

    /** A student with freshly initialised parameters (seeded) and zero velocity. */
    public static Student fresh(Network net, StudentConfig config, long seed, DataType type, NDManager parent) {
        try (NDManager scope = parent.newSubManager()) {
            Params init = net.init(seed, type, scope);
            Params zeros = init.map((k, v) -> scope.zeros(v.getShape(), v.getDataType()));
            return new Student(net, config, init, zeros, 0, parent);
        }
    }

    /**
     * Step k: course step on (x, y, p), exam on (examX, examY), and the feedback d for a teacher of
     * {@code mode}. A teacher that does not learn from feedback (classic KD, or none) gets zeros for d
     * and the exam is scored without its gradient; course logits are computed for PESF only (zeros
     * otherwise). θ' is the same whatever the mode asks for.
     *
     * @param weightedOneHot course labels (zero rows where the student has no label)
     * @param p              soft targets as received (B x C)
     */
    public StepResult learn(NDArray courseX, NDArray weightedOneHot, NDArray p, NDArray examX, int[] examY, Swap swap,
                            TeacherMode mode) {
        return step(courseX, weightedOneHot, p, examX, examY, swap, mode, true);
    }

    /**
     * Step k as MetaDistil's pilot ({@link Leash#pilot}): the course step, exam and feedback of
     * {@link #learn}, on a copy. θ, its velocity and the steps done stay as they were; the real step
     * is {@link #courseStep} on the updated teacher's soft targets. The hash is of the pilot's θ'.
     */
    public StepResult pilot(NDArray courseX, NDArray weightedOneHot, NDArray p, NDArray examX, int[] examY, Swap swap,
                            TeacherMode mode) {
        return step(courseX, weightedOneHot, p, examX, examY, swap, mode, false);
    }

    private StepResult step(NDArray courseX, NDArray weightedOneHot, NDArray p, NDArray examX, int[] examY, Swap swap,
                            TeacherMode mode, boolean commit) {
        try (NDManager step = manager.newSubManager()) {
            CourseStep.Result course = CourseStep.apply(net, theta, velocity, courseX, weightedOneHot, p, swap, config, step);
            int size = Math.toIntExact(p.size());
            float[] feedback;
            Exam.Outcome exam;
            if (mode.learnsFromFeedback()) {
                exam = Exam.take(net, course.theta(), examX, examY, step);
                feedback = toFloats(Exam.feedback(net, theta, exam.gradient(), courseX, swap, config, step));
            } else {
                exam = Exam.score(net, course.theta(), examX, examY, step);
                feedback = new float[size];
            }
            float[] courseLogits = mode == TeacherMode.PESF ? toFloats(net.forward(theta, courseX, swap).logits()) : new float[size];
            var result = new StepResult(stepsDone, feedback, courseLogits, course.loss(), course.distillKl(), exam.loss(),
                exam.accuracy(), null);
            if (!commit) {
                return result.withHash(course.theta().sha256());
            }
            theta.close();
            velocity.close();
            theta = course.theta().copy(manager);
            velocity = course.velocity().copy(manager);
            stepsDone++;
            return result.withHash(theta.sha256());
        }
    }

    /**
     * Step k's course step alone, as {@link #learn} takes it, without the exam and the feedback: all
     * that θ' needs, for re-deriving a logged trajectory. Returns the SHA-256 of θ'.
     */
    public String courseStep(NDArray courseX, NDArray weightedOneHot, NDArray p, Swap swap) {
        try (NDManager step = manager.newSubManager()) {
            CourseStep.Result course = CourseStep.apply(net, theta, velocity, courseX, weightedOneHot, p, swap, config, step);
            theta.close();
            velocity.close();
            theta = course.theta().copy(manager);
            velocity = course.velocity().copy(manager);
            stepsDone++;
            return theta.sha256();
        }
    }

    public Params parameters() {
        return theta;
    }

    /** The optimizer's velocity, which a checkpoint must keep with θ for the next step to be the same. */
    public Params velocity() {
        return velocity;
    }

    public long stepsDone() {
        return stepsDone;
    }

    public String parameterHash() {
        return theta.sha256();
    }

    @Override
    public void close() {
        manager.close();
    }

    private static float[] toFloats(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
    }

    /**
     * What one step produced.
     *
     * @param feedback     d, B x C, float32 as it travels
     * @param courseLogits the student's course logits at θ (B x C), for modes that need them
     * @param distillKl    the course loss's distillation term before its weight α T² (NaN when α is 0)
     * @param paramSha256  SHA-256 of θ' after the step
     */
    public record StepResult(long step, float[] feedback, float[] courseLogits, double courseLoss, double distillKl,
                             double examLoss, double examAccuracy, String paramSha256) {
        StepResult withHash(String sha) {
            return new StepResult(step, feedback, courseLogits, courseLoss, distillKl, examLoss, examAccuracy, sha);
        }
    }
}
