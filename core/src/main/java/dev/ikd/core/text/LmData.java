package dev.ikd.core.text;

import java.util.ArrayList;
import java.util.List;

import dev.ikd.core.data.Dataset;

/**
 * A language-model run's data, as both its teacher and its students hold it: the corpus split by
 * document ({@link LmCorpus#split}), read by the teacher's tokenizer and cut into sequences of the
 * student's context and one more token. {@link #dataset()} names it for the run's enrollment: its
 * checksum covers every token of every split, so a student and a teacher that read the corpus with
 * different tokenizers, contexts or seeds refuse each other.
 *
 * @param source the {@code --dataset} value ({@code lm:bundled}, {@code lm:brown}, {@code lm:PATH})
 */
public record LmData(String source, int vocab, int context, int[][] train, int[][] quiz, int[][] test) {

    /** The corpus {@code source} split with {@code seed} (quiz and test a tenth each, as {@code ikd pretrain} splits it), read by {@code tokenizer}. */
    public static LmData read(String source, java.nio.file.Path dataDir, long seed, BytePairEncoding tokenizer, int context) {
        LmCorpus split = LmCorpus.split(source, LmCorpus.documents(source, dataDir), seed, 0.1, 0.1);
        LmData data = new LmData(source, tokenizer.vocabSize(), context, LmCorpus.sequences(tokenizer, split.train(), context),
            LmCorpus.sequences(tokenizer, split.quiz(), context), LmCorpus.sequences(tokenizer, split.test(), context));
        for (var s : List.of(List.of("train", data.train), List.of("quiz", data.quiz), List.of("test", data.test))) {
            if (((int[][]) s.get(1)).length == 0) {
                throw new IllegalArgumentException(source + ": its " + s.get(0) + " split is shorter than one sequence of " + context
                    + " tokens");
            }
        }
        return data;
    }

    /**
     * The sequences as a data set of token ids: train then quiz in its training pool, test in its
     * test set, one sample a sequence of context + 1 tokens, the vocabulary as its classes.
     */
    public Dataset dataset() {
        List<int[]> pool = new ArrayList<>(List.of(train));
        pool.addAll(List.of(quiz));
        return new Dataset(source, new long[] {context + 1}, vocab, flat(pool), new int[pool.size()], flat(List.of(test)),
            new int[test.length], vocab);
    }

    private float[] flat(List<int[]> sequences) {
        float[] out = new float[sequences.size() * (context + 1)];
        for (int i = 0; i < sequences.size(); i++) {
            for (int j = 0; j <= context; j++) {
                out[i * (context + 1) + j] = sequences.get(i)[j];
            }
        }
        return out;
    }
}
