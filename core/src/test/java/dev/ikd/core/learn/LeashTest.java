package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.model.Tensors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The brakes on a learning teacher (docs/architecture.md §2), each on its own, and the drift it measures. */
class LeashTest {

    static final Dataset DIGITS = Datasets.digits();
    static final Network NET = Network.build(ModelSpec.parse("mlp:8:6"), DIGITS);
    static final int[] IDS = {10, 20, 30, 40};
    static final double T = 2;
    static final double LR = 0.05;

    static float[] feedback(double scale) {
        float[] d = new float[IDS.length * 10];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (Math.sin(i + 1) * scale);
        }
        return d;
    }

    /** φ after one exam step of a fresh IKD teacher on the leash, at step k of {@code steps}. */
    static Params afterOneStep(Leash leash, float[] d, long k, long steps, DataType type, NDManager m) {
        Params phi = NET.init(5, type, m);
        try (Teacher t = Teacher.enroll(NET, phi, TeacherMode.IKD, new TeacherConfig(LR, 0.9, 0, 4, leash), T, 3, m)) {
            NDArray x = DIGITS.trainFeatures(m, IDS, type);
            t.learn(new Teacher.Batch(IDS, x, m), DIGITS.trainLabels(IDS), Tensors.of(m, d, new Shape(IDS.length, 10), type),
                m.zeros(new Shape(IDS.length, 10), type), new Teacher.At(k, steps, null, null));
            return t.trainable().copy(m);
        }
    }

    @Nested
    class Parsing {
        @Test
        void bracesReadAndPrintTheSame() {
            Leash l = Leash.parse("kl=0.5, warmup=20,decay=cosine,clip=0.05,every=4");
            assertThat(l).isEqualTo(new Leash(0.5, 20, Leash.Decay.COSINE, 0.05, 4));
            assertThat(Leash.parse(l.toString())).isEqualTo(l);
            assertThat(Leash.parse("none")).isEqualTo(Leash.NONE);
            assertThat(Leash.NONE.toString()).isEqualTo("none");
            assertThat(Leash.NONE.on()).isFalse();
            Leash pilot = Leash.parse("kl=1,pilot=1");
            assertThat(pilot.pilot()).isTrue();
            assertThat(pilot.toString()).isEqualTo("kl=1.0,pilot=1");
            assertThat(Leash.parse(pilot.toString())).isEqualTo(pilot);
            assertThat(Leash.parse("pilot=0")).isEqualTo(Leash.NONE);
        }

        @Test
        void badBrakesAreRefusedWithOneLine() {
            assertThatThrownBy(() -> Leash.parse("kl")).hasMessageContaining("'kl' is not name=value");
            assertThatThrownBy(() -> Leash.parse("kl=-1")).hasMessage("teacher leash kl must be a finite number >= 0, got -1.0");
            assertThatThrownBy(() -> Leash.parse("every=0")).hasMessage("teacher leash every must be at least 1 step, got 0");
            assertThatThrownBy(() -> Leash.parse("decay=sometimes"))
                .hasMessage("teacher leash 'decay=sometimes': decay is none, linear or cosine, got 'sometimes'");
            assertThatThrownBy(() -> Leash.parse("speed=3")).hasMessage("teacher leash 'speed=3': unknown brake 'speed'; known: kl, "
                + "warmup, decay, clip, every, pilot");
            assertThatThrownBy(() -> Leash.parse("pilot=yes")).hasMessage("teacher leash 'pilot=yes': pilot is 1 (on) or 0 (off), got "
                + "'yes'");
        }
    }

    @Nested
    class Schedule {
        @Test
        void theRateRisesOverTheWarmupAndFallsToZeroOverTheRun() {
            Leash warm = new Leash(0, 4, Leash.Decay.NONE, 0, 1);
            assertThat(warm.rateFactor(0, 100)).isEqualTo(0.25);
            assertThat(warm.rateFactor(3, 100)).isEqualTo(1.0);
            assertThat(new Leash(0, 0, Leash.Decay.LINEAR, 0, 1).rateFactor(50, 100)).isEqualTo(0.5);
            assertThat(new Leash(0, 0, Leash.Decay.COSINE, 0, 1).rateFactor(50, 100)).isCloseTo(0.5, within(1e-15));
            assertThat(new Leash(0, 0, Leash.Decay.COSINE, 0, 1).rateFactor(0, 100)).isEqualTo(1.0);
        }

        @Test
        void aWarmupStepIsTheStepOfASmallerRate() {
            try (NDManager m = NDManager.newBaseManager()) {
                Params warm = afterOneStep(new Leash(0, 2, Leash.Decay.NONE, 0, 1), feedback(1e-2), 0, 10, DataType.FLOAT32, m);
                Params plain = NET.init(5, DataType.FLOAT32, m);
                try (Teacher t = Teacher.enroll(NET, plain, TeacherMode.IKD, new TeacherConfig(LR * 0.5, 0.9, 0, 4), T, 3, m)) {
                    t.learn(new Teacher.Batch(IDS, DIGITS.trainFeatures(m, IDS, DataType.FLOAT32), m), DIGITS.trainLabels(IDS),
                        Tensors.of(m, feedback(1e-2), new Shape(IDS.length, 10), DataType.FLOAT32),
                        m.zeros(new Shape(IDS.length, 10), DataType.FLOAT32));
                    assertThat(warm.sha256()).isEqualTo(t.trainable().sha256());
                }
            }
        }
    }

    @Nested
    class Clip {
        @Test
        void aLongFeedbackMovesTheTeacherAsItsShortenedCopyAndAShortOneAsItIs() {
            try (NDManager m = NDManager.newBaseManager()) {
                float[] d = feedback(1.0);
                double norm = 0;
                for (float v : d) {
                    norm += v * v;
                }
                norm = Math.sqrt(norm);
                double c = 0.1;
                float[] shortened = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    shortened[i] = (float) (d[i] * (c / norm));
                }
                Params clipped = afterOneStep(new Leash(0, 0, Leash.Decay.NONE, c, 1), d, 0, 10, DataType.FLOAT64, m);
                Params manual = afterOneStep(Leash.NONE, shortened, 0, 10, DataType.FLOAT64, m);
                for (String n : clipped.names()) {
                    double[] a = clipped.get(n).toDoubleArray();
                    double[] b = manual.get(n).toDoubleArray();
                    for (int i = 0; i < a.length; i++) {
                        assertThat(a[i]).as(n).isCloseTo(b[i], within(1e-9));
                    }
                }
                assertThat(afterOneStep(new Leash(0, 0, Leash.Decay.NONE, 1e6, 1), d, 0, 10, DataType.FLOAT64, m).sha256())
                    .as("a feedback shorter than the clip").isEqualTo(afterOneStep(Leash.NONE, d, 0, 10, DataType.FLOAT64, m).sha256());
            }
        }
    }

    @Nested
    class TrustRegion {
        /**
         * The update with the KL brake is the gradient of ⟨d, p(φ)⟩ + λ T² KL(p0 ‖ p(φ)): checked
         * against central differences of that objective in float64 (at step 0 the velocity is the gradient).
         */
        @Test
        void theUpdateIsTheGradientOfTheObjectiveWithTheTrustRegion() {
            double lambda = 3;
            try (NDManager m = NDManager.newBaseManager()) {
                float[] d = feedback(1e-1);
                Params start = NET.init(5, DataType.FLOAT64, m);
                Params after = afterOneStep(new Leash(lambda, 0, Leash.Decay.NONE, 0, 1), d, 0, 10, DataType.FLOAT64, m);
                NDArray x = DIGITS.trainFeatures(m, IDS, DataType.FLOAT64);
                NDArray dArray = Tensors.of(m, d, new Shape(IDS.length, 10), DataType.FLOAT64);
                // Displace the starting point a little so the KL term has a gradient of its own to check.
                Params phi = start.map((n, a) -> a.add(Tensors.scalar(a, 0.01)));
                NDArray p0 = Losses.softTargets(NET.logits(start, x), T);
                java.util.function.Function<Params, Double> objective = w -> {
                    NDArray u = NET.forward(w, x, Swap.NONE).logits();
                    return Losses.softTargets(u, T).mul(dArray).sum()
                        .add(Losses.distillation(u, p0, T).mul(Tensors.scalar(u, lambda * T * T))).getDouble();
                };
                // The teacher's own gradient at φ: one step from φ with zero velocity moves by −η g.
                Params displacedAfter;
                try (Teacher t = Teacher.enroll(NET, start, TeacherMode.IKD, new TeacherConfig(LR, 0.9, 0, 4,
                    new Leash(lambda, 0, Leash.Decay.NONE, 0, 1)), T, 3, m)) {
                    t.restore(phi, phi.map((n, a) -> m.zeros(a.getShape(), a.getDataType())), 0, null, 0);
                    t.learn(new Teacher.Batch(IDS, x, m), DIGITS.trainLabels(IDS), dArray, m.zeros(new Shape(IDS.length, 10),
                        DataType.FLOAT64), Teacher.At.ALONE);
                    displacedAfter = t.trainable().copy(m);
                }
                double h = 1e-6;
                int checked = 0;
                for (String n : new String[] {"stage1.w1", "head.b"}) {
                    double[] w = phi.get(n).toDoubleArray();
                    double[] moved = displacedAfter.get(n).toDoubleArray();
                    for (int i = 0; i < Math.min(6, w.length); i++) {
                        final int at = i;
                        java.util.function.DoubleFunction<Params> with = v -> phi.map((name, a) -> {
                            if (!name.equals(n)) {
                                return a;
                            }
                            double[] copy = a.toDoubleArray();
                            copy[at] = v;
                            return Tensors.of(m, copy, a.getShape(), DataType.FLOAT64);
                        });
                        double numeric = (objective.apply(with.apply(w[i] + h)) - objective.apply(with.apply(w[i] - h))) / (2 * h);
                        double shipped = (w[i] - moved[i]) / LR;
                        assertThat(shipped).as("%s[%d]", n, i).isCloseTo(numeric, within(1e-6 + 1e-4 * Math.abs(numeric)));
                        checked++;
                    }
                }
                assertThat(checked).isEqualTo(12);
                // At its starting point the KL term has no gradient: the first step is the unbraked one, up to rounding.
                Params unbraked = afterOneStep(Leash.NONE, d, 0, 10, DataType.FLOAT64, m);
                for (String n : after.names()) {
                    double[] a = after.get(n).toDoubleArray();
                    double[] b = unbraked.get(n).toDoubleArray();
                    for (int i = 0; i < a.length; i++) {
                        assertThat(a[i]).as(n).isCloseTo(b[i], within(1e-12));
                    }
                }
            }
        }
    }

    @Nested
    class Every {
        @Test
        void gradientsGatherUntilTheKthStepAndARestoredTeacherGoesOnBitForBit() {
            try (NDManager m = NDManager.newBaseManager()) {
                Params phi = NET.init(5, DataType.FLOAT32, m);
                TeacherConfig config = new TeacherConfig(LR, 0.9, 0, 4, new Leash(0, 0, Leash.Decay.NONE, 0, 3));
                NDArray x = DIGITS.trainFeatures(m, IDS, DataType.FLOAT32);
                NDArray zeros = m.zeros(new Shape(IDS.length, 10), DataType.FLOAT32);
                try (Teacher a = Teacher.enroll(NET, phi, TeacherMode.IKD, config, T, 3, m);
                     Teacher b = Teacher.enroll(NET, phi, TeacherMode.IKD, config, T, 3, m)) {
                    String before = a.trainable().sha256();
                    for (long k = 0; k < 6; k++) {
                        NDArray d = Tensors.of(m, feedback(1e-2 * (k + 1)), new Shape(IDS.length, 10), DataType.FLOAT32);
                        a.learn(new Teacher.Batch(IDS, x, m), DIGITS.trainLabels(IDS), d, zeros, new Teacher.At(k, 6, null, null));
                        if (k == 0 || k == 1) {
                            assertThat(a.trainable().sha256()).as("step %d gathers", k).isEqualTo(before);
                        }
                        if (k == 2) {
                            assertThat(a.trainable().sha256()).as("step 2 applies").isNotEqualTo(before);
                        }
                        if (k == 3) {
                            // A restart mid-gather: the restored teacher holds what was gathered.
                            b.restore(a.trainable(), a.velocity(), a.version(), a.gathered(), a.gatheredSteps());
                            assertThat(a.gatheredSteps()).isEqualTo(1);
                        }
                        if (k > 3) {
                            b.learn(new Teacher.Batch(IDS, x, m), DIGITS.trainLabels(IDS), d, zeros, new Teacher.At(k, 6, null, null));
                        }
                    }
                    assertThat(b.trainable().sha256()).isEqualTo(a.trainable().sha256());
                    assertThat(a.version()).isEqualTo(6);
                }
            }
        }
    }

    @Nested
    class Drift {
        @Test
        void aTeacherThatDidNotMoveHasNoDriftAndOneThatMovedHasSome() {
            try (NDManager m = NDManager.newBaseManager()) {
                Params phi = NET.init(5, DataType.FLOAT32, m);
                int[] exam = {1, 2, 3, 4, 5, 6};
                NDArray x = DIGITS.trainFeatures(m, IDS, DataType.FLOAT32);
                var at = new Teacher.At(0, 10, new Teacher.Batch(exam, DIGITS.trainFeatures(m, exam, DataType.FLOAT32), m),
                    DIGITS.trainLabels(exam));
                NDArray d = Tensors.of(m, feedback(1.0), new Shape(IDS.length, 10), DataType.FLOAT32);
                NDArray zeros = m.zeros(new Shape(IDS.length, 10), DataType.FLOAT32);
                try (Teacher frozen = Teacher.enroll(NET, phi, TeacherMode.FROZEN, new TeacherConfig(LR, 0.9, 0, 4), T, 3, m);
                     Teacher learning = Teacher.enroll(NET, phi, TeacherMode.IKD, new TeacherConfig(1.0, 0.9, 0, 4), T, 3, m)) {
                    Teacher.Update still = frozen.learn(new Teacher.Batch(IDS, x, m), DIGITS.trainLabels(IDS), d, zeros, at);
                    Teacher.Update moved = learning.learn(new Teacher.Batch(IDS, x, m), DIGITS.trainLabels(IDS), d, zeros, at);
                    assertThat(still.driftKl()).isEqualTo(0.0);
                    assertThat(moved.driftKl()).isGreaterThan(1e-6);
                    // Its accuracy is the share of the exam batch its argmax gets right.
                    long right = 0;
                    long[] predicted = NET.logits(learning.trainable(), DIGITS.trainFeatures(m, exam, DataType.FLOAT32)).argMax(1)
                        .toLongArray();
                    int[] labels = DIGITS.trainLabels(exam);
                    for (int i = 0; i < exam.length; i++) {
                        right += predicted[i] == labels[i] ? 1 : 0;
                    }
                    assertThat(moved.examAccuracy()).isEqualTo((double) right / exam.length);
                }
            }
        }
    }
}
