package dev.ikd.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/**
 * A forward pass with parameters that live long (a frozen teacher's, a student's between steps)
 * leaves nothing behind in their manager: DJL attaches an op's result to its first operand's
 * manager, and a copy made from a parameter there (a padded convolution kernel) would pile up, one
 * per batch, for as long as the model lives (the resident memory that grew by GBs in a long
 * benchmark).
 */
class ForwardPassMemoryTest {

    @Test
    void everyFamilysForwardPassLeavesTheParametersManagerAsItWas() {
        for (String spec : new String[] {"mlp:32:16,16", "cnn:16:4,4", "cnn:16:3,5", "text:32:8"}) {
            long[] sample = spec.startsWith("mlp") ? new long[] {64} : spec.startsWith("cnn") ? new long[] {1, 28, 28} : new long[] {20};
            Network net = Network.build(ModelSpec.parse(spec), "probe", sample, 10, spec.startsWith("text") ? 100 : 0);
            try (NDManager m = NDManager.newBaseManager()) {
                Params p = net.init(1, DataType.FLOAT32, m);
                int before = ((BaseNDManager) m).getManagedArrays().size();
                long n = 1;
                for (long d : sample) {
                    n *= d;
                }
                for (int i = 0; i < 3; i++) {
                    try (NDManager scope = m.newSubManager()) {
                        net.logits(p, scope.ones(new Shape(4, n)));
                    }
                }
                assertThat(((BaseNDManager) m).getManagedArrays().size()).as(spec).isEqualTo(before);
            }
        }
    }
}
