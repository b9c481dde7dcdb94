package dev.ikd.core.gradcheck;

import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.data.BatchSchedule;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.CourseStep;
import dev.ikd.core.learn.Exam;
import dev.ikd.core.learn.Losses;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.model.Tensors;

/**
 * Checks the shipped exam feedback against brute force (docs/architecture.md §2): perturb each teacher logit
 * u_ic (p_i = softmax(u_i / T)) by ±h, redo the course step and the exam, and compare dL_e/du with
 * d back-propagated through the softmax. The error is max |analytic − brute| / max |brute|: relative
 * to the gradient's scale, so entries near zero do not blow it up.
 */
public final class GradCheck {

    private GradCheck() {
    }

    /** The tolerance docs/architecture.md §2 sets for a dtype. */
    public static double tolerance(DataType type) {
        return type == DataType.FLOAT64 ? 1e-3 : 1e-2;
    }

    public static Result run(Settings s, Dataset data, NDManager parent) {
        return run(s, data, parent, UnaryOperator.identity());
    }

    /** As {@link #run}, with {@code tamper} applied to the shipped feedback: lets a test show a wrong d is caught. */
    static Result run(Settings s, Dataset data, NDManager parent, UnaryOperator<NDArray> tamper) {
        DataType type = s.type();
        Network net = Network.build(s.student(), data);
        try (NDManager m = parent.newSubManager()) {
            Params theta = net.init(s.seed(), type, m);
            // A non-zero velocity, so the check covers the momentum term too.
            Params velocity;
            try (Params v = net.init(s.seed() + 1, type, m)) {
                velocity = v.map((k, a) -> {
                    NDArray r = a.mul(0.1);
                    r.attach(m);
                    return r;
                });
            }
            int[] courseIds = new BatchSchedule(range(data.trainSize()), s.batch(), s.seed()).batch(0);
            int[] examIds = new BatchSchedule(range(data.trainSize()), s.examBatch(), s.seed() + 7).batch(0);
            NDArray x = data.trainFeatures(m, courseIds, type);
            NDArray oneHot = Losses.oneHot(m, data.trainLabels(courseIds), null, data.classes(), type);
            NDArray examX = data.trainFeatures(m, examIds, type);
            int[] examY = data.trainLabels(examIds);
            StudentConfig c = s.config();
            double[] u = teacherLogits(s.batch(), data.classes(), s.seed());
            Shape shape = new Shape(s.batch(), data.classes());

            // Shipped: course step, exam, feedback d, then dL/du = (1/T) (diag(p) − p pᵀ) d row by row.
            NDArray p = Losses.softTargets(Tensors.of(m, u, shape, type), c.temperature());
            CourseStep.Result course = CourseStep.apply(net, theta, velocity, x, oneHot, p, Swap.NONE, c, m);
            Exam.Outcome exam = Exam.take(net, course.theta(), examX, examY, m);
            NDArray d = tamper.apply(Exam.feedback(net, theta, exam.gradient(), x, Swap.NONE, c, m));
            double[] analytic = p.mul(d.sub(p.mul(d).sum(new int[] {1}, true))).div(c.temperature())
                .toType(DataType.FLOAT64, false).toDoubleArray();

            // Brute force: the whole bilevel objective, once per perturbed logit.
            double h = type == DataType.FLOAT64 ? 1e-4 : 1e-2;
            double[] brute = new double[u.length];
            for (int k = 0; k < u.length; k++) {
                brute[k] = (examLoss(net, theta, velocity, x, oneHot, perturbed(u, k, h), shape, examX, examY, c, m)
                    - examLoss(net, theta, velocity, x, oneHot, perturbed(u, k, -h), shape, examX, examY, c, m)) / (2 * h);
            }
            double maxDiff = 0;
            double scale = 0;
            for (int k = 0; k < u.length; k++) {
                maxDiff = Math.max(maxDiff, Math.abs(analytic[k] - brute[k]));
                scale = Math.max(scale, Math.abs(brute[k]));
            }
            double error = scale == 0 ? (maxDiff == 0 ? 0 : Double.POSITIVE_INFINITY) : maxDiff / scale;
            return new Result(error, type, error <= tolerance(type), tolerance(type), u.length, scale);
        }
    }

    private static double examLoss(Network net, Params theta, Params velocity, NDArray x, NDArray oneHot, double[] u,
                                   Shape shape, NDArray examX, int[] examY, StudentConfig c, NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            NDArray p = Losses.softTargets(Tensors.of(m, u, shape, x.getDataType()), c.temperature());
            CourseStep.Result course = CourseStep.apply(net, theta, velocity, x, oneHot, p, Swap.NONE, c, m);
            NDArray examOneHot = Losses.oneHot(m, examY, null, net.classes(), x.getDataType());
            return Losses.crossEntropy(net.logits(course.theta(), examX), examOneHot)
                .toType(DataType.FLOAT64, false).getDouble();
        }
    }

    private static double[] teacherLogits(int b, int classes, long seed) {
        var random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        double[] u = new double[b * classes];
        for (int i = 0; i < u.length; i++) {
            u[i] = (random.nextDouble() * 2 - 1) * 2;
        }
        return u;
    }

    private static double[] perturbed(double[] u, int k, double h) {
        double[] out = u.clone();
        out[k] += h;
        return out;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        java.util.Arrays.setAll(r, i -> i);
        return r;
    }

    /**
     * What to check: a student spec on a data set, at a dtype, with the course hyper-parameters.
     */
    public record Settings(ModelSpec student, DataType type, long seed, int batch, int examBatch, StudentConfig config) {

        /** The tiny default: a two-stage MLP on digits, a learning rate large enough that the signal clears float32 noise. */
        public static Settings tiny(DataType type) {
            return new Settings(ModelSpec.parse("mlp:6:8,8"), type, 3, 4, 8, new StudentConfig(0.5, 0.9, 2.0, 0.7));
        }
    }

    /**
     * @param maxRelError max |analytic − brute| / max |brute| over every teacher logit
     * @param checked     how many logits were perturbed
     * @param scale       max |brute|, the gradient's scale
     */
    public record Result(double maxRelError, DataType type, boolean ok, double tolerance, int checked, double scale) {
    }
}
