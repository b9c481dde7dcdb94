package dev.ikd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.Losses;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;

/** Final evaluation on the test split: the only place the test split is read. */
public final class Evaluation {

    private static final int CHUNK = 500;

    private Evaluation() {
    }

    /** The name of an adapter's first parameter: parameters holding it are a teacher with its adapter. */
    public static final String ADAPTER = "adapter.w1";

    /**
     * A model's logits for samples {@code x}: the network's, less the adapter's A_s(h) when
     * {@code params} carry one (a teacher exported with the adapter it learned for a student).
     */
    public static NDArray logits(Network net, Params params, NDArray x) {
        if (!params.names().contains(ADAPTER)) {
            return net.logits(params, x);
        }
        Network.Forward f = net.forward(params, x, dev.ikd.core.model.Swap.NONE);
        return f.logits().sub(dev.ikd.core.learn.Teacher.adapt(params, f.features()));
    }

    public static double testAccuracy(Network net, Params params, Dataset data, NDManager manager) {
        return (double) right(net, params, data, 0, data.testSize(), manager) / data.testSize();
    }

    /**
     * Accuracy on each half of the test split: the first half to choose settings by (a benchmark's
     * validation set), the second to report, so that nothing reported was tuned on.
     */
    public record Halves(double validation, double test) {
    }

    public static Halves testHalves(Network net, Params params, Dataset data, NDManager manager) {
        int half = data.testSize() / 2;
        return new Halves((double) right(net, params, data, 0, half, manager) / half,
            (double) right(net, params, data, half, data.testSize(), manager) / (data.testSize() - half));
    }

    private static int right(Network net, Params params, Dataset data, int start, int end, NDManager manager) {
        int right = 0;
        for (int from = start; from < end; from += CHUNK) {
            int to = Math.min(end, from + CHUNK);
            try (NDManager chunk = manager.newSubManager()) {
                NDArray x = data.testFeatures(chunk, from, to, params.asMap().values().iterator().next().getDataType());
                int[] y = data.testLabels(from, to);
                right += (int) Math.round(Losses.accuracy(logits(net, params, x), y) * y.length);
            }
        }
        return right;
    }
}
