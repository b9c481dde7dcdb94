package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import org.junit.jupiter.api.Test;

/**
 * A garbage collection between the forward and the backward pass must not change a gradient.
 * DJL's {@code NDArray.div(Number)} hands autograd a scalar over a direct buffer that the collector
 * may free before backward reads it; the losses use {@code Tensors.scalar} instead.
 */
class GarbageCollectionDuringBackwardTest {

    @Test
    void theCourseGradientIsTheSameWithAndWithoutACollectionInTheMiddle() {
        Dataset digits = Datasets.digits();
        Network net = Network.build(ModelSpec.parse("mlp:8:16"), digits);
        try (NDManager m = NDManager.newBaseManager()) {
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                Params theta = net.init(2, type, m);
                int[] ids = {1, 2, 3, 4, 5, 6, 7, 8};
                NDArray x = digits.trainFeatures(m, ids, type);
                NDArray y = Losses.oneHot(m, digits.trainLabels(ids), null, 10, type);
                NDArray p = Losses.softTargets(net.logits(net.init(3, type, m), x), 2.0);
                String quiet = Autograd.of(theta, m, th -> Losses.course(net.forward(th, x, Swap.NONE).logits(), p, y, 2.0, 0.7))
                    .gradient().sha256();
                for (int attempt = 0; attempt < 3; attempt++) {
                    String churned = Autograd.of(theta, m, th -> {
                        NDArray loss = Losses.course(net.forward(th, x, Swap.NONE).logits(), p, y, 2.0, 0.7);
                        collectAndReuseMemory();
                        return loss;
                    }).gradient().sha256();
                    assertThat(churned).as("%s attempt %d", type, attempt).isEqualTo(quiet);
                }
            }
        }
    }

    private static void collectAndReuseMemory() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            try {
                Thread.sleep(20); // let the cleaner thread free what the collection found
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            List<ByteBuffer> filler = new ArrayList<>();
            for (int i = 0; i < 4000; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(8);
                b.putDouble(0, Double.NaN);
                filler.add(b);
            }
            filler.clear();
        }
    }
}
