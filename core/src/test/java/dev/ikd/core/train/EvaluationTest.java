package dev.ikd.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import org.junit.jupiter.api.Test;

class EvaluationTest {

    /**
     * A test split sorted by class (as an image folder's or IMDB's is) where every sample looks the
     * same: a model gives them all one class. Halves cut in the middle would score it 1 and 0; the
     * even and odd samples score it 0.5 and 0.5, as the whole split does.
     */
    @Test
    void theValidationAndTheReportedHalfEachHoldEveryPartOfASortedTestSplit() {
        int n = 40;
        float[] test = new float[n * 2];
        int[] testLabels = new int[n];
        for (int i = 0; i < n; i++) {
            test[2 * i] = 1;
            test[2 * i + 1] = -1;
            testLabels[i] = i < n / 2 ? 0 : 1;
        }
        Dataset data = new Dataset("sorted", new long[] {2}, 2, new float[] {1, -1, 1, -1}, new int[] {0, 1}, test, testLabels);
        try (NDManager manager = NDManager.newBaseManager()) {
            Network net = Network.build(ModelSpec.parse("mlp:32:4"), data);
            Params params = net.init(3, DataType.FLOAT32, manager);
            Evaluation.Halves halves = Evaluation.testHalves(net, params, data, manager);
            assertThat(Evaluation.testAccuracy(net, params, data, manager)).isEqualTo(0.5);
            assertThat(halves.validation()).isEqualTo(0.5);
            assertThat(halves.test()).isEqualTo(0.5);
        }
    }
}
