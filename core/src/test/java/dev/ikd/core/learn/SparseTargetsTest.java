package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Compressed soft targets and their feedback against brute force, in double on a student whose
 * logits are linear in θ (z_i = θ x_i): the whole bilevel objective — course step on the sent
 * numbers, exam after it — differentiated by central differences.
 */
class SparseTargetsTest {

    static final int V = 7;
    static final int D = 3;
    static final int ROWS = 2;
    static final int K = 3;
    static final double T = 2;
    static final double ETA = 0.3;
    static final double ALPHA = 0.7;

    final Random random = new Random(11);
    final double[] theta = gaussian(V * D);
    final double[] x = gaussian(ROWS * D);
    final int[] labels = {1, 4};
    final double[] examX = gaussian(3 * D);
    final int[] examLabels = {0, 2, 6};

    double[] gaussian(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextGaussian();
        }
        return v;
    }

    static double[] logits(double[] theta, double[] x, int rows) {
        double[] z = new double[rows * V];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < V; c++) {
                for (int d = 0; d < D; d++) {
                    z[r * V + c] += theta[c * D + d] * x[r * D + d];
                }
            }
        }
        return z;
    }

    /** The top-K loss of logits z: −Σ_S p_j log q_j − t log(1 − Σ_S q_j), summed over rows. */
    static double loss(double[] z, int[] ids, double[] probs, double[] tail) {
        double l = 0;
        for (int r = 0; r < ROWS; r++) {
            double[] q = SparseTargets.softmax(z, r * V, V, T);
            double on = 0;
            for (int j = 0; j < K; j++) {
                l -= probs[r * K + j] * Math.log(q[ids[r * K + j]]);
                on += q[ids[r * K + j]];
            }
            l -= tail[r] * Math.log(1 - on);
        }
        return l;
    }

    /** The exam loss after one course step on (p_S, t): the bilevel objective of the sent numbers. */
    double examAfterCourse(int[] ids, double[] probs, double[] tail) {
        return examLoss(thetaAfter(ids, probs, tail));
    }

    double examLoss(double[] th) {
        double[] z = logits(th, examX, examLabels.length);
        double l = 0;
        for (int r = 0; r < examLabels.length; r++) {
            l -= Math.log(SparseTargets.softmax(z, r * V, V, 1)[examLabels[r]]);
        }
        return l / examLabels.length;
    }

    /** ∇_θ of the exam loss at θ'. */
    double[] examGradient(double[] th) {
        double[] z = logits(th, examX, examLabels.length);
        double[] g = new double[th.length];
        for (int r = 0; r < examLabels.length; r++) {
            double[] q = SparseTargets.softmax(z, r * V, V, 1);
            for (int c = 0; c < V; c++) {
                double dz = (q[c] - (c == examLabels[r] ? 1 : 0)) / examLabels.length;
                for (int d = 0; d < D; d++) {
                    g[c * D + d] += dz * examX[r * D + d];
                }
            }
        }
        return g;
    }

    static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    double[] teacherLogits() {
        return gaussian(ROWS * V);
    }

    @Test
    void theLossGradientIsThatOfTheLoss() {
        double[] z = gaussian(ROWS * V);
        double[] p = new double[ROWS * V];
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(SparseTargets.softmax(gaussian(V), 0, V, 1), 0, p, r * V, V);
        }
        SparseTargets.TopK s = SparseTargets.topK(toFloats(p), ROWS, V, K);
        double[] probs = new double[ROWS * K];
        double[] tail = new double[ROWS];
        for (int i = 0; i < probs.length; i++) {
            probs[i] = s.probs()[i];
        }
        for (int r = 0; r < ROWS; r++) {
            tail[r] = s.tail()[r];
        }
        tail[0] += 0.05; // numbers as sent need not sum to 1: the general form
        double[] analytic = SparseTargets.gradient(z, s.ids(), probs, tail, K, V, T);
        double h = 1e-6;
        for (int i = 0; i < z.length; i++) {
            double[] plus = z.clone();
            double[] minus = z.clone();
            plus[i] += h;
            minus[i] -= h;
            double brute = (loss(plus, s.ids(), probs, tail) - loss(minus, s.ids(), probs, tail)) / (2 * h);
            assertThat(analytic[i]).as("dL/dz[" + i + "]").isCloseTo(brute, org.assertj.core.data.Offset.offset(1e-8));
        }
    }

    @Test
    void theFeedbackOnTheSupportIsTheExactDerivativeOfTheExamLossAndTheTeacherBackPropagatesIt() {
        double[] u = teacherLogits();
        double[] p = new double[ROWS * V];
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(SparseTargets.softmax(u, r * V, V, T), 0, p, r * V, V);
        }
        int[] ids = SparseTargets.topK(toFloats(p), ROWS, V, K).ids();
        double[] probs = new double[ROWS * K];
        double[] tail = new double[ROWS];
        for (int r = 0; r < ROWS; r++) {
            double kept = 0;
            for (int j = 0; j < K; j++) {
                probs[r * K + j] = p[r * V + ids[r * K + j]];
                kept += probs[r * K + j];
            }
            tail[r] = 1 - kept;
        }
        // Analytic: the exam gradient at θ', the logits' directional derivative along it at θ (linear: g x), the feedback.
        double[] z = logits(theta, x, ROWS);
        double[] theta2 = thetaAfter(ids, probs, tail);
        double[] g = examGradient(theta2);
        double[] w = logits(g, x, ROWS);
        SparseTargets.TopK s = new SparseTargets.TopK(ROWS, K, ids, toFloats(probs), toFloats(tail));
        double[] d = SparseTargets.feedback(w, z, s, V, T, ETA * ALPHA * T * T / ROWS);
        double h = 1e-5;
        double worst = 0;
        double largest = 0;
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j <= K; j++) {
                double[] pp = probs.clone();
                double[] tp = tail.clone();
                double[] pm = probs.clone();
                double[] tm = tail.clone();
                if (j < K) {
                    pp[r * K + j] += h;
                    pm[r * K + j] -= h;
                } else {
                    tp[r] += h;
                    tm[r] -= h;
                }
                double brute = (examAfterCourse(ids, pp, tp) - examAfterCourse(ids, pm, tm)) / (2 * h);
                worst = Math.max(worst, Math.abs(d[r * (K + 1) + j] - brute));
                largest = Math.max(largest, Math.abs(brute));
            }
        }
        assertThat(largest).as("the exam loss depends on what was sent").isGreaterThan(1e-4);
        assertThat(worst / largest).as("max |analytic − brute| / max |brute|").isLessThan(1e-6);

        // The teacher: its logits u choose p, the support stays, t = 1 − Σ_S p_j follows.
        double[] analytic = SparseTargets.teacherGradient(u, s, d, V, T);
        worst = 0;
        largest = 0;
        for (int i = 0; i < u.length; i++) {
            double brute = (objectiveOfTeacher(plus(u, i, h), ids) - objectiveOfTeacher(plus(u, i, -h), ids)) / (2 * h);
            worst = Math.max(worst, Math.abs(analytic[i] - brute));
            largest = Math.max(largest, Math.abs(brute));
        }
        assertThat(worst / largest).as("teacher: max |analytic − brute| / max |brute|").isLessThan(1e-6);
    }

    static double[] plus(double[] v, int i, double h) {
        double[] out = v.clone();
        out[i] += h;
        return out;
    }

    double objectiveOfTeacher(double[] u, int[] ids) {
        double[] probs = new double[ROWS * K];
        double[] tail = new double[ROWS];
        for (int r = 0; r < ROWS; r++) {
            double[] p = SparseTargets.softmax(u, r * V, V, T);
            double kept = 0;
            for (int j = 0; j < K; j++) {
                probs[r * K + j] = p[ids[r * K + j]];
                kept += probs[r * K + j];
            }
            tail[r] = 1 - kept;
        }
        return examAfterCourse(ids, probs, tail);
    }

    /**
     * θ' = θ − η ∇L_c with the distillation term weighted α T²/B (SparseTargets.gradient, itself
     * checked against the loss below) and CE on the labels weighted (1−α)/B.
     */
    double[] thetaAfter(int[] ids, double[] probs, double[] tail) {
        double[] z = logits(theta, x, ROWS);
        double[] dz = SparseTargets.gradient(z, ids, probs, tail, K, V, T);
        double[] theta2 = theta.clone();
        for (int r = 0; r < ROWS; r++) {
            double[] q1 = SparseTargets.softmax(z, r * V, V, 1);
            for (int c = 0; c < V; c++) {
                double gc = ALPHA * T * T / ROWS * dz[r * V + c] + (1 - ALPHA) / ROWS * (q1[c] - (c == labels[r] ? 1 : 0));
                for (int d = 0; d < D; d++) {
                    theta2[c * D + d] -= ETA * gc * x[r * D + d];
                }
            }
        }
        return theta2;
    }

    @Test
    void topKKeepsTheLargestWithTiesToTheSmallerIdAndTheRestAsTheTail() {
        float[] p = {0.1f, 0.3f, 0.3f, 0.05f, 0.25f, 0f, 0f};
        SparseTargets.TopK s = SparseTargets.topK(p, 1, 7, 3);
        assertThat(s.ids()).containsExactly(1, 2, 4);
        assertThat(s.probs()).containsExactly(0.3f, 0.3f, 0.25f);
        assertThat(s.tail()[0]).isCloseTo(0.15f, org.assertj.core.data.Offset.offset(1e-6f));
        assertThatThrownBy(() -> SparseTargets.topK(p, 1, 7, 8)).hasMessage("topk:8 needs 1 <= K <= the vocabulary (7)");
    }

    @Test
    void topKIsTheFirstKOfTheWholeRowSortedByProbabilityThenId() {
        Random r = new Random(17);
        int vocab = 50;
        float[] p = new float[3 * vocab];
        for (int i = 0; i < p.length; i++) {
            p[i] = r.nextInt(12) / 64f; // many ties
        }
        for (int k : new int[] {1, 5, 17, vocab}) {
            SparseTargets.TopK s = SparseTargets.topK(p, 3, vocab, k);
            for (int row = 0; row < 3; row++) {
                int base = row * vocab;
                Integer[] order = new Integer[vocab];
                for (int c = 0; c < vocab; c++) {
                    order[c] = c;
                }
                java.util.Arrays.sort(order, (a, b) -> p[base + a] != p[base + b] ? Float.compare(p[base + b], p[base + a])
                    : Integer.compare(a, b));
                for (int j = 0; j < k; j++) {
                    assertThat(s.ids()[row * k + j]).as("k " + k + " row " + row + " rank " + j).isEqualTo(order[j]);
                }
            }
        }
    }

    @Test
    void samplingIsUnbiasedAndTheSameSeedDrawsTheSame() {
        float[] p = {0.5f, 0.25f, 0.125f, 0.125f, 0f};
        SparseTargets.Sampled a = SparseTargets.sample(p, 1, 5, 20_000, 42);
        SparseTargets.Sampled b = SparseTargets.sample(p, 1, 5, 20_000, 42);
        assertThat(a.ids()[0]).containsExactly(b.ids()[0]);
        assertThat(a.counts()[0]).containsExactly(b.counts()[0]);
        assertThat(a.ids()[0]).as("never a token of probability 0").containsExactly(0, 1, 2, 3);
        for (int i = 0; i < 4; i++) {
            // Within 5 standard deviations of the binomial: count/N is an unbiased estimate of p.
            double sd = Math.sqrt(20_000 * p[i] * (1 - p[i]));
            assertThat((double) a.counts()[0][i]).isCloseTo(20_000 * p[i], org.assertj.core.data.Offset.offset(5 * sd));
        }
        assertThat(SparseTargets.sample(p, 1, 5, 64, 43).counts()[0]).isNotEqualTo(SparseTargets.sample(p, 1, 5, 64, 42)
            .counts()[0]);
    }
}
