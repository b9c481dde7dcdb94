package dev.ikd.launcher.run;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.text.LmSampling;
import dev.ikd.learning.export.LanguageModelFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ikd generate}: text from a language model that {@code ikd pretrain} wrote. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Continue a prompt with a language model (its "
    + ".safetensors, with its card and tokenizer beside it).")
public final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "The model's .safetensors file.")
    Path model;

    @Option(names = "--prompt", required = true, description = "The text to continue.")
    String prompt;

    @Option(names = "--tokens", defaultValue = "50", description = "Tokens to generate. Default: ${DEFAULT-VALUE}")
    int tokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "0 takes the most likely token. Default: ${DEFAULT-VALUE}")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Draw from the fewest most likely tokens whose mass reaches P. "
        + "Default: ${DEFAULT-VALUE}")
    double topP;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the draws. Default: ${DEFAULT-VALUE}")
    long seed;

    @Override
    public Integer call() throws java.io.IOException {
        LmSampling.Settings settings = new LmSampling.Settings(tokens, temperature, topP, seed);
        try (NDManager manager = NDManager.newBaseManager()) {
            LanguageModelFile.Loaded m = LanguageModelFile.read(model, manager);
            System.out.println(LmSampling.generate(m.model(), m.params(), m.tokenizer(), prompt, settings, manager));
        }
        return 0;
    }
}
