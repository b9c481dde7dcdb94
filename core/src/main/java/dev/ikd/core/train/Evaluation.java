package dev.ikd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
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
        boolean[] right = right(net, params, data, manager);
        int n = 0;
        for (boolean r : right) {
            n += r ? 1 : 0;
        }
        return (double) n / right.length;
    }

    /**
     * Accuracy on each half of the test split: one half to choose settings by (a benchmark's
     * validation set), the other to report, so that nothing reported was tuned on. The halves are
     * the even- and the odd-numbered samples: the test split keeps the data's file order, which can
     * be sorted by class (an image folder's class folders, IMDB's reviews), so a first and a second
     * half would each hold other classes.
     */
    public record Halves(double validation, double test) {
    }

    public static Halves testHalves(Network net, Params params, Dataset data, NDManager manager) {
        boolean[] right = right(net, params, data, manager);
        int[] n = new int[2];
        int[] count = new int[2];
        for (int i = 0; i < right.length; i++) {
            count[i % 2]++;
            n[i % 2] += right[i] ? 1 : 0;
        }
        return new Halves((double) n[0] / count[0], (double) n[1] / count[1]);
    }

    /** The dtype a model's parameters hold; a TorchScript module, whose parameters ikd does not hold, takes float32. */
    private static DataType typeOf(Params params) {
        return params.asMap().isEmpty() ? DataType.FLOAT32 : params.asMap().values().iterator().next().getDataType();
    }

    /** Whether the model's top class is each test sample's label, in the split's order, a chunk of samples at a time. */
    private static boolean[] right(Network net, Params params, Dataset data, NDManager manager) {
        boolean[] right = new boolean[data.testSize()];
        for (int from = 0; from < data.testSize(); from += CHUNK) {
            int to = Math.min(data.testSize(), from + CHUNK);
            try (NDManager chunk = manager.newSubManager()) {
                NDArray x = data.testFeatures(chunk, from, to, typeOf(params));
                int[] y = data.testLabels(from, to);
                long[] predicted = logits(net, params, x).argMax(1).toType(DataType.INT64, false).toLongArray();
                for (int i = 0; i < y.length; i++) {
                    right[from + i] = predicted[i] == y[i];
                }
            }
        }
        return right;
    }
}
