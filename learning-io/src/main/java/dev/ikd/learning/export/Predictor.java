package dev.ikd.learning.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.data.ImageFolders;
import dev.ikd.core.data.Tables;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;
import dev.ikd.core.train.Evaluation;

/**
 * An exported model (safetensors and its model card) applied to new inputs: rows of a table,
 * standardised as the run standardised its training split, or image files resampled as the run's
 * folder was. The card must belong to the file (its SHA-256), and a TorchScript module it names
 * must be the one the adapter was learned for.
 */
public final class Predictor {

    /** One input's prediction: what it was, the class, and every class's probability. */
    public record Prediction(String input, int index, String className, double[] probabilities) {
    }

    private final Path model;
    private final ModelCard card;
    private final Network net;

    private Predictor(Path model, ModelCard card, Network net) {
        this.model = model;
        this.card = card;
        this.net = net;
    }

    /** The model in {@code model} with its card {@code cardFile}, checked against each other. */
    public static Predictor open(Path model, Path cardFile) throws IOException {
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
            Path script = spec.scriptFile();
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
        return new Predictor(model, c, Network.build(spec, model.getFileName().toString(), c.inputShape(), c.classNames().size(), 0));
    }

    public ModelCard card() {
        return card;
    }

    /** Every row of the table, or every image in the file or folder, at {@code input}. */
    public List<Prediction> predict(Path input) throws IOException {
        List<String> labels = new ArrayList<>();
        List<float[]> rows = card.dataSource().startsWith("images:") ? images(input, labels) : table(input, labels);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(input + " holds nothing to predict");
        }
        int width = Math.toIntExact(new Shape(card.inputShape()).size());
        float[] x = new float[rows.size() * width];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, x, i * width, width);
        }
        float[] logits;
        try (NDManager manager = NDManager.newBaseManager(); Params params = params(Safetensors.read(model), manager)) {
            long[] shape = new long[card.inputShape().length + 1];
            shape[0] = rows.size();
            System.arraycopy(card.inputShape(), 0, shape, 1, card.inputShape().length);
            NDArray batch = Tensors.of(manager, x, new Shape(shape), DataType.FLOAT32);
            logits = Evaluation.logits(net, params, batch).toFloatArray();
        }
        int k = card.classNames().size();
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            double[] p = softmax(logits, i * k, k);
            int best = 0;
            for (int j = 1; j < k; j++) {
                best = p[j] > p[best] ? j : best;
            }
            out.add(new Prediction(labels.get(i), best, card.classNames().get(best), p));
        }
        return out;
    }

    /** A table's rows, standardised with the training split's statistics from the card. */
    private List<float[]> table(Path input, List<String> labels) {
        List<String> features = card.featureNames().isEmpty() ? columns() : card.featureNames();
        List<float[]> rows = Tables.rows(input, features);
        for (int i = 0; i < rows.size(); i++) {
            labels.add("row " + (i + 1));
            if (!card.featureNames().isEmpty()) {
                for (int f = 0; f < features.size(); f++) {
                    rows.get(i)[f] = (float) ((rows.get(i)[f] - card.featureMean()[f]) / card.featureStd()[f]);
                }
            }
        }
        return rows;
    }

    /** A model of a built-in data set takes its input values as they are, one column each. */
    private List<String> columns() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < new Shape(card.inputShape()).size(); i++) {
            names.add("column " + (i + 1));
        }
        return names;
    }

    private List<float[]> images(Path input, List<String> labels) throws IOException {
        ImageFolders.Options options = ImageFolders.Options.of(card.loadOptions());
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
    private Params params(Safetensors.Contents contents, NDManager manager) {
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
