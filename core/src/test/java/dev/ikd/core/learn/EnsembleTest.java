package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Several teachers' soft targets as one, against brute force: each teacher's feedback is the
 * derivative of a loss of the combined targets with respect to that teacher's own targets, checked
 * by central differences in double for every weighting, labelled and unlabelled samples alike.
 */
class EnsembleTest {

    static final int TEACHERS = 3;
    static final int ROWS = 6;
    static final int CLASSES = 4;

    /** Rows of probabilities (positive, each summing to 1), a different draw per teacher. */
    static double[][] softTargets(long seed) {
        var random = new SplittableRandom(seed);
        double[][] p = new double[TEACHERS][ROWS * CLASSES];
        for (double[] t : p) {
            for (int b = 0; b < ROWS; b++) {
                double sum = 0;
                for (int c = 0; c < CLASSES; c++) {
                    t[b * CLASSES + c] = Math.exp(3 * random.nextDouble() - 1.5);
                    sum += t[b * CLASSES + c];
                }
                for (int c = 0; c < CLASSES; c++) {
                    t[b * CLASSES + c] /= sum;
                }
            }
        }
        return p;
    }

    static final int[] LABELS = {0, 3, 1, 2, 2, 0};
    static final boolean[] LABELED = {true, false, true, true, false, true};

    /** A smooth loss of the combined targets, L(q) = Σ a q + ½ Σ q², and its gradient a + q. */
    static double loss(double[] q, double[] a) {
        double l = 0;
        for (int i = 0; i < q.length; i++) {
            l += a[i] * q[i] + 0.5 * q[i] * q[i];
        }
        return l;
    }

