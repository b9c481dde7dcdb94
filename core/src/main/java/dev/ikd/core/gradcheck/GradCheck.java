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
import dev.ikd.core.learn.Ensemble;
import dev.ikd.core.learn.Exam;
import dev.ikd.core.learn.Losses;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.model.Tensors;

/**
 * Checks the shipped exam feedback against brute force (docs/architecture.md §2): perturb each teacher logit
 * u_ic (p_i = softmax(u_i / T)) by ±h, redo the course step and the exam, and compare dL_e/du with
 * d back-propagated through the softmax. With several teachers, the student learns from their
 * combined targets ({@link Ensemble}), and each teacher's logits are checked against its own share
 * of the feedback, through the weighting. The error is max |analytic − brute| / max |brute|: relative
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
        int teachers = s.teachers();
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
            int[] labels = data.trainLabels(courseIds);
            // With several teachers, every other sample unlabelled: a confidence weighting then uses both of its losses.
            boolean[] labeled = teachers == 1 ? null : new boolean[s.batch()];
            for (int i = 0; labeled != null && i < labeled.length; i++) {
                labeled[i] = i % 2 == 0;
            }
            Batch batch = new Batch(data.trainFeatures(m, courseIds, type), Losses.oneHot(m, labels, labeled, data.classes(), type),
                labels, labeled, data.trainFeatures(m, examIds, type), data.trainLabels(examIds));
            StudentConfig c = s.config();
            double[][] u = new double[teachers][];
            for (int k = 0; k < teachers; k++) {
                u[k] = teacherLogits(s.batch(), data.classes(), s.seed() + 1000L * k);
            }
            Shape shape = new Shape(s.batch(), data.classes());

            // Shipped: course step on the combined targets, exam, feedback d, each teacher's share d_k, then
            // dL/du_k = (1/T) (diag(p_k) − p_k p_kᵀ) d_k row by row.
            double[][] p = softTargets(u, shape, type, c, m);
            NDArray combined = Tensors.of(m, Ensemble.combine(s.weighting(), p, data.classes(), labels, labeled), shape, type);
            CourseStep.Result course = CourseStep.apply(net, theta, velocity, batch.x(), batch.oneHot(), combined, Swap.NONE, c, m);
            Exam.Outcome exam = Exam.take(net, course.theta(), batch.examX(), batch.examY(), m);
            NDArray d = tamper.apply(Exam.feedback(net, theta, exam.gradient(), batch.x(), Swap.NONE, c, m));
            double[][] shares = Ensemble.feedback(s.weighting(), p, d.toType(DataType.FLOAT64, false).toDoubleArray(), data.classes(),
                labels, labeled);
            int classes = data.classes();
            double[] analytic = new double[teachers * u[0].length];
            for (int k = 0; k < teachers; k++) {
                for (int b = 0; b < s.batch(); b++) {
                    double pd = 0;
                    for (int j = 0; j < classes; j++) {
                        pd += p[k][b * classes + j] * shares[k][b * classes + j];
                    }
                    for (int j = 0; j < classes; j++) {
                        int i = b * classes + j;
                        analytic[k * u[0].length + i] = p[k][i] * (shares[k][i] - pd) / c.temperature();
                    }
                }
            }

            // Brute force: the whole bilevel objective, once per perturbed logit of each teacher.
            double h = type == DataType.FLOAT64 ? 1e-4 : 1e-2;
            double[] brute = new double[analytic.length];
            for (int k = 0; k < teachers; k++) {
                for (int i = 0; i < u[k].length; i++) {
                    brute[k * u[0].length + i] = (examLoss(net, theta, velocity, batch, perturbed(u, k, i, h), shape, s, m)
                        - examLoss(net, theta, velocity, batch, perturbed(u, k, i, -h), shape, s, m)) / (2 * h);
                }
            }
            double maxDiff = 0;
            double scale = 0;
            for (int k = 0; k < analytic.length; k++) {
                maxDiff = Math.max(maxDiff, Math.abs(analytic[k] - brute[k]));
                scale = Math.max(scale, Math.abs(brute[k]));
            }
            double error = scale == 0 ? (maxDiff == 0 ? 0 : Double.POSITIVE_INFINITY) : maxDiff / scale;
            return new Result(error, type, error <= tolerance(type), tolerance(type), analytic.length, scale);
        }
    }

    /** The course batch (features, labels where the student has them) and the exam batch. */
    private record Batch(NDArray x, NDArray oneHot, int[] labels, boolean[] labeled, NDArray examX, int[] examY) {
    }

    /** Each teacher's softmax(u_k / T), at the check's dtype, read back as doubles. */
    private static double[][] softTargets(double[][] u, Shape shape, DataType type, StudentConfig c, NDManager m) {
        double[][] p = new double[u.length][];
        for (int k = 0; k < u.length; k++) {
            p[k] = Losses.softTargets(Tensors.of(m, u[k], shape, type), c.temperature()).toType(DataType.FLOAT64, false)
                .toDoubleArray();
        }
        return p;
    }

    private static double examLoss(Network net, Params theta, Params velocity, Batch batch, double[][] u, Shape shape, Settings s,
                                   NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            DataType type = batch.x().getDataType();
            double[][] p = softTargets(u, shape, type, s.config(), m);
            NDArray combined = Tensors.of(m, Ensemble.combine(s.weighting(), p, net.classes(), batch.labels(), batch.labeled()),
                shape, type);
            CourseStep.Result course = CourseStep.apply(net, theta, velocity, batch.x(), batch.oneHot(), combined, Swap.NONE,
                s.config(), m);
            NDArray examOneHot = Losses.oneHot(m, batch.examY(), null, net.classes(), type);
            return Losses.crossEntropy(net.logits(course.theta(), batch.examX()), examOneHot)
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

    private static double[][] perturbed(double[][] u, int teacher, int i, double h) {
        double[][] out = u.clone();
        out[teacher] = u[teacher].clone();
        out[teacher][i] += h;
        return out;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        java.util.Arrays.setAll(r, i -> i);
        return r;
    }

    /**
     * What to check: a student spec on a data set, at a dtype, with the course hyper-parameters, and
     * how many teachers' soft targets it learns from, combined how.
     */
    public record Settings(ModelSpec student, DataType type, long seed, int batch, int examBatch, StudentConfig config, int teachers,
                           TeacherWeighting weighting) {

        public Settings {
            weighting.checkedFor(teachers);
        }

        /** One teacher. */
        public Settings(ModelSpec student, DataType type, long seed, int batch, int examBatch, StudentConfig config) {
            this(student, type, seed, batch, examBatch, config, 1, TeacherWeighting.EQUAL);
        }

        /** The tiny default: a two-stage MLP on digits, a learning rate large enough that the signal clears float32 noise. */
        public static Settings tiny(DataType type) {
            return new Settings(ModelSpec.parse("mlp:6:8,8"), type, 3, 4, 8, new StudentConfig(0.5, 0.9, 2.0, 0.7));
        }

        /** The same check with {@code teachers} teachers combined by {@code weighting}. */
        public Settings with(int teachers, TeacherWeighting weighting) {
            return new Settings(student, type, seed, batch, examBatch, config, teachers, weighting);
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
