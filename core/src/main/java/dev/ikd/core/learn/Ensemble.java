package dev.ikd.core.learn;

/**
 * Several teachers' soft targets as one: p = Σ_k w_k ⊙ p_k, a weight per teacher and sample
 * ({@link TeacherWeighting}), and the feedback each teacher gets back — the exact derivative of the
 * student's exam loss with respect to its own soft targets, dL/dp_k, through the weighting:
 *
 * <pre>
 *   dL/dp_k[b,c] = w_k[b] d[b,c] + ∂L/∂w · ∂w/∂p_k[b,c]
 * </pre>
 *
 * where d = dL/dp is the single-teacher feedback the student computes anyway. Equal and fixed
 * weights do not depend on p_k, so the second term is 0. Under {@code confidence},
 * w_k = (1 − s_k)/(K − 1) with s = softmax_k(L_k), so with g_k[b] = Σ_c d[b,c] p_k[b,c] and
 * ḡ = Σ_k s_k g_k it is −s_k (g_k − ḡ)/(K − 1) · ∂L_k/∂p_k[b,c] (∂L_k/∂p_k: −1/p_k[y] at the label for
 * a labelled sample, −(log p_k[c] + 1) for an unlabelled one's entropy).
 *
 * <p>Everything is computed in double in plain Java, in one order, from the float32 values on the
 * wire: the student service and the in-process trainer call these same functions, so their weights,
 * targets and feedback agree to the bit. With one teacher, the targets and the feedback pass through
 * untouched.
 */
public final class Ensemble {

    /**
     * The smallest soft target a log is taken of: below it (a float32 softmax can give exactly 0) the
     * confidence uses this, and its derivative there is that of the constant.
     */
    static final double FLOOR = Float.MIN_NORMAL;

    private Ensemble() {
    }

    /**
     * The weight of each teacher for each sample, w[k][b] (each sample's weights sum to 1).
     *
     * @param p       the teachers' soft targets, [K][B·C] row-major
     * @param labels  each course sample's label (read only where {@code labeled})
     * @param labeled which course samples the student has the label of (null: all)
     */
    public static double[][] weights(TeacherWeighting w, double[][] p, int classes, int[] labels, boolean[] labeled) {
        int teachers = p.length;
        int rows = p[0].length / classes;
        double[][] out = new double[teachers][rows];
        switch (w.checkedFor(teachers).kind()) {
            case EQUAL -> {
                for (double[] row : out) {
                    java.util.Arrays.fill(row, 1.0 / teachers);
                }
            }
            case FIXED -> {
                double sum = 0;
                for (double v : w.fixed()) {
                    sum += v;
                }
                for (int k = 0; k < teachers; k++) {
                    java.util.Arrays.fill(out[k], w.fixed()[k] / sum);
                }
            }
            case CONFIDENCE -> {
                for (int b = 0; b < rows; b++) {
                    double[] s = softmaxOfLosses(p, b, classes, labels, labeled);
                    for (int k = 0; k < teachers; k++) {
                        out[k][b] = teachers == 1 ? 1 : (1 - s[k]) / (teachers - 1);
                    }
                }
            }
            default -> throw new IllegalStateException(w.kind().toString());
        }
        return out;
    }

    /** The student's soft targets: Σ_k w_k[b] p_k[b,c] ([B·C]); one teacher's pass through. */
    public static double[] combine(TeacherWeighting w, double[][] p, int classes, int[] labels, boolean[] labeled) {
        if (p.length == 1) {
            return p[0].clone();
        }
        return combine(weights(w, p, classes, labels, labeled), p, classes);
    }

    private static double[] combine(double[][] weights, double[][] p, int classes) {
        double[] out = new double[p[0].length];
        for (int i = 0; i < out.length; i++) {
            int b = i / classes;
            double sum = 0;
            for (int k = 0; k < p.length; k++) {
                sum += weights[k][b] * p[k][i];
            }
            out[i] = sum;
        }
        return out;
    }

    /** Each teacher's feedback dL/dp_k ([K][B·C]) from the student's d = dL/dp of the combined targets. */
    public static double[][] feedback(TeacherWeighting w, double[][] p, double[] d, int classes, int[] labels, boolean[] labeled) {
        if (p.length == 1) {
            return new double[][] {d.clone()};
        }
        return feedback(w, weights(w, p, classes, labels, labeled), p, d, classes, labels, labeled);
    }