    @Test
    void eachTeachersFeedbackIsTheDerivativeOfTheLossWithRespectToItsOwnSoftTargets() {
        double[] a = new double[ROWS * CLASSES];
        var random = new SplittableRandom(7);
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextDouble() * 2 - 1;
        }
        for (TeacherWeighting w : List.of(TeacherWeighting.EQUAL, TeacherWeighting.parse("fixed:1,2,5"), TeacherWeighting.CONFIDENCE)) {
            double[][] p = softTargets(11);
            double[] q = Ensemble.combine(w, p, CLASSES, LABELS, LABELED);
            double[] d = new double[q.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = a[i] + q[i];
            }
            double[][] analytic = Ensemble.feedback(w, p, d, CLASSES, LABELS, LABELED);
            double h = 1e-6;
            double worst = 0;
            double scale = 0;
            for (int k = 0; k < TEACHERS; k++) {
                for (int i = 0; i < p[k].length; i++) {
                    double[][] plus = copy(p);
                    double[][] minus = copy(p);
                    plus[k][i] += h;
                    minus[k][i] -= h;
                    double brute = (loss(Ensemble.combine(w, plus, CLASSES, LABELS, LABELED), a)
                        - loss(Ensemble.combine(w, minus, CLASSES, LABELS, LABELED), a)) / (2 * h);
                    worst = Math.max(worst, Math.abs(brute - analytic[k][i]));
                    scale = Math.max(scale, Math.abs(brute));
                }
            }
            assertThat(worst / scale).as(w + ": max |analytic − brute| / max |brute|").isLessThan(1e-7);
        }
    }

    @Test
    void confidenceTakesTheChainRuleThroughTheWeightsWhichEqualWeightsDoNot() {
        double[][] p = softTargets(3);
        double[] d = new double[ROWS * CLASSES];
        java.util.Arrays.fill(d, 1.0);
        d[0] = 3; // not along all-ones in sample 0, where a change of weight would change nothing
        d[5] = -2;
        double[][] equal = Ensemble.feedback(TeacherWeighting.EQUAL, p, d, CLASSES, LABELS, LABELED);
        double[][] confidence = Ensemble.feedback(TeacherWeighting.CONFIDENCE, p, d, CLASSES, LABELS, LABELED);
        double[][] weights = Ensemble.weights(TeacherWeighting.CONFIDENCE, p, CLASSES, LABELS, LABELED);
        assertThat(equal[0][0]).isEqualTo(d[0] / TEACHERS);
        assertThat(confidence[0][1]).as("off the label of a labelled sample: the weight alone").isEqualTo(weights[0][0] * d[1]);
        assertThat(confidence[0][0]).as("at the label: the weight moves with the target").isNotEqualTo(weights[0][0] * d[0]);
    }

    @Test
    void theWeightsOfEverySampleSumToOneAndConfidenceFavoursTheSurerTeacher() {
        double[][] p = softTargets(5);
        for (TeacherWeighting w : List.of(TeacherWeighting.EQUAL, TeacherWeighting.parse("fixed:0,1,3"), TeacherWeighting.CONFIDENCE)) {
            double[][] weights = Ensemble.weights(w, p, CLASSES, LABELS, LABELED);
            for (int b = 0; b < ROWS; b++) {
                double sum = 0;
                for (double[] row : weights) {
                    assertThat(row[b]).isBetween(0.0, 1.0);
                    sum += row[b];
                }
                assertThat(sum).as(w + " sample " + b).isCloseTo(1.0, within(1e-12));
            }
        }
        assertThat(Ensemble.weights(TeacherWeighting.parse("fixed:0,1,3"), p, CLASSES, LABELS, LABELED)[2][0]).isEqualTo(0.75);
        // Teacher 0 puts 0.9 on sample 0's label, teacher 1 0.1, teacher 2 0.5: the weights follow.
        p[0][0] = 0.9;
        p[1][0] = 0.1;
        p[2][0] = 0.5;
        double[][] weights = Ensemble.weights(TeacherWeighting.CONFIDENCE, p, CLASSES, LABELS, LABELED);
        assertThat(weights[0][0]).isGreaterThan(weights[2][0]);
        assertThat(weights[2][0]).isGreaterThan(weights[1][0]);
        // Sample 1 has no label: the teacher of lower entropy weighs more.
        for (int c = 0; c < CLASSES; c++) {
            p[0][CLASSES + c] = c == 2 ? 0.97 : 0.01;
            p[1][CLASSES + c] = 0.25;
            p[2][CLASSES + c] = c == 2 ? 0.7 : 0.1;
        }
        weights = Ensemble.weights(TeacherWeighting.CONFIDENCE, p, CLASSES, LABELS, LABELED);
        assertThat(weights[0][1]).isGreaterThan(weights[2][1]);
        assertThat(weights[2][1]).isGreaterThan(weights[1][1]);
    }

    @Test
    void oneTeachersTargetsAndFeedbackPassThroughToTheBit() {
        float[][] p = {{0.1f, 0.2f, 0.3f, 0.4f}};
        float[] d = {1e-3f, -2e-3f, 0, 5e-4f};
        for (TeacherWeighting w : List.of(TeacherWeighting.EQUAL, TeacherWeighting.CONFIDENCE, TeacherWeighting.parse("fixed:2"))) {
            Ensemble.Mix mix = Ensemble.mix(w, p, CLASSES, new int[] {1}, null);
            assertThat(mix.targets()).containsExactly(p[0]);
            assertThat(mix.feedback(d)[0]).containsExactly(d);
        }
    }

    @Test
    void aMixOfFloat32TargetsIsTheDoubleMathRoundedOnce() {
        double[][] exact = softTargets(5);
        float[][] p = new float[exact.length][exact[0].length];
        double[][] wire = new double[exact.length][exact[0].length];
        for (int k = 0; k < p.length; k++) {
            for (int i = 0; i < p[k].length; i++) {
                p[k][i] = (float) exact[k][i];
                wire[k][i] = p[k][i];
            }
        }
        float[] d = new float[ROWS * CLASSES];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) Math.sin(i + 1) * 1e-3f;
        }
        double[] dd = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            dd[i] = d[i];
        }
        for (TeacherWeighting w : List.of(TeacherWeighting.EQUAL, TeacherWeighting.CONFIDENCE, TeacherWeighting.parse("fixed:1,3,0.5"))) {
            Ensemble.Mix mix = Ensemble.mix(w, p, CLASSES, LABELS, LABELED);
            double[] combined = Ensemble.combine(w, wire, CLASSES, LABELS, LABELED);
            double[][] shares = Ensemble.feedback(w, wire, dd, CLASSES, LABELS, LABELED);
            double[][] weights = Ensemble.weights(w, wire, CLASSES, LABELS, LABELED);
            for (int i = 0; i < combined.length; i++) {
                assertThat(mix.targets()[i]).isEqualTo((float) combined[i]);
            }
            for (int k = 0; k < p.length; k++) {
                for (int i = 0; i < dd.length; i++) {
                    assertThat(mix.feedback(d)[k][i]).isEqualTo((float) shares[k][i]);
                }
                double mean = 0;
                for (double v : weights[k]) {
                    mean += v / weights[k].length;
                }
                assertThat(mix.meanWeights()[k]).isEqualTo(mean);
            }
        }
    }

    @Test
    void aStepWithoutATeacherWeighsThosePresentAmongThemselves() {
        double[][] p = softTargets(3);
        double[][] present = {p[0], p[2]};
        int[] which = {0, 2};
        // Fixed weights 1, 3, 0.5 without the second teacher: 1 and 0.5, renormalised to 2/3 and 1/3.
        double[][] fixed = Ensemble.weights(TeacherWeighting.parse("fixed:1,3,0.5").among(which), present, CLASSES, LABELS, LABELED);
        assertThat(fixed[0][0]).isCloseTo(2.0 / 3, org.assertj.core.data.Offset.offset(1e-15));
        assertThat(fixed[1][0]).isCloseTo(1.0 / 3, org.assertj.core.data.Offset.offset(1e-15));
        // Equal and confidence over the two present are those of a run of two teachers.
        for (TeacherWeighting w : List.of(TeacherWeighting.EQUAL, TeacherWeighting.CONFIDENCE)) {
            assertThat(w.among(which)).isEqualTo(w);
            double[][] two = Ensemble.weights(w.among(which), present, CLASSES, LABELS, LABELED);
            for (int b = 0; b < ROWS; b++) {
                assertThat(two[0][b] + two[1][b]).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-12));
            }
        }
        assertThat(TeacherWeighting.parse("fixed:1,0,2").hasZeroWeight()).isTrue();
        assertThat(TeacherWeighting.parse("fixed:1,1,2").hasZeroWeight()).isFalse();
    }

    @Test
    void aSoftTargetOfZeroLeavesEverythingFinite() {
        double[][] p = softTargets(9);
        for (int c = 0; c < CLASSES; c++) {
            p[1][c] = c == 1 ? 1 : 0; // sample 0's label is 0: teacher 1 gives it exactly 0
            p[2][CLASSES + c] = c == 0 ? 1 : 0; // sample 1 is unlabelled: teacher 2 is certain
        }
        double[] d = new double[ROWS * CLASSES];
        java.util.Arrays.fill(d, 0.5);
        for (double[] row : Ensemble.feedback(TeacherWeighting.CONFIDENCE, p, d, CLASSES, LABELS, LABELED)) {
            for (double v : row) {
                assertThat(v).isFinite();
            }
        }
    }

    @Test
    void aWeightingIsParsedOrRefusedWithOneLine() {
        assertThat(TeacherWeighting.parse(" Confidence ")).isEqualTo(TeacherWeighting.CONFIDENCE);
        assertThat(TeacherWeighting.parse("fixed:1,0.5").toString()).isEqualTo("fixed:1,0.5");
        assertThatThrownBy(() -> TeacherWeighting.parse("fixed:1,-2")).hasMessage(
            "--teacher-weighting fixed: weight 2 must be a finite number >= 0, got -2");
        assertThatThrownBy(() -> TeacherWeighting.parse("fixed:0,0")).hasMessage(
            "--teacher-weighting fixed: the weights must not all be 0");
        assertThatThrownBy(() -> TeacherWeighting.parse("fixed:1,x")).hasMessage(
            "--teacher-weighting fixed: weight 2 is not a number: 'x'");
        assertThatThrownBy(() -> TeacherWeighting.parse("best")).hasMessage(
            "--teacher-weighting must be equal, confidence or fixed:W1,W2,..., got 'best'");
        assertThatThrownBy(() -> TeacherWeighting.parse("fixed:1,2").checkedFor(3)).hasMessage(
            "--teacher-weighting fixed:1,2 gives 2 weights for 3 teachers");
    }

    static double[][] copy(double[][] p) {
        double[][] out = new double[p.length][];
        for (int k = 0; k < p.length; k++) {
            out[k] = p[k].clone();
        }
        return out;
    }
}
