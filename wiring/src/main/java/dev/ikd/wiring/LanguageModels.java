package dev.ikd.wiring;

import java.io.IOException;
import java.nio.file.Path;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.BytePairEncoding;
import dev.ikd.core.text.LmCorpus;
import dev.ikd.core.text.LmTraining;
import dev.ikd.learning.export.LanguageModelFile;

/**
 * {@code ikd pretrain} on a language-model corpus ({@code --dataset lm:...}): a BPE tokenizer trained
 * on the corpus's train split, a {@code gpt:} model trained with Adam on its sequences, written as a
 * {@link LanguageModelFile} (safetensors, card, tokenizer) with its test perplexity.
 */
public final class LanguageModels {

    public static final String DEFAULT_SPEC = "gpt:2:128:4:64";
    public static final long DEFAULT_STEPS = 1000;
    public static final int DEFAULT_BATCH = 16;
    public static final double DEFAULT_LR = 3e-3;

    private LanguageModels() {
    }

    /** Whether {@code --dataset} names a language-model corpus. */
    public static boolean isCorpus(String dataset) {
        return dataset.startsWith("lm:");
    }

    /** What pretraining made: the card written, and the sequences it learned from and was tested on. */
    public record Pretrained(LanguageModelFile.Card card, int trainSequences, int testSequences) {

        /** What --json prints: the card's fields (snake_case) and the sequence counts. */
        public String json() {
            com.google.gson.JsonObject o = new com.google.gson.GsonBuilder()
                .setFieldNamingPolicy(com.google.gson.FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES).create().toJsonTree(card)
                .getAsJsonObject();
            o.remove("forward");
            o.addProperty("train_sequences", trainSequences);
            o.addProperty("test_sequences", testSequences);
            return o.toString();
        }
    }

    /**
     * Pretrains the run's {@code --teacher} (a gpt: spec; default {@value #DEFAULT_SPEC}) on its
     * corpus for {@code --pretrain-steps} Adam steps (default {@value #DEFAULT_STEPS}) of
     * {@code --batch} sequences (default {@value #DEFAULT_BATCH}) at {@code --lr} (default
     * {@value #DEFAULT_LR}), from {@code --seed}, with a tokenizer of {@code vocab} tokens.
     */
    public static Pretrained pretrain(RunOptions run, int vocab, Path out) throws IOException {
        String spec = run.teacher == null ? DEFAULT_SPEC : run.teacher;
        long steps = run.pretrainSteps == null ? DEFAULT_STEPS : run.pretrainSteps;
        int batch = run.batch == null ? DEFAULT_BATCH : run.batch;
        double lr = run.lr == null ? DEFAULT_LR : run.lr;
        CausalTransformer.parse(spec, 2); // a bad spec stops here, before the corpus is read
        if (steps < 1 || batch < 1 || !(lr > 0)) {
            throw new IllegalArgumentException("--pretrain-steps, --batch and --lr must be above 0 for a language model");
        }
        LmCorpus split = LmCorpus.split(run.dataset, LmCorpus.documents(run.dataset, run.dataDir), run.seed, 0.1, 0.1);
        BytePairEncoding bpe = BytePairEncoding.train(split.train(), vocab);
        CausalTransformer model = CausalTransformer.parse(spec, bpe.vocabSize());
        int[][] train = LmCorpus.sequences(bpe, split.train(), model.context());
        int[][] test = LmCorpus.sequences(bpe, split.test(), model.context());
        if (test.length == 0) {
            throw new IllegalArgumentException(run.dataset + ": its test split is shorter than one sequence of " + model.context()
                + " tokens");
        }
        try (NDManager manager = run.newManager()) {
            Params p = LmTraining.adam(model, model.init(run.seed, DataType.FLOAT32, manager), train, steps, batch, lr, run.seed, manager);
            double perplexity = LmTraining.perplexity(model, p, test, batch, manager);
            String name = out.getFileName().toString().replaceFirst("\\.safetensors$", "");
            return new Pretrained(LanguageModelFile.write(out, name, model, p, bpe, run.dataset, steps, perplexity), train.length,
                test.length);
        }
    }
}
