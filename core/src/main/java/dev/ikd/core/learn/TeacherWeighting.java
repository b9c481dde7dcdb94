package dev.ikd.core.learn;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a student weighs several teachers' soft targets, per sample ({@code --teacher-weighting}):
 * <ul>
 *   <li>{@code equal}: 1/K each;</li>
 *   <li>{@code fixed:W1,...,WK}: the given weights (≥ 0, not all 0), normalised to sum 1;</li>
 *   <li>{@code confidence}: CA-MKD's per-sample weight, w_k = (1 − softmax_k(L_k)) / (K − 1), where L_k
 *   is teacher k's cross-entropy on the sample's true label (−log p_k[y], from the soft targets it
 *   sent) for a labelled sample, and its entropy (−Σ_c p_k[c] log p_k[c]) for an unlabelled one: a
 *   teacher that is surer — of the right class where the student knows it — weighs more.</li>
 * </ul>
 * With one teacher every weighting is that teacher alone.
 */
public record TeacherWeighting(Kind kind, double[] fixed) {

    public enum Kind { EQUAL, FIXED, CONFIDENCE }

    public static final TeacherWeighting EQUAL = new TeacherWeighting(Kind.EQUAL, null);
    public static final TeacherWeighting CONFIDENCE = new TeacherWeighting(Kind.CONFIDENCE, null);

    public TeacherWeighting {
        if ((kind == Kind.FIXED) != (fixed != null)) {
            throw new IllegalArgumentException("fixed weights go with the fixed weighting only");
        }
        fixed = fixed == null ? null : fixed.clone();
    }

    /** {@code equal}, {@code confidence} or {@code fixed:W1,W2,...}, or a one-line refusal naming what is wrong. */
    public static TeacherWeighting parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("equal")) {
            return EQUAL;
        }
        if (t.equals("confidence")) {
            return CONFIDENCE;
        }
        if (!t.startsWith("fixed:")) {
            throw new IllegalArgumentException("--teacher-weighting must be equal, confidence or fixed:W1,W2,..., got '" + text + "'");
        }
        String[] parts = t.substring("fixed:".length()).split(",", -1);
        double[] w = new double[parts.length];
        double sum = 0;
        for (int i = 0; i < parts.length; i++) {
            try {
                w[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--teacher-weighting fixed: weight " + (i + 1) + " is not a number: '" + parts[i]
                    + "'");
            }
            if (!(w[i] >= 0) || Double.isInfinite(w[i])) {
                throw new IllegalArgumentException("--teacher-weighting fixed: weight " + (i + 1) + " must be a finite number >= 0, got "
                    + parts[i].strip());
            }
            sum += w[i];
        }
        if (sum == 0) {
            throw new IllegalArgumentException("--teacher-weighting fixed: the weights must not all be 0");
        }
        return new TeacherWeighting(Kind.FIXED, w);
    }

    /** Refuses a weighting that does not fit {@code teachers} teachers (fixed weights of another count). */
    public TeacherWeighting checkedFor(int teachers) {
        if (teachers < 1) {
            throw new IllegalArgumentException("a run needs at least 1 teacher, got " + teachers);
        }
        if (kind == Kind.FIXED && fixed.length != teachers) {
            throw new IllegalArgumentException("--teacher-weighting " + this + " gives " + fixed.length + " weights for " + teachers
                + " teachers");
        }
        return this;
    }

    /**
     * This weighting among the teachers {@code present} (indices into the run's teachers, ascending)
     * when a step goes ahead without the others: equal and confidence over those present, fixed
     * weights of those present (normalised again when used).
     */
    public TeacherWeighting among(int[] present) {
        if (kind != Kind.FIXED) {
            return this;
        }
        double[] w = new double[present.length];
        for (int i = 0; i < present.length; i++) {
            w[i] = fixed[present[i]];
        }
        return new TeacherWeighting(Kind.FIXED, w);
    }

    /** Whether some teacher's fixed weight is 0 (a step without the others could then have no weight at all). */
    public boolean hasZeroWeight() {
        return kind == Kind.FIXED && Arrays.stream(fixed).anyMatch(v -> v == 0);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case EQUAL -> "equal";
            case CONFIDENCE -> "confidence";
            case FIXED -> "fixed:" + String.join(",", Arrays.stream(fixed).mapToObj(TeacherWeighting::number).toList());
        };
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TeacherWeighting w && w.kind == kind && Arrays.equals(w.fixed, fixed);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Arrays.hashCode(fixed);
    }
}
