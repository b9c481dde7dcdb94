package dev.ikd.launcher.run;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.wiring.LanguageModels;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Teachers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd pretrain}: train a teacher on every label and save it as a checkpoint. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, description = "Pretrain a teacher and write its checkpoint; on a "
    + "language-model corpus (--dataset lm:brown|lm:imdb|lm:bundled|lm:PATH, --teacher gpt:L:W:H:C) a tokenizer and a transformer, "
    + "written as OUT.safetensors with its card and tokenizer beside it.")
public final class PretrainCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    RunOptions run;

    @Option(names = "--out", required = true, description = "Checkpoint file to write (atomically).")
    Path out;

    @Option(names = "--vocab", description = "Language models: the tokenizer's vocabulary size. Default: 8192")
    Integer vocab;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of lines.")
    boolean json;

    @Override
    public Integer call() throws java.io.IOException {
        if (LanguageModels.isCorpus(run.dataset)) {
            if (vocab != null && vocab < 256) {
                throw new IllegalArgumentException("--vocab must be at least 256 (one token a byte), got " + vocab);
            }
            LanguageModels.Pretrained p = LanguageModels.pretrain(run, vocab == null ? 8192 : vocab, out);
            System.out.println(json ? p.json() : String.format("%s on %s (%d train, %d test sequences): test "
                + "perplexity %.2f, %d steps; %s with its card and tokenizer (sha256 %s)", p.card().spec(), run.dataset,
                p.trainSequences(), p.testSequences(), p.card().testPerplexity(), p.card().steps(), out, p.card().paramSha256()));
            return 0;
        }
        if (vocab != null) {
            throw new IllegalArgumentException("--vocab is for language-model corpora (--dataset lm:...), not " + run.dataset);
        }
        TrainConfig c = run.toConfig();
        Dataset data = run.loadDataset();
        try (NDManager manager = run.newManager()) {
            Network net = Network.build(c.teacher(), data);
            Params theta = Teachers.pretrain(c, data, net, manager, true);
            Teachers.save(out, c, data, theta);
            double accuracy = Evaluation.testAccuracy(net, theta, data, manager);
            if (json) {
                var o = new JsonObject();
                o.addProperty("teacher", c.teacher().toString());
                o.addProperty("dataset", data.name());
                o.addProperty("test_accuracy", accuracy);
                o.addProperty("steps", c.pretrain().steps());
                o.addProperty("checkpoint", out.toString());
                o.addProperty("param_sha256", theta.sha256());
                System.out.println(o);
            } else {
                System.out.printf("teacher %s on %s: test accuracy %.4f, %d steps; checkpoint %s (sha256 %s)%n", c.teacher(),
                    data.name(), accuracy, c.pretrain().steps(), out, theta.sha256());
            }
        }
        return 0;
    }
}
