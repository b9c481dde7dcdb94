package dev.ikd.learning.data;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;

import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.data.MissingDataException;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.proto.v1.DatasetSpec;

/**
 * A run's data terms on the wire (DatasetSpec): built in one place for the coordinator and every
 * student, so that both name the data the same way; and the data set read back from them, the way
 * the run read it (source, load options), checked against the run's checksum.
 */
public final class RunData {

    private RunData() {
    }

    /** The data terms of a run on {@code data}: checksum, sizes, splits, and where the data came from. */
    public static DatasetSpec spec(Dataset data, long splitSeed, double labelFraction, double quizFraction) {
        DatasetSpec.Builder b = DatasetSpec.newBuilder().setName(data.name()).setSha256(data.sha256())
            .setTrainSize(data.trainSize()).setTestSize(data.testSize()).setSplitSeed(splitSeed)
            .setLabelFraction(labelFraction).setQuizFraction(quizFraction).setSource(data.origin().source())
            .putAllLoadOptions(data.origin().options()).addAllClassNames(data.origin().classNames());
        Dataset.Table t = data.table();
        if (t != null) {
            b.addAllFeatureNames(t.featureNames());
            for (int f = 0; f < t.mean().length; f++) {
                b.addFeatureMean(t.mean()[f]).addFeatureStd(t.std()[f]);
            }
        }
        return b.build();
    }

    /**
     * The data set the run used, read again: from {@code location} when given (the file or folder
     * moved, or this is another machine), else from where the run read it; the checksum must match.
     *
     * @param dataDir where fetched data sets live
     */
    public static Dataset load(DatasetSpec spec, Path location, Path dataDir) {
        String source = source(spec);
        int colon = source.indexOf(':');
        if (location != null) {
            if (colon < 0) {
                throw new IllegalArgumentException("--data goes with runs on a table or an image folder; this run used " + source);
            }
            source = source.substring(0, colon + 1) + location;
        }
        Dataset data;
        try {
            data = Datasets.load(source, dataDir, new HashMap<>(spec.getLoadOptionsMap()));
        } catch (MissingDataException e) {
            if (colon < 0 || location != null) {
                throw e;
            }
            throw new MissingDataException(e.getMessage() + "; give the run's data with --data PATH", e);
        }
        if (!data.sha256().equals(spec.getSha256())) {
            throw new IllegalArgumentException("data set " + source + " has checksum " + data.sha256() + ", but the run used "
                + spec.getSha256() + (colon < 0 ? " (see --datasets-dir)" : " (give the run's own data with --data PATH)"));
        }
        return data;
    }

    /** The run's data as {@code --dataset} named it (a log written before runs kept it: the data set's name). */
    public static String source(DatasetSpec spec) {
        return spec.getSource().isEmpty() ? spec.getName() : spec.getSource();
    }

    /** A model spec as the wire carries it: family, widths, and its text form, which {@link #model} reads back. */
    public static dev.ikd.proto.v1.ModelSpec model(ModelSpec spec) {
        return dev.ikd.proto.v1.ModelSpec.newBuilder().setFamily(spec.family().name().toLowerCase(Locale.ROOT))
            .addWidths(spec.boundary()).addAllWidths(spec.widths()).putOptions("spec", spec.toString()).build();
    }

    public static ModelSpec model(dev.ikd.proto.v1.ModelSpec spec) {
        String text = spec.getOptionsOrDefault("spec", "");
        if (text.isEmpty()) {
            throw new IllegalArgumentException("the model spec on the wire lacks its text form: " + spec);
        }
        return ModelSpec.parse(text);
    }
}