    private static double[][] feedback(TeacherWeighting w, double[][] weights, double[][] p, double[] d, int classes, int[] labels,
                                       boolean[] labeled) {
        int teachers = p.length;
        int rows = d.length / classes;
        double[][] out = new double[teachers][d.length];
        for (int k = 0; k < teachers; k++) {
            for (int i = 0; i < d.length; i++) {
                out[k][i] = weights[k][i / classes] * d[i];
            }
        }
        if (w.kind() != TeacherWeighting.Kind.CONFIDENCE) {
            return out;
        }
        for (int b = 0; b < rows; b++) {
            double[] s = softmaxOfLosses(p, b, classes, labels, labeled);
            double[] g = new double[teachers];
            double mean = 0;
            for (int k = 0; k < teachers; k++) {
                for (int c = 0; c < classes; c++) {
                    g[k] += d[b * classes + c] * p[k][b * classes + c];
                }
                mean += s[k] * g[k];
            }
            boolean hasLabel = labeled == null || labeled[b];
            for (int k = 0; k < teachers; k++) {
                double byLoss = -s[k] * (g[k] - mean) / (teachers - 1);
                for (int c = 0; c < classes; c++) {
                    double q = p[k][b * classes + c];
                    double dLoss;
                    if (hasLabel) {
                        dLoss = c == labels[b] && q >= FLOOR ? -1 / q : 0;
                    } else {
                        dLoss = -(Math.log(Math.max(q, FLOOR)) + (q >= FLOOR ? 1 : 0));
                    }
                    out[k][b * classes + c] += byLoss * dLoss;
                }
            }
        }
        return out;
    }

    /**
     * One step's mix of the float32 soft targets a student received, its weights computed once: the
     * targets it learns from, each teacher's mean weight, and each teacher's feedback from its d.
     */
    public static Mix mix(TeacherWeighting w, float[][] p, int classes, int[] labels, boolean[] labeled) {
        double[][] pd = toDoubles(p);
        return new Mix(w, p, pd, weights(w, pd, classes, labels, labeled), classes, labels, labeled);
    }

    /** A step's soft targets and their weights (see {@link #mix}). */
    public static final class Mix {
        private final TeacherWeighting weighting;
        private final float[][] served;
        private final double[][] p;
        private final double[][] weights;
        private final int classes;
        private final int[] labels;
        private final boolean[] labeled;

        private Mix(TeacherWeighting weighting, float[][] served, double[][] p, double[][] weights, int classes, int[] labels,
                    boolean[] labeled) {
            this.weighting = weighting;
            this.served = served;
            this.p = p;
            this.weights = weights;
            this.classes = classes;
            this.labels = labels;
            this.labeled = labeled;
        }

        /** The float32 targets the student learns from; one teacher's pass through. */
        public float[] targets() {
            return p.length == 1 ? served[0].clone() : toFloats(combine(weights, p, classes));
        }

        /** Each teacher's float32 feedback from the student's float32 d = dL/dp of the targets; one teacher's is d. */
        public float[][] feedback(float[] d) {
            if (p.length == 1) {
                return new float[][] {d.clone()};
            }
            double[] dd = new double[d.length];
            for (int i = 0; i < d.length; i++) {
                dd[i] = d[i];
            }
            double[][] out = Ensemble.feedback(weighting, weights, p, dd, classes, labels, labeled);
            float[][] f = new float[out.length][];
            for (int k = 0; k < out.length; k++) {
                f[k] = toFloats(out[k]);
            }
            return f;
        }

        /** The mean weight of each teacher over the batch (for metrics and the dashboard). */
        public double[] meanWeights() {
            double[] mean = new double[weights.length];
            for (int k = 0; k < weights.length; k++) {
                for (double v : weights[k]) {
                    mean[k] += v / weights[k].length;
                }
            }
            return mean;
        }
    }

    /** softmax over the teachers of their loss on sample b: cross-entropy at its label, or entropy without one. */
    private static double[] softmaxOfLosses(double[][] p, int b, int classes, int[] labels, boolean[] labeled) {
        int teachers = p.length;
        double[] loss = new double[teachers];
        boolean hasLabel = labeled == null || labeled[b];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < teachers; k++) {
            if (hasLabel) {
                loss[k] = -Math.log(Math.max(p[k][b * classes + labels[b]], FLOOR));
            } else {
                double h = 0;
                for (int c = 0; c < classes; c++) {
                    double q = p[k][b * classes + c];
                    h -= q * Math.log(Math.max(q, FLOOR));
                }
                loss[k] = h;
            }
            max = Math.max(max, loss[k]);
        }
        double sum = 0;
        double[] s = new double[teachers];
        for (int k = 0; k < teachers; k++) {
            s[k] = Math.exp(loss[k] - max);
            sum += s[k];
        }
        for (int k = 0; k < teachers; k++) {
            s[k] /= sum;
        }
        return s;
    }

    private static double[][] toDoubles(float[][] p) {
        double[][] out = new double[p.length][];
        for (int k = 0; k < p.length; k++) {
            out[k] = new double[p[k].length];
            for (int i = 0; i < p[k].length; i++) {
                out[k][i] = p[k][i];
            }
        }
        return out;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
