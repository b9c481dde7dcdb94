package dev.ikd.launcher.log;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.learning.export.ModelCard;
import dev.ikd.learning.export.Predictor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd predict}: an exported model (safetensors and its model card) applied to new rows of a
 * table, standardised as the run standardised its training split, or to image files resampled as
 * the run's folder was ({@link Predictor}); each row's class and probabilities.
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
    description = "Predict with an exported model: each row's (or image's) class and probabilities.")
public final class PredictCommand implements Callable<Integer> {

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
        Predictor predictor = Predictor.open(model, card != null ? card : ModelCard.beside(model));
        print(predictor.card(), predictor.predict(input));
        return 0;
    }

    private void print(ModelCard c, List<Predictor.Prediction> predictions) {
        if (!json) {
            for (Predictor.Prediction p : predictions) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s: %s (%.4f) ", p.input(), p.className(),
                    p.probabilities()[p.index()]));
                for (int j = 0; j < p.probabilities().length; j++) {
                    line.append(String.format(Locale.ROOT, " %s=%.4f", c.classNames().get(j), p.probabilities()[j]));
                }
                System.out.println(line);
            }
            return;
        }
        JsonArray rows = new JsonArray();
        for (Predictor.Prediction p : predictions) {
            JsonObject o = new JsonObject();
            o.addProperty("input", p.input());
            o.addProperty("class", p.className());
            o.addProperty("index", p.index());
            JsonArray probabilities = new JsonArray();
            for (double v : p.probabilities()) {
                probabilities.add(v);
            }
            o.add("probabilities", probabilities);
            rows.add(o);
        }
        JsonObject doc = new JsonObject();
        doc.addProperty("model", c.model());
        doc.addProperty("run_id", c.runId());
        JsonArray classes = new JsonArray();
        c.classNames().forEach(classes::add);
        doc.add("classes", classes);
        doc.add("predictions", rows);
        System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(doc));
    }
}
