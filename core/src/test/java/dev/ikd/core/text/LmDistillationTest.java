package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.learn.Autograd;
import dev.ikd.core.learn.SparseTargets;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;
import org.junit.jupiter.api.Test;
import org.assertj.core.data.Offset;

class LmDistillationTest {

    static final int N = 2;
    static final int T = 3;
    static final int V = 9;
    static final int K = 4;
    static final double TEMP = 2;

    @Test
    void theTopKLossOnDjlHasTheReferenceGradientAndWithEveryTokenIsTheDenseLoss() {
        Random r = new Random(3);
        double[] z = new double[N * T * V];
        double[] u = new double[N * T * V];
        for (int i = 0; i < z.length; i++) {
            z[i] = r.nextGaussian();
            u[i] = 2 * r.nextGaussian();
        }
        float[] p = new float[u.length];
        for (int row = 0; row < N * T; row++) {
            double[] s = SparseTargets.softmax(u, row * V, V, TEMP);
            for (int c = 0; c < V; c++) {
                p[row * V + c] = (float) s[c];
            }
        }
        SparseTargets.TopK s = SparseTargets.topK(p, N * T, V, K);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray ids = m.create(java.util.Arrays.stream(s.ids()).asLongStream().toArray(), new Shape(N, T, K));
            NDArray probs = Tensors.of(m, s.probs(), new Shape(N, T, K), DataType.FLOAT64);
            NDArray tail = Tensors.of(m, s.tail(), new Shape(N, T), DataType.FLOAT64);
            Params at = new Params(java.util.Map.of("z", Tensors.of(m, z, new Shape(N, T, V), DataType.FLOAT64)));
            double[] djl = Autograd.of(at, m, th -> LmDistillation.topK(th.get("z"), ids, probs, tail, TEMP)).gradient().get("z")
                .toDoubleArray();
            double[] reference = SparseTargets.gradient(z, s, V, TEMP);
            for (int i = 0; i < z.length; i++) {
                // The reference is per position; the DJL loss is their mean.
                assertThat(djl[i]).as("dL/dz[" + i + "]").isCloseTo(reference[i] / (N * T), Offset.offset(1e-12));
            }

            SparseTargets.TopK all = SparseTargets.topK(p, N * T, V, V);
            NDArray allIds = m.create(java.util.Arrays.stream(all.ids()).asLongStream().toArray(), new Shape(N, T, V));
            double top = LmDistillation.topK(at.get("z"), allIds, Tensors.of(m, all.probs(), new Shape(N, T, V), DataType.FLOAT64),
                m.zeros(new Shape(N, T), DataType.FLOAT64), TEMP).getDouble();
            double dense = LmDistillation.dense(at.get("z"), Tensors.of(m, p, new Shape(N, T, V), DataType.FLOAT64), TEMP).getDouble();
            assertThat(top).as("every token on the support, no tail: the dense loss").isCloseTo(dense, Offset.offset(1e-12));
        }
    }
}
