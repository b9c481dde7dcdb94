package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import org.junit.jupiter.api.Test;

class LmSamplingTest {

    @Test
    void temperatureZeroTakesTheMostLikelyTokenTheSmallerIdOfATie() {
        assertThat(LmSampling.next(new double[] {0.1, 2, -1, 2}, 0, 1, new SplittableRandom(1))).isEqualTo(1);
    }

    @Test
    void drawsFollowTheDistributionWithinTheNucleusAndNeverLeaveIt() {
        // softmax at T = 1 of log(0.5, 0.3, 0.15, 0.05): top-p 0.7 keeps 0.5 and 0.3 (0.5 alone falls short), renormalised 5/8, 3/8.
        double[] logits = {Math.log(0.3), Math.log(0.05), Math.log(0.5), Math.log(0.15)};
        int[] hits = new int[4];
        SplittableRandom r = new SplittableRandom(7);
        int n = 40_000;
        for (int i = 0; i < n; i++) {
            hits[LmSampling.next(logits, 1, 0.7, r)]++;
        }
        assertThat(hits[1]).isZero();
        assertThat(hits[3]).isZero();
        assertThat(hits[2] / (double) n).isCloseTo(5.0 / 8, org.assertj.core.data.Offset.offset(0.01));
        assertThat(hits[0] / (double) n).isCloseTo(3.0 / 8, org.assertj.core.data.Offset.offset(0.01));
        int[] all = new int[4];
        for (int i = 0; i < n; i++) {
            all[LmSampling.next(logits, 1, 1, r)]++;
        }
        assertThat(all[1] / (double) n).as("top-p 1 keeps every token").isCloseTo(0.05, org.assertj.core.data.Offset.offset(0.006));
    }

    @Test
    void badSettingsAndAnEmptyPromptAreRefusedInOneLine() {
        assertThatThrownBy(() -> new LmSampling.Settings(-1, 1, 1, 1)).hasMessage("--tokens must be >= 0, got -1");
        assertThatThrownBy(() -> new LmSampling.Settings(5, -0.5, 1, 1)).hasMessage("--temperature must be a finite number >= 0, got -0.5");
        assertThatThrownBy(() -> new LmSampling.Settings(5, 1, 0, 1)).hasMessage("--top-p must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> new LmSampling.Settings(5, 1, 1.5, 1)).hasMessage("--top-p must be in (0, 1], got 1.5");
        List<String> docs = LmCorpus.documents("lm:bundled", Path.of("data"));
        BytePairEncoding bpe = BytePairEncoding.train(docs, 280);
        CausalTransformer model = CausalTransformer.parse("gpt:1:16:2:8", bpe.vocabSize());
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = model.init(1, DataType.FLOAT32, m);
            assertThatThrownBy(() -> LmSampling.generate(model, p, bpe, "", new LmSampling.Settings(3, 1, 1, 1), m))
                .hasMessage("--prompt must hold at least one character: the model continues a text");
        }
    }

    @Test
    void aSeedGivesTheSameTextPastTheContextAndThePromptComesFirst() {
        List<String> docs = LmCorpus.documents("lm:bundled", Path.of("data"));
        BytePairEncoding bpe = BytePairEncoding.train(docs, 280);
        CausalTransformer model = CausalTransformer.parse("gpt:1:16:2:8", bpe.vocabSize());
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = model.init(1, DataType.FLOAT32, m);
            LmSampling.Settings s = new LmSampling.Settings(20, 1, 0.9, 4);
            String a = LmSampling.generate(model, p, bpe, "We the People", s, m);
            assertThat(a).startsWith("We the People").isEqualTo(LmSampling.generate(model, p, bpe, "We the People", s, m));
            assertThat(bpe.encode(a).length).as("20 tokens past a context of 8").isGreaterThan(bpe.encode("We the People").length);
            assertThat(LmSampling.generate(model, p, bpe, "We the People", new LmSampling.Settings(0, 1, 1, 4), m))
                .isEqualTo("We the People");
        }
    }
}
