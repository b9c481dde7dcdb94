package dev.ikd.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.Pretrain;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.StepListener;
import org.junit.jupiter.api.Test;

/** The text family learns sentiment from the bundled sentences (it once sat at chance: see Stages.Embed). */
class TextModelTest {

    @Test
    void aTextTeacherLearnsTheSentencesWellAboveChance() {
        Dataset sentences = Datasets.sentences();
        try (NDManager m = NDManager.newBaseManager()) {
            Network net = Network.build(ModelSpec.parse("text:32:64"), sentences);
            Params theta = Pretrain.teacher(net, sentences, new TrainConfig.PretrainConfig(400, 64, 0.3, 0.9), 1,
                DataType.FLOAT32, m, StepListener.NONE);
            double accuracy = Evaluation.testAccuracy(net, theta, sentences, m);
            System.out.println("sentences text:32:64 test accuracy " + accuracy);
            assertThat(accuracy).isGreaterThan(0.65);
        }
    }
}
