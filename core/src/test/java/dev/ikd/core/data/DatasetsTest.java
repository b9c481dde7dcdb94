package dev.ikd.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

    @TempDir
    Path dir;

    @Test
    void bundledDigitsAreAllThereAndStable() {
        Dataset d = Datasets.digits();
        assertThat(d.trainSize() + d.testSize()).isEqualTo(1797);
        assertThat(d.testSize()).isEqualTo(359);
        assertThat(d.classes()).isEqualTo(10);
        assertThat(d.sha256()).isEqualTo(Datasets.digits().sha256());
    }

    @Test
    void bundledSentencesDropThePlaceholdersAndBuildTheVocabularyFromTrainOnly() {
        Dataset s = Datasets.sentences();
        assertThat(s.trainSize() + s.testSize()).isEqualTo(3000);
        assertThat(s.classes()).isEqualTo(2);
        assertThat(s.isText()).isTrue();
        assertThat(s.vocabularySize()).isBetween(1000, 5000);
    }

    @Test
    void splitsAreDisjointSeededAndTheQuizComesFromLabelledSamples() {
        Splits a = Splits.of(1000, 0.05, 0.2, 3);
        assertThat(a.quiz()).hasSize(10);
        assertThat(a.course()).hasSize(990);
        Set<Integer> quiz = new HashSet<>();
        Arrays.stream(a.quiz()).forEach(quiz::add);
        assertThat(Arrays.stream(a.course()).noneMatch(quiz::contains)).isTrue();
        assertThat(Arrays.stream(a.quiz()).allMatch(i -> a.labeled()[i])).isTrue();
        assertThat(a.labeledCourse()).hasSize(40);
        assertThat(Splits.of(1000, 0.05, 0.2, 3).quiz()).containsExactly(a.quiz());
        assertThat(Splits.of(1000, 0.05, 0.2, 4).quiz()).isNotEqualTo(a.quiz());
    }

    @Test
    void batchSchedulesCoverEachEpochOnceAndAnyStepCanBeRecomputed() {
        int[] pool = IntStream.range(100, 130).toArray();
        var schedule = new BatchSchedule(pool, 10, 5);
        int[] epoch = IntStream.range(0, 3).flatMap(k -> Arrays.stream(schedule.batch(k))).sorted().toArray();
        assertThat(epoch).containsExactly(pool);
        assertThat(new BatchSchedule(pool, 10, 5).batch(7)).containsExactly(schedule.batch(7));
        // Batches that straddle epochs (7 does not divide 30), asked for out of order, are those asked for in order.
        var inOrder = new BatchSchedule(pool, 7, 9);
        int[][] expected = IntStream.range(0, 12).mapToObj(inOrder::batch).toArray(int[][]::new);
        var jumping = new BatchSchedule(pool, 7, 9);
        for (int k : new int[] {11, 4, 0, 8, 4, 12 - 1, 1, 9, 3, 10, 2, 5, 7, 6}) {
            assertThat(jumping.batch(k)).as("step %d", k).containsExactly(expected[k]);
        }
    }

    @Test
    void idxFilesAreReadInTheirOriginalFormat() throws Exception {
        Path d = Files.createDirectories(dir.resolve("mnist"));
        writeIdx(d, "train", 3);
        writeIdx(d, "t10k", 2);
        Dataset m = Datasets.load("mnist", dir);
        assertThat(m.trainSize()).isEqualTo(3);
        assertThat(m.testSize()).isEqualTo(2);
        assertThat(m.sampleShape()).containsExactly(1, 2, 2);
        assertThat(m.trainLabels(new int[] {0, 1, 2})).containsExactly(0, 1, 2);
        assertThat(m.trainSample(1)).containsExactly(1 / 255f, 2 / 255f, 3 / 255f, 4 / 255f);
    }

    @Test
    void aMissingDataSetNamesTheFetchCommand() {
        assertThatThrownBy(() -> Datasets.load("fashion-mnist", dir)).isInstanceOf(MissingDataException.class)
            .hasMessageContaining("run scripts/fetch-data.sh fashion-mnist");
        assertThatThrownBy(() -> Datasets.load("cifar", dir)).hasMessageContaining("unknown data set 'cifar'");
    }

    @Test
    void csvTakesTheLastColumnAsLabelAndNamesBadLines() throws Exception {
        Path good = Files.writeString(dir.resolve("good.csv"), "0.5,1,0\n0.1,2,1\n0.2,3,2\n1,1,1\n0,0,0\n");
        Dataset c = Datasets.load("csv:" + good, dir);
        assertThat(c.trainSize() + c.testSize()).isEqualTo(5);
        assertThat(c.classes()).isEqualTo(3);
        Path bad = Files.writeString(dir.resolve("bad.csv"), "0.5,1,0\n0.1,x,1\n");
        assertThatThrownBy(() -> Datasets.load("csv:" + bad, dir)).hasMessageContaining("line 2");
    }

    private static void writeIdx(Path dir, String prefix, int n) throws Exception {
        try (var img = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte")));
             var lab = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte")))) {
            img.writeInt(0x0803);
            img.writeInt(n);
            img.writeInt(2);
            img.writeInt(2);
            lab.writeInt(0x0801);
            lab.writeInt(n);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < 4; j++) {
                    img.writeByte(i + j);
                }
                lab.writeByte(i);
            }
        }
    }
}
