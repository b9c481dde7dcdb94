package dev.ikd.learning.export;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

/**
 * What a reader needs beside an exported model's parameters to use it without ikd: the model spec
 * and how its forward pass goes, the input (shape, feature names, the mean and standard deviation
 * that standardise a table's columns, an image folder's size and channels), the class names, where
 * it came from (run, model, data and its SHA-256, steps) and what it scored, and the SHA-256 of the
 * parameters (ikd's hash, as the run's log names it) and of the safetensors file.
 *
 * @param format          {@code ikd-model-card/1}
 * @param runId           the run it came from
 * @param model           student-N, teacher, or teacher/student-N (the teacher's copy or adapter for that student)
 * @param spec            the model spec, e.g. {@code mlp:32:16,16}
 * @param forward         the forward pass in words, stage by stage
 * @param inputShape      one sample's shape
 * @param featureNames    a table's feature columns, in order (empty for images)
 * @param featureMean     their training-split means (x - mean) / std standardises them
 * @param featureStd      their training-split standard deviations
 * @param dataSource      {@code --dataset} as the run had it (csv:PATH, images:DIR, digits, ...)
 * @param loadOptions     how the data was read (a table's header and label column; image size and channels)
 * @param dataSha256      the checksum of the data set the run used
 * @param classNames      class i's name
 * @param steps           course steps it learned
 * @param teacherMode     frozen, ikd, ikd-adapter or pesf
 * @param testAccuracy    accuracy on the data set's test split, recomputed at export
 * @param paramSha256     ikd's parameter hash (the log's exam results and report name it)
 * @param fileSha256      SHA-256 of the safetensors file
 */
public record ModelCard(String format, String runId, String model, String spec, String forward, long[] inputShape,
                        List<String> featureNames, double[] featureMean, double[] featureStd, String dataSource,
                        Map<String, String> loadOptions, String dataSha256, List<String> classNames, long steps,
                        String teacherMode, double testAccuracy, String paramSha256, String fileSha256, String scriptSha256) {

    public static final String FORMAT = "ikd-model-card/1";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
        .setFieldNamingPolicy(com.google.gson.FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES).create();

    /** The card of {@code safetensors}: the same name with {@code .json} in place of {@code .safetensors}. */
    public static Path beside(Path safetensors) {
        String name = safetensors.getFileName().toString();
        String base = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
        return safetensors.resolveSibling(base + ".json");
    }

    /** The SHA-256 of a file's bytes, in hex: what {@link #fileSha256} holds of the safetensors file. */
    public static String sha256Of(Path file) throws IOException {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, GSON.toJson(this) + "\n", StandardCharsets.UTF_8);
    }

    public static ModelCard read(Path file) throws IOException {
        ModelCard card;
        try {
            card = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), ModelCard.class);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(file + " is not a model card: " + e.getMessage());
        }
        if (card == null || !FORMAT.equals(card.format())) {
            throw new IllegalArgumentException(file + " is not an ikd model card (format " + (card == null ? null : card.format())
                + ", expected " + FORMAT + ")");
        }
        String problem = card.problem();
        if (problem != null) {
            throw new IllegalArgumentException("model card " + file + " " + problem);
        }
        return card;
    }

    /** What makes this card unusable (a field missing, statistics that do not fit its features), or null. */
    String problem() {
        for (var f : java.util.Map.of("spec", String.valueOf(spec), "forward", String.valueOf(forward), "data_source",
            String.valueOf(dataSource), "param_sha256", String.valueOf(paramSha256), "file_sha256", String.valueOf(fileSha256)).entrySet()) {
            if (f.getValue().equals("null") || f.getValue().isBlank()) {
                return "has no " + f.getKey();
            }
        }
        if (inputShape == null || inputShape.length == 0 || java.util.Arrays.stream(inputShape).anyMatch(d -> d < 1)) {
            return "has no input_shape of positive sizes";
        }
        if (classNames == null || classNames.size() < 2) {
            return "names " + (classNames == null ? 0 : classNames.size()) + " classes; a model tells apart at least 2";
        }
        int names = featureNames == null ? 0 : featureNames.size();
        int means = featureMean == null ? 0 : featureMean.length;
        int stds = featureStd == null ? 0 : featureStd.length;
        if (means != stds || names > 0 && means != names) {
            return "has " + names + " feature names, " + means + " means and " + stds + " standard deviations; they must match";
        }
        long features = java.util.Arrays.stream(inputShape).reduce(1, Math::multiplyExact);
        if (means > 0 && means != features) {
            return "standardises " + means + " features, but its input has " + features;
        }
        for (int i = 0; i < stds; i++) {
            if (!Double.isFinite(featureMean[i]) || !(featureStd[i] > 0) || !Double.isFinite(featureStd[i])) {
                return "has feature " + i + " with mean " + featureMean[i] + " and standard deviation " + featureStd[i]
                    + "; a deviation must be finite and above 0";
            }
        }
        if (spec.startsWith("torchscript:") && (scriptSha256 == null || scriptSha256.isBlank())) {
            return "names the TorchScript module " + spec + " without its script_sha256";
        }
        return null;
    }

    /** The forward pass of a spec's family, in words a reader can write in numpy. */
    public static String forward(String family) {
        return switch (family) {
            case "mlp" -> "x: [N, features] (a table standardised: (x - feature_mean) / feature_std). Each stage k = 1.. in order: "
                + "h = tanh(x @ stageK.w1 + stageK.b1); x = tanh(h @ stageK.w2 + stageK.b2). Then logits = x @ head.w + head.b; "
                + "probabilities = softmax(logits).";
            case "cnn" -> "x: [N, channels, height, width], pixels / 255. Each stage k: two 3x3 convolutions (stride 1, padding 1, "
                + "weights [out, in, 3, 3]) with tanh after each (stageK.w1/b1, stageK.w2/b2), then 2x2 average pooling with "
                + "stride 2. Then flatten (channels, height, width order), logits = x @ head.w + head.b; softmax.";
            case "text" -> "x: [N, length] word ids (0 = padding). embed.* maps ids to vectors (padding to zero); each stage is "
                + "a 1-D convolution with tanh; the head pools with a smooth maximum (log mean exp(5 x) / 5) and applies "
                + "head.w, head.b; softmax.";
            case "torchscript" -> "The TorchScript module the spec names (torchscript:FILE[#METHOD]): logits = its forward(x) (the "
                + "first output if it gives two); h, its penultimate features, is the second output or METHOD(x). This file "
                + "holds only what ikd learned beside it.";
            default -> throw new IllegalArgumentException("unknown model family " + family);
        };
    }
}
