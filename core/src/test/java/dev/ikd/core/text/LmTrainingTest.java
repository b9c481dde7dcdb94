package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import org.junit.jupiter.api.Test;

class LmTrainingTest {

    /**
     * A tiny transformer on the bundled text: fresh, its perplexity is about the vocabulary's size (it
     * knows nothing); after 200 Adam steps it is a fraction of that on the text it read. The margin is
     * wide (a factor of 4): no CPU's rounding decides it.
     */
    @Test
    void aModelThatReadsTheTextPredictsItFarBetterThanChance() {
        List<String> docs = LmCorpus.documents("lm:bundled", Path.of("data"));
        BytePairEncoding bpe = BytePairEncoding.train(docs, 320);
        int[][] seqs = LmCorpus.sequences(bpe, docs, 24);
        CausalTransformer gpt = CausalTransformer.parse("gpt:1:32:2:24", bpe.vocabSize());
        try (NDManager m = NDManager.newBaseManager()) {
            Params fresh = gpt.init(1, DataType.FLOAT32, m);
            double before = LmTraining.perplexity(gpt, fresh, seqs, 16, m);
            assertThat(before).as("fresh: about uniform over " + bpe.vocabSize()).isBetween(bpe.vocabSize() / 2.0, bpe.vocabSize() * 2.0);
            Params learned = LmTraining.adam(gpt, fresh, seqs, 200, 8, 3e-3, 7, m);
            double after = LmTraining.perplexity(gpt, learned, seqs, 16, m);
            System.out.printf("lm | bundled text, %d sequences of 24 tokens (BPE %d), gpt:1:32:2:24: perplexity %.1f fresh, "
                + "%.1f after 200 Adam steps%n", seqs.length, bpe.vocabSize(), before, after);
            assertThat(after).as("perplexity after 200 steps, from " + before).isLessThan(before / 4);
        }
    }

    /** Adam leaves the parameters, its two moments and nothing else behind, however many steps it takes. */
    @Test
    void adamKeepsTheArraysOfOneStepNotOnePerStep() {
        java.util.List<String> docs = LmCorpus.documents("lm:bundled", java.nio.file.Path.of("data"));
        BytePairEncoding bpe = BytePairEncoding.train(docs, 280);
        int[][] seqs = LmCorpus.sequences(bpe, docs, 8);
        dev.ikd.core.model.CausalTransformer model = dev.ikd.core.model.CausalTransformer.parse("gpt:1:8:2:8", bpe.vocabSize());
        int[] counts = new int[2];
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            dev.ikd.core.model.Params start = model.init(1, ai.djl.ndarray.types.DataType.FLOAT32, m);
            for (int i = 0; i < 2; i++) {
                try (ai.djl.ndarray.NDManager run = m.newSubManager()) {
                    LmTraining.adam(model, start, seqs, i == 0 ? 2 : 6, 4, 1e-3, 1, run);
                    counts[i] = ((ai.djl.ndarray.BaseNDManager) run).getManagedArrays().size();
                }
            }
        }
        org.assertj.core.api.Assertions.assertThat(counts[1]).as("after 6 steps as after 2").isEqualTo(counts[0]);
    }
}
