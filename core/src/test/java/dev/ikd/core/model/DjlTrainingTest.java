package dev.ikd.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.Pretrain;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.StepListener;
import org.junit.jupiter.api.Test;

/** DJL with the PyTorch engine runs offline on CPU and trains: a small MLP learns the digits. */
class DjlTrainingTest {

    @Test
    void theEngineIsPyTorchAndRunsOffline() {
        assertThat(Engine.getInstance().getEngineName()).isEqualTo("PyTorch");
        assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
    }

    @Test
    void aSmallMlpLearnsDigitsToAHeldOutAccuracyAbove90Percent() {
        Dataset digits = Datasets.digits();
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            try (NDManager m = NDManager.newBaseManager()) {
                Network net = Network.build(ModelSpec.parse("mlp:32:64"), digits);
                Params theta = Pretrain.teacher(net, digits, new TrainConfig.PretrainConfig(300, 32, 0.1, 0.9), 1, type, m,
                    StepListener.NONE);
                double accuracy = Evaluation.testAccuracy(net, theta, digits, m);
                System.out.println(type + " digits test accuracy " + accuracy);
                assertThat(accuracy).isGreaterThan(0.9);
            }
        }
    }
}
