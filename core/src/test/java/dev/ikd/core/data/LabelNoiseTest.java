package dev.ikd.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** A teacher of noisy labels is made from the data set with that share of its training labels wrong, and nothing else. */
class LabelNoiseTest {

    @Test
    void exactlyThatShareOfTrainingLabelsIsWrongDrawnFromTheSeedAndTheTestSplitIsUntouched() {
        Dataset digits = Datasets.digits();
        int n = digits.trainSize();
        int[] ids = IntStream.range(0, n).toArray();
        int[] clean = digits.trainLabels(ids);
        Dataset noisy = digits.withTrainLabelNoise(0.4, 7);
        int[] labels = noisy.trainLabels(ids);
        long wrong = IntStream.range(0, n).filter(i -> labels[i] != clean[i]).count();
        assertThat(wrong).isEqualTo(Math.round(0.4 * n));
        assertThat(IntStream.of(labels).allMatch(y -> y >= 0 && y < digits.classes())).isTrue();
        assertThat(noisy.trainLabels(ids)).isEqualTo(digits.withTrainLabelNoise(0.4, 7).trainLabels(ids));
        assertThat(digits.withTrainLabelNoise(0.4, 8).trainLabels(ids)).isNotEqualTo(labels);
        assertThat(noisy.testLabels(0, noisy.testSize())).isEqualTo(digits.testLabels(0, digits.testSize()));
        assertThat(noisy.sha256()).isNotEqualTo(digits.sha256());
        assertThat(digits.withTrainLabelNoise(0, 7)).isSameAs(digits);
        assertThatThrownBy(() -> digits.withTrainLabelNoise(1.5, 7))
            .hasMessage("a label noise is a fraction of the training labels, 0 to 1, got 1.5");
    }
}
