package dev.ikd.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.BatchSchedule;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.CourseStep;
import dev.ikd.core.learn.Losses;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.train.Evaluation;
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
                Params theta = net.init(1, type, m);
                Params velocity = theta.map((k, v) -> m.zeros(v.getShape(), v.getDataType()));
                Splits splits = Splits.of(digits.trainSize(), 1.0, 0.1, 1);
                var schedule = new BatchSchedule(splits.course(), 32, 1);
                var config = new StudentConfig(0.1, 0.9, 1.0, 0.0);
                for (int step = 0; step < 300; step++) {
                    try (NDManager s = m.newSubManager()) {
                        int[] ids = schedule.batch(step);
                        NDArray x = digits.trainFeatures(s, ids, type);
                        NDArray y = Losses.oneHot(s, digits.trainLabels(ids), null, digits.classes(), type);
                        CourseStep.Result r = CourseStep.apply(net, theta, velocity, x, y, y, Swap.NONE, config, m);
                        theta.close();
                        velocity.close();
                        theta = r.theta();
                        velocity = r.velocity();
                    }
                }
                double accuracy = Evaluation.testAccuracy(net, theta, digits, m);
                System.out.println(type + " digits test accuracy " + accuracy);
                assertThat(accuracy).isGreaterThan(0.9);
            }
        }
    }
}
