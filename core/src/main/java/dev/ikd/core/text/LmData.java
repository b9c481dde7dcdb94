package dev.ikd.core.text;

import dev.ikd.core.data.Dataset;

/**
 * A language-model run's data, as its coordinator, its teacher and its students hold it: the corpus
 * split by document with the run's seed ({@link LmCorpus#split}, a tenth each for quiz and test, as
 * {@code ikd pretrain} splits it) and read by the teacher's tokenizer, one token stream a split.
 * {@link #dataset()} names it for the run's enrollment: its checksum covers every token of every
 * split and where the splits part, so a service that read the corpus with another tokenizer or seed
 * is refused. A student cuts the streams at its own context ({@link #sequences}); its teacher learns
 * that context from the student's enrollment.
 *
 * @param source the {@code --dataset} value ({@code lm:bundled}, {@code lm:brown}, {@code lm:PATH})
 */
public record LmData(String source, int vocab, int[] train, int[] quiz, int[] test) {

    /** The corpus {@code source} split with {@code seed} and read by {@code tokenizer}. */
    public static LmData read(String source, java.nio.file.Path dataDir, long seed, BytePairEncoding tokenizer) {
        LmCorpus split = LmCorpus.split(source, LmCorpus.documents(source, dataDir), seed, 0.1, 0.1);
        return new LmData(source, tokenizer.vocabSize(), LmCorpus.stream(tokenizer, split.train()),
            LmCorpus.stream(tokenizer, split.quiz()), LmCorpus.stream(tokenizer, split.test()));
    }

    /** The splits cut into sequences of {@code context} + 1 tokens, or a refusal naming a split shorter than one. */
    public Sequences sequences(int context) {
        Sequences s = new Sequences(context, LmCorpus.cut(train, context), LmCorpus.cut(quiz, context), LmCorpus.cut(test, context));
        String shortest = s.train.length == 0 ? "train" : s.quiz.length == 0 ? "quiz" : s.test.length == 0 ? "test" : null;
        if (shortest != null) {
            throw new IllegalArgumentException(source + ": its " + shortest + " split is shorter than one sequence of " + context
                + " tokens");
        }
        return s;
    }

    /** Each split as sequences of {@code context} + 1 tokens. */
    public record Sequences(int context, int[][] train, int[][] quiz, int[][] test) {
    }

    /**
     * The tokens as a data set: train then quiz in its training pool (the quiz's tokens labelled 1,
     * the train's 0), test in its test set, one sample a token, the vocabulary as its classes.
     */
    public Dataset dataset() {
        float[] pool = new float[train.length + quiz.length];
        int[] labels = new int[pool.length];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = i < train.length ? train[i] : quiz[i - train.length];
            labels[i] = i < train.length ? 0 : 1;
        }
        float[] held = new float[test.length];
        for (int i = 0; i < held.length; i++) {
            held[i] = test[i];
        }
        return new Dataset(source, new long[] {1}, vocab, pool, labels, held, new int[test.length], vocab);
    }

    /** The data a run's enrollment named, back from {@link #dataset()}: the train and quiz streams by their labels, the test stream. */
    public static LmData of(Dataset named) {
        float[] pool = named.allFeatures(false);
        int[] labels = named.allTrainLabels();
        int quizCount = 0;
        for (int l : labels) {
            quizCount += l;
        }
        int[] train = new int[labels.length - quizCount];
        int[] quiz = new int[quizCount];
        for (int i = 0, t = 0, q = 0; i < labels.length; i++) {
            if (labels[i] == 0) {
                train[t++] = (int) pool[i];
            } else {
                quiz[q++] = (int) pool[i];
            }
        }
        float[] held = named.allFeatures(true);
        int[] test = new int[held.length];
        for (int i = 0; i < test.length; i++) {
            test[i] = (int) held[i];
        }
        return new LmData(named.name(), named.classes(), train, quiz, test);
    }
}
