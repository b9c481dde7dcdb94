package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.learn.Autograd;
import dev.ikd.core.learn.Leash;
import dev.ikd.core.learn.SparseTargets;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class LmIkdTest {

    private static final int VOCAB = 13;
    private static final int K = 4;
    private static final double T = 2;

    @Test
    void anEncodingTheTeacherCannotLearnThroughIsRefusedInOneLine() {
        assertThatThrownBy(() -> LmIkd.check(LmKd.Encoding.parse("sample:32")))
            .hasMessage("IKD cannot learn through sample:32: it sends counts of random draws, not a differentiable function of the "
                + "teacher's logits, so there is no exact feedback; use topk:K or dense");
        assertThatThrownBy(() -> LmIkd.check(LmKd.Encoding.parse("fp16")))
            .hasMessage("IKD cannot learn through fp16: half-precision rounding has no useful derivative; use dense or topk:K");
        LmIkd.check(LmKd.Encoding.parse("topk:8"));
        LmIkd.check(LmKd.Encoding.parse("dense"));
    }

    @Test
    void theFeedbackOnTheSupportIsTheReferenceComputedInDouble() {
        SplittableRandom r = new SplittableRandom(4);
        int rows = 5;
        double[] z = gaussian(r, rows * VOCAB);
        double[] w = gaussian(r, rows * VOCAB);
        double scale = 0.37;
        try (NDManager m = NDManager.newBaseManager()) {
            SparseTargets.TopK s = SparseTargets.topK(probabilities(r, rows), rows, VOCAB, K);
            LmKd.Targets sent = topK(s, m);
            NDArray fb = LmIkd.feedback(of(m, w, rows, VOCAB), of(m, z, rows, VOCAB), sent, T, scale);
            assertThat(fb.getShape()).isEqualTo(new Shape(rows, K + 1));
            assertClose(fb.toDoubleArray(), SparseTargets.feedback(w, z, s, VOCAB, T, scale), 1e-12);

            NDArray dense = LmIkd.feedback(of(m, w, rows, VOCAB), of(m, z, rows, VOCAB),
                new LmKd.Targets(of(m, new double[rows * VOCAB], rows, VOCAB), null, null, null, 0), T, scale);
            double[] expected = new double[rows * VOCAB];
            for (int i = 0; i < rows; i++) {
                double[] q = SparseTargets.softmax(z, i * VOCAB, VOCAB, T);
                double mean = 0;
                for (int c = 0; c < VOCAB; c++) {
                    mean += q[c] * w[i * VOCAB + c];
                }
                for (int c = 0; c < VOCAB; c++) {
                    expected[i * VOCAB + c] = scale * (w[i * VOCAB + c] - mean) / T;
                }
            }
            assertClose(dense.toDoubleArray(), expected, 1e-12);
        }
    }

    @Test
    void theTeacherBackPropagatesTheFeedbackThroughItsWholeSoftmaxAsTheReference() {
        SplittableRandom r = new SplittableRandom(6);
        int rows = 4;
        double[] u = gaussian(r, rows * VOCAB);
        double[] fb = gaussian(r, rows * (K + 1));
        try (NDManager m = NDManager.newBaseManager()) {
            SparseTargets.TopK s = SparseTargets.topK(probabilities(r, rows), rows, VOCAB, K);
            LmKd.Targets sent = topK(s, m);
            NDArray d = of(m, fb, rows, K + 1);
            NDArray e = d.get(":, 0:" + K).sub(d.get(":, " + K + ":"));
            Params at = new Params(new java.util.LinkedHashMap<>(java.util.Map.of("u", of(m, u, rows, VOCAB))));
            double[] viaAutograd = Autograd.of(at, m, p -> LmIkd.fed(p.get("u"), e, sent.ids(), T)).gradient().get("u").toDoubleArray();
            assertClose(viaAutograd, SparseTargets.teacherGradient(u, s, fb, VOCAB, T), 1e-12);
        }
    }

    /**
     * The feedback against brute force through the real course step and exam of a tiny transformer in
     * float64: each number sent, moved by ±h, changes the exam loss after the course step by what the
     * feedback says: relative error ≤ 1e-3 (§2's tolerance; w is a central difference whose error falls as its step squared).
     */
    @Nested
    class AgainstBruteForce {

        private final CausalTransformer student = new CausalTransformer(1, 8, 2, 5, VOCAB);
        private final StudentConfig c = new StudentConfig(0.3, 0.9, T, 0.7);

        @Test
        void onTheSupport() {
            check(false, LmIkd.STEP, 1e-3);
        }

        @Test
        void onEveryToken() {
            check(true, LmIkd.STEP, 1e-3);
        }

        @Test
        void onBothWithAShorterStepTheFormulaIsExact() {
            check(false, 1e-4, 1e-5);
            check(true, 1e-4, 1e-5);
        }

        private void check(boolean dense, double step, double tolerance) {
            SplittableRandom r = new SplittableRandom(dense ? 11 : 12);
            int n = 2;
            int l = 5;
            int rows = n * l;
            try (NDManager m = NDManager.newBaseManager()) {
                Params theta = student.init(3, DataType.FLOAT64, m);
                Params v = theta.map((k, a) -> a.mul(0).add(Tensors.scalar(a, 0.01)));
                NDArray input = tokens(m, r, n, l);
                NDArray next = tokens(m, r, n, l).expandDims(-1);
                NDArray quiz = tokens(m, r, 3, l + 1);
                float[] p = probabilities(r, rows);
                SparseTargets.TopK s = SparseTargets.topK(p, rows, VOCAB, K);
                double[] sentValues = dense ? toDouble(p) : concat(toDouble(s.probs()), toDouble(s.tail()));
                Function<double[], LmKd.Targets> targets = x -> dense ? new LmKd.Targets(of(m, x, rows, VOCAB), null, null, null, 0)
                    : new LmKd.Targets(null, topK(s, m).ids(), of(m, java.util.Arrays.copyOf(x, rows * K), rows, K),
                    of(m, java.util.Arrays.copyOfRange(x, rows * K, rows * K + rows), rows), 0);
                Function<double[], Double> examAfterCourse = x -> {
                    try (NDManager scope = m.newSubManager()) {
                        LmKd.Step moved = LmKd.courseStep(student, theta, v, input, next, targets.apply(x), c, scope, null);
                        return LmTraining.loss(student, moved.theta(), quiz).getDouble();
                    }
                };
                LmKd.Targets sent = targets.apply(sentValues);
                LmKd.Step moved = LmKd.courseStep(student, theta, v, input, next, sent, c, m, m);
                NDArray z = student.logits(theta, input).reshape(rows, -1);
                assertThat(moved.logits().toDoubleArray()).as("the course logits the step kept").isEqualTo(z.toDoubleArray());
                double[] feedback;
                if (step == LmIkd.STEP) {
                    // What the student calls: the exam's gradient at θ', and the course logits its course step kept.
                    LmIkd.Exam exam = LmIkd.feedback(student, theta, moved, input, sent, quiz, c, m);
                    // The same exam a student of a frozen teacher takes, read from the gradient's pass.
                    assertThat(new double[] {exam.loss(), exam.accuracy()}).containsExactly(LmSteps.exam(student, moved.theta(), quiz));
                    feedback = exam.feedback().toDoubleArray();
                } else {
                    Params g = Autograd.of(moved.theta(), m, th -> LmTraining.loss(student, th, quiz)).gradient();
                    NDArray w = LmIkd.directional(student, theta, g, input, step, m).reshape(rows, -1);
                    double scale = c.learningRate() * c.alpha() * T * T / rows;
                    feedback = LmIkd.feedback(w, z, sent, T, scale).toDoubleArray();
                }
                // the dense feedback is [rows, V]; top-K's is [rows, K+1] as support then tail, the sent values' order is all supports then all tails
                double[] bruteForce = new double[sentValues.length];
                double h = 1e-5;
                for (int i = 0; i < sentValues.length; i++) {
                    double[] up = sentValues.clone();
                    double[] down = sentValues.clone();
                    up[i] += h;
                    down[i] -= h;
                    bruteForce[i] = (examAfterCourse.apply(up) - examAfterCourse.apply(down)) / (2 * h);
                }
                double[] ours = dense ? feedback : new double[sentValues.length];
                if (!dense) {
                    for (int row = 0; row < rows; row++) {
                        for (int j = 0; j < K; j++) {
                            ours[row * K + j] = feedback[row * (K + 1) + j];
                        }
                        ours[rows * K + row] = feedback[row * (K + 1) + K];
                    }
                }
                double biggest = 0;
                double worst = 0;
                for (int i = 0; i < ours.length; i++) {
                    biggest = Math.max(biggest, Math.abs(bruteForce[i]));
                    worst = Math.max(worst, Math.abs(bruteForce[i] - ours[i]));
                }
                assertThat(biggest).as("the exam moves with what was sent").isGreaterThan(1e-6);
                assertThat(worst / biggest).as("relative error").isLessThan(tolerance);
            }
        }
    }

    @Nested
    class Training {

        private final List<String> docs = LmCorpus.documents("lm:bundled", Path.of("data"));
        private final BytePairEncoding bpe = BytePairEncoding.train(docs, 300);
        private final int[][] seqs = LmCorpus.sequences(bpe, docs, 16);
        private final CausalTransformer teacher = CausalTransformer.parse("gpt:1:32:2:16", bpe.vocabSize());
        private final CausalTransformer student = CausalTransformer.parse("gpt:1:16:2:16", bpe.vocabSize());
        private final StudentConfig c = new StudentConfig(0.5, 0.9, 2, 0.7);
        private final int[][] course = java.util.Arrays.copyOfRange(seqs, 0, seqs.length - 6);
        private final int[][] quiz = java.util.Arrays.copyOfRange(seqs, seqs.length - 6, seqs.length);

        @Test
        void aTeacherThatDoesNotMoveTeachesExactlyAsKd() {
            try (NDManager m = NDManager.newBaseManager()) {
                Params t = teacher.init(1, DataType.FLOAT32, m);
                Params fresh = student.init(2, DataType.FLOAT32, m);
                LmKd.Encoding topk = LmKd.Encoding.parse("topk:8");
                LmKd.Trained kd = LmKd.train(student, fresh, teacher, t, topk, course, 6, 4, c, 5, m);
                LmKd.Trained still = LmKd.train(student, fresh, teacher, t, topk, new TeacherConfig(0, 0.9, 0, 1), course, quiz, 6, 4,
                    c, 5, m);
                assertThat(still.params().sha256()).isEqualTo(kd.params().sha256());
                assertThat(still.teacher().sha256()).isEqualTo(t.sha256());
            }
        }

        @Test
        void aLearningTeacherMovesTheSameWayEveryTimeOnEachEncodingAndLeash() {
            try (NDManager m = NDManager.newBaseManager()) {
                Params t = teacher.init(1, DataType.FLOAT32, m);
                Params fresh = student.init(2, DataType.FLOAT32, m);
                double before = LmTraining.perplexity(student, fresh, seqs, 16, m);
                for (String e : List.of("dense", "topk:8")) {
                    for (TeacherConfig learning : List.of(new TeacherConfig(0.5, 0.9, 0, 1),
                        new TeacherConfig(0.5, 0.9, 0.5, 1, Leash.parse("kl=1,clip=0.05,warmup=5,decay=cosine,every=2")))) {
                        LmKd.Encoding encoding = LmKd.Encoding.parse(e);
                        LmKd.Trained a = LmKd.train(student, fresh, teacher, t, encoding, learning, course, quiz, 8, 4, c, 5, m);
                        LmKd.Trained b = LmKd.train(student, fresh, teacher, t, encoding, learning, course, quiz, 8, 4, c, 5, m);
                        String what = e + " " + learning.leash();
                        assertThat(a.teacher().sha256()).as(what + ": the teacher learned").isNotEqualTo(t.sha256());
                        assertThat(b.teacher().sha256()).as(what + ": the same run, the same teacher").isEqualTo(a.teacher().sha256());
                        assertThat(b.params().sha256()).as(what + ": and the same student").isEqualTo(a.params().sha256());
                        assertThat(LmTraining.perplexity(student, a.params(), seqs, 16, m)).as(what + ": the student learned")
                            .isLessThan(before);
                    }
                }
            }
        }
    }

    private static LmKd.Targets topK(SparseTargets.TopK s, NDManager m) {
        long[] ids = new long[s.ids().length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = s.ids()[i];
        }
        return new LmKd.Targets(null, m.create(ids, new Shape(s.rows(), s.k())), of(m, toDouble(s.probs()), s.rows(), s.k()),
            of(m, toDouble(s.tail()), s.rows()), 0);
    }

    private static NDArray tokens(NDManager m, SplittableRandom r, int n, int l) {
        long[] t = new long[n * l];
        for (int i = 0; i < t.length; i++) {
            t[i] = r.nextInt(VOCAB);
        }
        return m.create(t, new Shape(n, l));
    }

    private static float[] probabilities(SplittableRandom r, int rows) {
        float[] p = new float[rows * VOCAB];
        for (int i = 0; i < rows; i++) {
            double[] q = SparseTargets.softmax(gaussian(r, VOCAB), 0, VOCAB, 0.7);
            for (int c = 0; c < VOCAB; c++) {
                p[i * VOCAB + c] = (float) q[c];
            }
        }
        return p;
    }

    private static NDArray of(NDManager m, double[] values, long... shape) {
        return Tensors.of(m, values, new Shape(shape), DataType.FLOAT64);
    }

    private static double[] gaussian(SplittableRandom r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = 2 * r.nextDouble() - 1 + 0.5 * (r.nextDouble() - 0.5);
        }
        return x;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void assertClose(double[] actual, double[] expected, double tolerance) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).as("entry " + i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(tolerance));
        }
    }
}
