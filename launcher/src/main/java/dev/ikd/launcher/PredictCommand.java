package dev.ikd.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.ImageFolders;
import dev.ikd.core.data.Tables;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;
import dev.ikd.core.train.Evaluation;
import dev.ikd.learning.export.ModelCard;
import dev.ikd.learning.export.Safetensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd predict}: an exported model (safetensors and its model card) applied to new rows of a
 * table, standardised as the run standardised its training split, or to image files resampled as
 * the run's folder was; each row's class and probabilities.
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
    description = "Predict with an exported model: each row's (or image's) class and probabilities.")
final class PredictCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Option(names = "--model", required = true, paramLabel = "FILE.safetensors", description = "A model 'ikd export' wrote.")
    Path model;

    @Option(names = "--card", paramLabel = "FILE.json", description = "Its model card (default: beside the model, FILE.json).")
    Path card;

    @Option(names = "--input", required = true, paramLabel = "PATH",
        description = "A table (CSV/TSV; with a header the feature columns are found by name, other columns are left out), "
            + "or for an image model an image file or a folder of them (class subfolders included).")
    Path input;

    @Option(names = "--json", description = "Print one JSON document instead of lines.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path cardFile = card != null ? card : ModelCard.beside(model);
        if (!Files.isReadable(model)) {
            throw new IllegalArgumentException("--model " + model + " does not exist");
        }
        if (!Files.isReadable(cardFile)) {
            throw new IllegalArgumentException("no model card " + cardFile + " beside " + model + " (give it with --card)");
        }
        ModelCard c = ModelCard.read(cardFile);
        String sha = ModelCard.sha256Of(model);
        if (!sha.equals(c.fileSha256())) {
            throw new IllegalArgumentException("model card " + cardFile + " is for a file with SHA-256 " + c.fileSha256() + ", but "
                + model + " has " + sha);
        }
        ModelSpec spec = ModelSpec.parse(c.spec());
        if (spec.isScript()) {
            // The module predict runs must be the one the adapter was learned for.
            java.nio.file.Path script = spec.scriptFile();
            if (!Files.isReadable(script)) {
                throw new IllegalArgumentException("model card " + cardFile + " names the TorchScript module " + script
                    + ", which is not there");
            }
            String scriptSha = ModelCard.sha256Of(script);
            if (!scriptSha.equals(c.scriptSha256())) {
                throw new IllegalArgumentException("model card " + cardFile + " is for the TorchScript module " + script
                    + " with SHA-256 " + c.scriptSha256() + ", but that file has " + scriptSha);
            }
        }
        if (spec.family() == ModelSpec.Family.TEXT) {
            throw new IllegalArgumentException("ikd predict reads tables and images; " + model + " is a text model");
        }
        Network net = Network.build(spec, model.getFileName().toString(), c.inputShape(), c.classNames().size(), 0);
        boolean images = c.dataSource().startsWith("images:");
        List<String> labels = new ArrayList<>();
        List<float[]> rows = images ? images(c, labels) : table(c, labels);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(input + " holds nothing to predict");
        }
        int width = Math.toIntExact(new Shape(c.inputShape()).size());
        float[] x = new float[rows.size() * width];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, x, i * width, width);
        }
        float[] logits;
        try (NDManager manager = NDManager.newBaseManager(); Params params = params(Safetensors.read(model), net, manager)) {
            long[] shape = new long[c.inputShape().length + 1];
            shape[0] = rows.size();
            System.arraycopy(c.inputShape(), 0, shape, 1, c.inputShape().length);
            NDArray batch = Tensors.of(manager, x, new Shape(shape), DataType.FLOAT32);
            logits = Evaluation.logits(net, params, batch).toFloatArray();
        }
        print(c, labels, logits);
        return 0;
    }

    /** A table's rows, standardised with the training split's statistics from the card. */
    private List<float[]> table(ModelCard c, List<String> labels) {
        List<String> features = c.featureNames().isEmpty() ? columns(c) : c.featureNames();
        List<float[]> rows = Tables.rows(input, features);
        for (int i = 0; i < rows.size(); i++) {
            labels.add("row " + (i + 1));
            if (!c.featureNames().isEmpty()) {
                for (int f = 0; f < features.size(); f++) {
                    rows.get(i)[f] = (float) ((rows.get(i)[f] - c.featureMean()[f]) / c.featureStd()[f]);
                }
            }
        }
        return rows;
    }

    /** A model of a built-in data set takes its input values as they are, one column each. */
    private static List<String> columns(ModelCard c) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < new Shape(c.inputShape()).size(); i++) {
            names.add("column " + (i + 1));
        }
        return names;
    }

    private List<float[]> images(ModelCard c, List<String> labels) throws Exception {
        ImageFolders.Options options = ImageFolders.Options.of(c.loadOptions());
        List<Path> files;
        if (Files.isDirectory(input)) {
            try (Stream<Path> s = Files.walk(input)) {
                files = s.filter(ImageFolders::isImage).sorted().toList();
            }
        } else {
            files = List.of(input);
        }
        List<float[]> rows = new ArrayList<>();
        for (Path f : files) {
            labels.add(input.relativize(f).toString().isEmpty() ? f.getFileName().toString() : input.relativize(f).toString());
            rows.add(ImageFolders.pixels(f, options));
        }
        return rows;
    }

    /** The file's tensors as the network's parameters (an adapter's besides); a missing or misshapen one is refused. */
    private Params params(Safetensors.Contents contents, Network net, NDManager manager) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        try (Params layout = net.init(0, DataType.FLOAT32, manager)) {
            for (Map.Entry<String, NDArray> p : layout.asMap().entrySet()) {
                Safetensors.Tensor t = contents.tensors().get(p.getKey());
                if (t == null || !new Shape(t.shape()).equals(p.getValue().getShape())) {
                    throw new IllegalArgumentException(model + ": " + (t == null ? "no tensor " + p.getKey() : "tensor " + p.getKey()
                        + " is " + new Shape(t.shape())) + ", the model " + net.spec() + " needs " + p.getValue().getShape());
                }
            }
        }
        for (Map.Entry<String, Safetensors.Tensor> t : contents.tensors().entrySet()) {
            arrays.put(t.getKey(), Tensors.of(manager, t.getValue().values(), new Shape(t.getValue().shape()), DataType.FLOAT32));
        }
        return new Params(arrays);
    }

    private void print(ModelCard c, List<String> labels, float[] logits) {
        int k = c.classNames().size();
        JsonArray predictions = new JsonArray();
        for (int i = 0; i < labels.size(); i++) {
            double[] p = softmax(logits, i * k, k);
            int best = 0;
            for (int j = 1; j < k; j++) {
                best = p[j] > p[best] ? j : best;
            }
            if (json) {
                JsonObject o = new JsonObject();
                o.addProperty("input", labels.get(i));
                o.addProperty("class", c.classNames().get(best));
                o.addProperty("index", best);
                JsonArray probabilities = new JsonArray();
                for (double v : p) {
                    probabilities.add(v);
                }
                o.add("probabilities", probabilities);
                predictions.add(o);
            } else {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s: %s (%.4f) ", labels.get(i),
                    c.classNames().get(best), p[best]));
                for (int j = 0; j < k; j++) {
                    line.append(String.format(Locale.ROOT, " %s=%.4f", c.classNames().get(j), p[j]));
                }
                System.out.println(line);
            }
        }
        if (json) {
            JsonObject doc = new JsonObject();
            doc.addProperty("model", c.model());
            doc.addProperty("run_id", c.runId());
            JsonArray classes = new JsonArray();
            c.classNames().forEach(classes::add);
            doc.add("classes", classes);
            doc.add("predictions", predictions);
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(doc));
        }
    }

    private static double[] softmax(float[] logits, int from, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            max = Math.max(max, logits[from + j]);
        }
        double[] p = new double[k];
        double sum = 0;
        for (int j = 0; j < k; j++) {
            p[j] = Math.exp(logits[from + j] - max);
            sum += p[j];
        }
        for (int j = 0; j < k; j++) {
            p[j] /= sum;
        }
        return p;
    }
}
