package dev.ikd.learning.export;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.BytePairEncoding;

/**
 * A language model on disk, what {@code ikd pretrain} writes for an {@code lm:} data set and
 * {@code ikd generate} reads: {@code NAME.safetensors} (float32 tensors named as
 * {@link CausalTransformer#parameters}), its card {@code NAME.json} ({@link Card}) and its tokenizer
 * {@code NAME.tokenizer.txt} (the BPE merges, one "LEFT RIGHT" pair of token ids a line; token
 * 256 + i joins merge i, tokens 0..255 are bytes). A reader without ikd needs nothing else: the
 * card says how the forward pass goes.
 */
public final class LanguageModelFile {

    public static final String FORMAT = "ikd-lm-card/1";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
        .setFieldNamingPolicy(com.google.gson.FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES).create();

    private LanguageModelFile() {
    }

    /**
     * What a reader needs beside the tensors.
     *
     * @param tokenizer      the tokenizer file's name, beside the card
     * @param testPerplexity exp of the mean next-token cross-entropy on the corpus's test split
     */
    public record Card(String format, String model, String spec, String forward, int vocabSize, int context, String tokenizer,
                       String tokenizerSha256, String dataSource, long steps, double testPerplexity, String paramSha256,
                       String fileSha256) {
    }

    /** A model read back: its shape, parameters, tokenizer and card. */
    public record Loaded(CausalTransformer model, Params params, BytePairEncoding tokenizer, Card card) {
    }

    public static final String FORWARD = "tokens: [N, T] ids, T <= context. h = wte[tokens] + wpe[0:T]. Each layer l: "
        + "a = LN(h; ln1); q, k, v = split(a @ qkv.w + qkv.b, 3) into heads of width/heads; attention = softmax(q k^T / sqrt(width/heads) "
        + "with position j > i masked) v, heads joined; h += attention @ proj.w + proj.b; m = LN(h; ln2); "
        + "h += gelu(m @ fc.w + fc.b) @ out.w + out.b. logits = LN(h; lnf) @ wte^T. LN(x; g, b) = (x - mean) / sqrt(var + 1e-5) "
        + "* (1 + g) + b over the last axis (var the mean square of x - mean); gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).";

    /** The tokenizer's file beside {@code safetensors}: NAME.tokenizer.txt. */
    public static Path tokenizerBeside(Path safetensors) {
        String card = ModelCard.beside(safetensors).getFileName().toString();
        return safetensors.resolveSibling(card.substring(0, card.length() - ".json".length()) + ".tokenizer.txt");
    }

    /** Writes the three files and returns the card. */
    public static Card write(Path safetensors, String name, CausalTransformer model, Params p, BytePairEncoding tokenizer,
                             String dataSource, long steps, double testPerplexity) throws IOException {
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (String n : model.parameters().keySet()) {
            NDArray a = p.get(n);
            tensors.put(n, new Safetensors.Tensor(a.getShape().getShape(), a.toType(DataType.FLOAT32, false).toFloatArray()));
        }
        Path parent = safetensors.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Safetensors.write(safetensors, tensors, Map.of("format", FORMAT, "spec", model.spec()));
        Path tok = tokenizerBeside(safetensors);
        Files.writeString(tok, tokenizer.toText(), StandardCharsets.UTF_8);
        Card card = new Card(FORMAT, name, model.spec(), FORWARD, model.vocabulary(), model.context(), tok.getFileName().toString(),
            tokenizer.sha256(), dataSource, steps, testPerplexity, p.sha256(), ModelCard.sha256Of(safetensors));
        Files.writeString(ModelCard.beside(safetensors), GSON.toJson(card) + "\n", StandardCharsets.UTF_8);
        return card;
    }

    /** Reads a model back, checking that its files are the ones its card names; a one-line refusal otherwise. */
    public static Loaded read(Path safetensors, NDManager manager) throws IOException {
        if (!Files.isRegularFile(safetensors)) {
            throw new IllegalArgumentException(safetensors + ": no such model file");
        }
        Path cardFile = ModelCard.beside(safetensors);
        Card card;
        try {
            card = GSON.fromJson(Files.readString(cardFile, StandardCharsets.UTF_8), Card.class);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(safetensors + " has no model card beside it (" + cardFile.getFileName() + ")");
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(cardFile + " is not a model card: " + e.getMessage());
        }
        if (card == null || !FORMAT.equals(card.format())) {
            throw new IllegalArgumentException(cardFile + " is not a language model's card (format " + (card == null ? null
                : card.format()) + ", expected " + FORMAT + ")");
        }
        if (!ModelCard.sha256Of(safetensors).equals(card.fileSha256())) {
            throw new IllegalArgumentException(safetensors + " is not the file its card describes (SHA-256 differs)");
        }
        Path tok = safetensors.resolveSibling(card.tokenizer());
        BytePairEncoding tokenizer;
        try {
            tokenizer = BytePairEncoding.parse(Files.readString(tok, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(safetensors + ": its tokenizer " + card.tokenizer() + " is missing");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(tok + ": " + e.getMessage());
        }
        if (!tokenizer.sha256().equals(card.tokenizerSha256()) || tokenizer.vocabSize() != card.vocabSize()) {
            throw new IllegalArgumentException(tok + " is not the tokenizer the card names (SHA-256 or vocabulary size differs)");
        }
        CausalTransformer model = CausalTransformer.parse(card.spec(), card.vocabSize());
        Map<String, Safetensors.Tensor> tensors = Safetensors.read(safetensors).tensors();
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (var def : model.parameters().entrySet()) {
            Safetensors.Tensor t = tensors.get(def.getKey());
            if (t == null || !new Shape(t.shape()).equals(def.getValue().shape())) {
                throw new IllegalArgumentException(safetensors + ": tensor " + def.getKey() + " is " + (t == null ? "missing"
                    : "of shape " + new Shape(t.shape())) + "; " + card.spec() + " over " + card.vocabSize() + " tokens needs "
                    + def.getValue().shape());
            }
            arrays.put(def.getKey(), manager.create(t.values(), new Shape(t.shape())));
        }
        tensors.keySet().stream().filter(n -> !arrays.containsKey(n)).findFirst().ifPresent(n -> {
            throw new IllegalArgumentException(safetensors + ": tensor " + n + " is not a parameter of " + card.spec());
        });
        return new Loaded(model, new Params(arrays), tokenizer, card);
    }
}
