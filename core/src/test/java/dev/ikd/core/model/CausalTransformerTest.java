package dev.ikd.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.learn.Autograd;
import org.junit.jupiter.api.Test;

class CausalTransformerTest {

    static final int VOCAB = 11;
    static final CausalTransformer GPT = CausalTransformer.parse("gpt:2:8:2:6", VOCAB);

    static NDArray tokens(NDManager m, long[] ids, int n) {
        return m.create(ids, new Shape(n, ids.length / n));
    }

    /** Mean cross-entropy of each position's logits against the next token. */
    static NDArray nextTokenLoss(CausalTransformer gpt, Params p, NDArray tokens) {
        long n = tokens.getShape().get(0);
        long t = tokens.getShape().get(1);
        NDArray logits = gpt.logits(p, tokens.get(":, 0:" + (t - 1)));
        NDArray logp = logits.logSoftmax(-1);
        NDArray next = tokens.get(":, 1:").toType(DataType.INT64, false).expandDims(-1);
        return logp.gather(next, -1).neg().sum().div(Tensors.scalar(logp, (double) n * (t - 1)));
    }

    @Test
    void logitsHaveAPlaceForEveryPositionAndToken() {
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = GPT.init(3, DataType.FLOAT32, m);
            assertThat(GPT.logits(p, tokens(m, new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 2)).getShape())
                .isEqualTo(new Shape(2, 5, VOCAB));
            long expected = VOCAB * 8L + 6 * 8L + 2 * (2 * 8 + 8 * 24 + 24 + 8 * 8 + 8 + 2 * 8 + 8 * 32 + 32 + 32 * 8 + 8) + 2 * 8;
            assertThat(p.asMap().values().stream().mapToLong(a -> a.getShape().size()).sum()).as("tied: no output matrix")
                .isEqualTo(expected);
            assertThatThrownBy(() -> GPT.logits(p, tokens(m, new long[] {1, 2, 3, 4, 5, 6, 7}, 1)))
                .hasMessage("a sequence of 7 tokens, but the model's context is 6");
        }
    }

    @Test
    void aPositionSeesOnlyTheTokensUpToIt() {
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = GPT.init(5, DataType.FLOAT64, m);
            float[] a = GPT.logits(p, tokens(m, new long[] {1, 2, 3, 4, 5, 6}, 1)).toType(DataType.FLOAT32, false).toFloatArray();
            float[] b = GPT.logits(p, tokens(m, new long[] {1, 2, 3, 9, 5, 6}, 1)).toType(DataType.FLOAT32, false).toFloatArray();
            for (int i = 0; i < 3 * VOCAB; i++) {
                assertThat(b[i]).as("positions before the change, logit " + i).isEqualTo(a[i]);
            }
            boolean changed = false;
            for (int i = 3 * VOCAB; i < 4 * VOCAB; i++) {
                changed |= a[i] != b[i];
            }
            assertThat(changed).as("the changed position's logits").isTrue();
        }
    }

    @Test
    void theGradientIsThatOfTheLossInFloat64() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Larger starting values than init's, so that attention and LayerNorm gains are not near-trivial.
            Random r = new Random(9);
            Params p = GPT.init(7, DataType.FLOAT64, m).map((name, a) -> {
                double[] v = a.toDoubleArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] += 0.3 * r.nextGaussian();
                }
                return Tensors.of(m, v, a.getShape(), DataType.FLOAT64);
            });
            NDArray tokens = tokens(m, new long[] {1, 4, 2, 7, 3, 9, 10, 0, 5, 5, 6, 8}, 2);
            Autograd.Gradient g = Autograd.of(p, m, th -> nextTokenLoss(GPT, th, tokens));
            double h = 1e-6;
            double worst = 0;
            int checked = 0;
            for (String name : p.names()) {
                double[] values = p.get(name).toDoubleArray();
                double[] grad = g.gradient().get(name).toDoubleArray();
                for (int i = 0; i < values.length; i += Math.max(1, values.length / 5)) {
                    double brute = (lossWith(p, name, i, h, m, tokens) - lossWith(p, name, i, -h, m, tokens)) / (2 * h);
                    worst = Math.max(worst, Math.abs(grad[i] - brute) / Math.max(1e-3, Math.abs(brute)));
                    checked++;
                }
            }
            assertThat(checked).isGreaterThan(100);
            assertThat(worst).as("max relative error of the gradient, " + checked + " entries").isLessThan(1e-6);
        }
    }

    static double lossWith(Params p, String name, int i, double h, NDManager m, NDArray tokens) {
        Params moved = p.map((n, a) -> {
            if (!n.equals(name)) {
                return a;
            }
            double[] v = a.toDoubleArray();
            v[i] += h;
            return Tensors.of(m, v, a.getShape(), DataType.FLOAT64);
        });
        return nextTokenLoss(GPT, moved, tokens).toDoubleArray()[0];
    }

    /** A forward pass with parameters that live long (a teacher's) leaves nothing behind in their manager. */
    @Test
    void aForwardPassLeavesNothingInTheParametersManager() {
        CausalTransformer model = CausalTransformer.parse("gpt:2:16:2:8", 50);
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = model.init(1, DataType.FLOAT32, m);
            int before = ((ai.djl.ndarray.BaseNDManager) m).getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                try (NDManager scope = m.newSubManager()) {
                    model.logits(p, scope.create(new long[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)));
                }
            }
            assertThat(((ai.djl.ndarray.BaseNDManager) m).getManagedArrays().size()).isEqualTo(before);
        }
    }

    @Test
    void aBadSpecIsRefusedWithOneLine() {
        assertThatThrownBy(() -> CausalTransformer.parse("gpt:2:64:4", 100))
            .hasMessage("a causal transformer is gpt:LAYERS:WIDTH:HEADS:CONTEXT, e.g. gpt:2:64:4:128, got 'gpt:2:64:4'");
        assertThatThrownBy(() -> CausalTransformer.parse("gpt:2:10:4:128", 100))
            .hasMessage("gpt: the width 10 must split evenly into 4 heads");
    }
}
