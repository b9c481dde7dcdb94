package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import org.junit.jupiter.api.Test;

/** Gradient sections on several threads at once: they overlap, and each gets the serial result to the bit. */
class AutogradTest {

    private static final int THREADS = 4;

    private final Dataset digits = Datasets.digits();
    private final Network net = Network.build(ModelSpec.parse("mlp:16:16"), digits);

    @Test
    void sectionsOnSeveralThreadsRunTogetherAndMatchTheSerialGradientsBitForBit() throws Exception {
        List<String> serial = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            serial.add(gradient(t, null));
        }
        // Every thread waits inside its section for all the others: one lock around the sections would never let them meet.
        CyclicBarrier allInside = new CyclicBarrier(THREADS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<String>> parallel = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                parallel.add(pool.submit(() -> gradient(seed, allInside)));
            }
            for (int t = 0; t < THREADS; t++) {
                assertThat(parallel.get(t).get(60, TimeUnit.SECONDS)).as("thread %d", t).isEqualTo(serial.get(t));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSectionLeavesItsThreadsGradModeAsItFoundIt() {
        boolean before = JniUtils.isGradMode();
        gradient(0, null);
        assertThat(JniUtils.isGradMode()).isEqualTo(before);
    }

    private String gradient(int seed, CyclicBarrier meet) {
        try (NDManager m = NDManager.newBaseManager()) {
            Params theta = net.init(seed, DataType.FLOAT32, m);
            int[] ids = {seed, seed + 1, seed + 2, seed + 3, seed + 4, seed + 5, seed + 6, seed + 7};
            NDArray x = digits.trainFeatures(m, ids, DataType.FLOAT32);
            NDArray y = Losses.oneHot(m, digits.trainLabels(ids), null, 10, DataType.FLOAT32);
            NDArray p = Losses.softTargets(net.logits(net.init(100 + seed, DataType.FLOAT32, m), x), 2.0);
            return Autograd.of(theta, m, th -> {
                NDArray loss = Losses.course(net.forward(th, x, Swap.NONE).logits(), p, y, 2.0, 0.7);
                if (meet != null) {
                    try {
                        meet.await(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException("the gradient sections did not overlap", e);
                    }
                }
                return loss;
            }).gradient().sha256();
        }
    }
}
