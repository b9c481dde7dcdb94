package dev.ikd.core.learn;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Soft targets over a large vocabulary, compressed for the wire, and the exact feedback on the same
 * support (issue: language models). Per position (a row of a [rows, vocab] distribution p):
 * <ul>
 *   <li><b>top-K</b>: the K largest probabilities with their token ids (ties to the smaller id), and
 *   the rest of the mass as one tail bucket t = 1 − Σ_S p_j. The student's loss treats the tail as
 *   one more class whose probability is the student's own mass off the support, r = 1 − Σ_S q_j:
 *   {@code L = −Σ_S p_j log q_j − t log r}. With q = softmax(z/T) its gradient is
 *   {@code ∂L/∂z_c = (q_c − p_c)/T} on the support and {@code q_c (1 − t/r)/T} off it (where the
 *   sent numbers sum to 1; {@link #gradient} takes them as they are).</li>
 *   <li><b>sampled</b>: N draws with replacement from p, sent as (token id, count) pairs, the target
 *   count/N (unbiased; no tail). The draws come from a seed of the run, step and position, so a
 *   replay draws the same.</li>
 * </ul>
 *
 * <p><b>Feedback.</b> The course step θ' = θ − η ∇L_c depends on the sent numbers only through the
 * distillation term, so the student's exam loss L_e(θ') has, for a support token j and the tail,
 * {@code dL_e/dp_j = s · D_g log q_j} and {@code dL_e/dt = s · D_g log r}, where g = ∇L_e(θ'),
 * D_g the directional derivative at θ along g, and s = η α T² / B the course step's scale. Both
 * come from the dense directional derivative of the logits, w = D_g z (the student computes it
 * anyway, and it never leaves the student): {@code D_g log q_j = (w_j − Σ_c q_c w_c)/T} and
 * {@code D_g log r = −Σ_S q_j D_g log q_j / r}. The teacher, whose p = softmax(u/T) chose the support,
 * back-propagates them exactly: t = 1 − Σ_S p_j makes them the dense vector e_j = d_j − d_t on S
 * (0 off it) through its softmax.
 */
public final class SparseTargets {

    private SparseTargets() {
    }

    /** Each row's K largest probabilities ([rows·K], ids ascending by rank), and its tail mass ([rows]). */
    public record TopK(int rows, int k, int[] ids, float[] probs, float[] tail) {
    }

    /** Each row's sampled tokens: ids ascending with their counts, out of {@code draws} draws. */
    public record Sampled(int draws, int[][] ids, int[][] counts) {
    }

    /** The top-K of each row of p ([rows·vocab]); the tail is 1 − Σ of the K in double, as float32. */
    public static TopK topK(float[] p, int rows, int vocab, int k) {
        if (k < 1 || k > vocab) {
            throw new IllegalArgumentException("topk:" + k + " needs 1 <= K <= the vocabulary (" + vocab + ")");
        }
        int[] ids = new int[rows * k];
        float[] probs = new float[rows * k];
        float[] tail = new float[rows];
        int[] heap = new int[k];
        for (int r = 0; r < rows; r++) {
            int base = r * vocab;
            // A heap of the K best so far, the worst on top (lower p, or equal p and larger id); O(V log K) a row.
            int size = 0;
            for (int c = 0; c < vocab; c++) {
                if (size < k) {
                    heap[size] = c;
                    up(heap, size++, p, base);
                } else if (worse(heap[0], c, p, base)) {
                    heap[0] = c;
                    down(heap, k, p, base);
                }
            }
            // Pop worst first: the K fill their row from the back, so it reads best first.
            double kept = 0;
            for (int j = k - 1; j >= 0; j--) {
                int c = heap[0];
                ids[r * k + j] = c;
                probs[r * k + j] = p[base + c];
                kept += p[base + c];
                heap[0] = heap[--size];
                down(heap, size, p, base);
            }
            tail[r] = (float) Math.max(0, 1 - kept);
        }
        return new TopK(rows, k, ids, probs, tail);
    }

    /** Whether token a ranks below token b: a lower probability, or the same and a larger id. */
    private static boolean worse(int a, int b, float[] p, int base) {
        float pa = p[base + a];
        float pb = p[base + b];
        return pa < pb || pa == pb && a > b;
    }

    private static void up(int[] heap, int i, float[] p, int base) {
        while (i > 0 && worse(heap[i], heap[(i - 1) / 2], p, base)) {
            int parent = (i - 1) / 2;
            int t = heap[i];
            heap[i] = heap[parent];
            heap[parent] = t;
            i = parent;
        }
    }

    private static void down(int[] heap, int size, float[] p, int base) {
        int i = 0;
        while (true) {
            int worst = i;
            for (int child = 2 * i + 1; child <= 2 * i + 2 && child < size; child++) {
                if (worse(heap[child], heap[worst], p, base)) {
                    worst = child;
                }
            }
            if (worst == i) {
                return;
            }
            int t = heap[i];
            heap[i] = heap[worst];
            heap[worst] = t;
            i = worst;
        }
    }

    /**
     * N draws with replacement from each row of p, from {@code seed} (the run's, mixed with the step)
     * and the row: the same seed draws the same, in any process.
     */
    public static Sampled sample(float[] p, int rows, int vocab, int draws, long seed) {
        if (draws < 1) {
            throw new IllegalArgumentException("sample:" + draws + " needs at least 1 draw");
        }
        int[][] ids = new int[rows][];
        int[][] counts = new int[rows][];
        double[] cumulative = new double[vocab];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < vocab; c++) {
                sum += p[r * vocab + c];
                cumulative[c] = sum;
            }
            SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + r);
            int[] hits = new int[vocab];
            for (int n = 0; n < draws; n++) {
                double u = random.nextDouble() * sum;
                int at = Arrays.binarySearch(cumulative, u);
                at = at >= 0 ? at + 1 : -at - 1;
                hits[Math.min(at, vocab - 1)]++;
            }
            int distinct = 0;
            for (int h : hits) {
                distinct += h > 0 ? 1 : 0;
            }
            ids[r] = new int[distinct];
            counts[r] = new int[distinct];
            for (int c = 0, i = 0; c < vocab; c++) {
                if (hits[c] > 0) {
                    ids[r][i] = c;
                    counts[r][i++] = hits[c];
                }
            }
        }
        return new Sampled(draws, ids, counts);
    }

    /** The top-K loss's gradient with respect to the student's logits z ([rows·vocab]) on the float32 numbers sent. */
    public static double[] gradient(double[] z, TopK s, int vocab, double temperature) {
        double[] probs = new double[s.probs().length];
        for (int i = 0; i < probs.length; i++) {
            probs[i] = s.probs()[i];
        }
        double[] tail = new double[s.rows()];
        for (int r = 0; r < tail.length; r++) {
            tail[r] = s.tail()[r];
        }
        return gradient(z, s.ids(), probs, tail, s.k(), vocab, temperature);
    }

    /**
     * The gradient of {@code L = −Σ_S p_j log q_j − t log r} with respect to z, the sent numbers taken
     * as they are (their sum P_S + t is 1 only up to rounding, so the general form):
     * {@code ∂L/∂z_c = (q_c (P_S + t) − p_c)/T} on the support and {@code q_c (P_S − t Q_S/r)/T} off it,
     * Q_S = Σ_S q_j, r = 1 − Q_S (> 0: a softmax gives every token some mass).
     */
    public static double[] gradient(double[] z, int[] ids, double[] probs, double[] tail, int k, int vocab, double temperature) {
        double[] out = new double[z.length];
        for (int r = 0; r < tail.length; r++) {
            double[] q = softmax(z, r * vocab, vocab, temperature);
            double onSupport = 0;
            double sent = 0;
            for (int j = 0; j < k; j++) {
                onSupport += q[ids[r * k + j]];
                sent += probs[r * k + j];
            }
            double off = sent - tail[r] * onSupport / (1 - onSupport);
            for (int c = 0; c < vocab; c++) {
                out[r * vocab + c] = q[c] * off / temperature;
            }
            for (int j = 0; j < k; j++) {
                int c = ids[r * k + j];
                out[r * vocab + c] = (q[c] * (sent + tail[r]) - probs[r * k + j]) / temperature;
            }
        }
        return out;
    }

    /**
     * The feedback on the support, [rows·(K+1)] (each row's K support tokens, then the tail), from the
     * directional derivative of the student's logits along its exam gradient, w = D_g z ([rows·vocab]),
     * its logits z at θ, and the course step's scale s = η α T² / B.
     */
    public static double[] feedback(double[] w, double[] z, TopK s, int vocab, double temperature, double scale) {
        int k = s.k();
        double[] out = new double[s.rows() * (k + 1)];
        for (int r = 0; r < s.rows(); r++) {
            double[] q = softmax(z, r * vocab, vocab, temperature);
            double mean = 0;
            for (int c = 0; c < vocab; c++) {
                mean += q[c] * w[r * vocab + c];
            }
            double onSupport = 0;
            double tail = 0;
            for (int j = 0; j < k; j++) {
                int c = s.ids()[r * k + j];
                double dLogQ = (w[r * vocab + c] - mean) / temperature;
                out[r * (k + 1) + j] = scale * dLogQ;
                onSupport += q[c];
                tail -= q[c] * dLogQ;
            }
            out[r * (k + 1) + k] = scale * tail / (1 - onSupport);
        }
        return out;
    }

    /**
     * The teacher's gradient with respect to its logits u ([rows·vocab]) from the feedback on the
     * support: e_j = d_j − d_t on S, 0 off it, back through p = softmax(u/T):
     * {@code dL/du_c = p_c (e_c − Σ_j p_j e_j) / T}.
     */
    public static double[] teacherGradient(double[] u, TopK s, double[] feedback, int vocab, double temperature) {
        int k = s.k();
        double[] out = new double[u.length];
        for (int r = 0; r < s.rows(); r++) {
            double[] p = softmax(u, r * vocab, vocab, temperature);
            double[] e = new double[vocab];
            double dTail = feedback[r * (k + 1) + k];
            for (int j = 0; j < k; j++) {
                e[s.ids()[r * k + j]] = feedback[r * (k + 1) + j] - dTail;
            }
            double pe = 0;
            for (int c = 0; c < vocab; c++) {
                pe += p[c] * e[c];
            }
            for (int c = 0; c < vocab; c++) {
                out[r * vocab + c] = p[c] * (e[c] - pe) / temperature;
            }
        }
        return out;
    }

    /** softmax(x/T) of the {@code n} values of {@code x} from {@code from}, in double. */
    public static double[] softmax(double[] x, int from, int n, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            max = Math.max(max, x[from + c] / temperature);
        }
        double sum = 0;
        double[] out = new double[n];
        for (int c = 0; c < n; c++) {
            out[c] = Math.exp(x[from + c] / temperature - max);
            sum += out[c];
        }
        for (int c = 0; c < n; c++) {
            out[c] /= sum;
        }
        return out;
    }
}
