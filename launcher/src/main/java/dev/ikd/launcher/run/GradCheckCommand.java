package dev.ikd.launcher.run;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.gradcheck.GradCheck;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import dev.ikd.wiring.Devices;

/** {@code ikd gradcheck}: trust the exam feedback on your own model spec. */
@Command(name = "gradcheck", mixinStandardHelpOptions = true,
    description = "Compare the shipped exam feedback with brute-force differentiation of the whole course step + exam.")
public final class GradCheckCommand implements Callable<Integer> {

    @Option(names = "--model", defaultValue = "mlp:6:8,8", description = "Student model spec. Default: ${DEFAULT-VALUE}")
    String model;

    @Option(names = "--dataset", defaultValue = "digits", description = "Data set the batches come from. Default: ${DEFAULT-VALUE}")
    String dataset;

    @Option(names = "--datasets-dir", defaultValue = "data",
        description = "Where fetched data sets live (scripts/fetch-data.sh). Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--dtype", defaultValue = "float64", description = "float64 (tolerance 1e-3) or float32 (1e-2). Default: ${DEFAULT-VALUE}")
    String dtype;

    @Option(names = "--batch", defaultValue = "4", description = "Course batch size (one brute-force pair per logit). Default: ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--seed", defaultValue = "3") long seed;
    @Option(names = "--lr", defaultValue = "0.5") double lr;
    @Option(names = "--momentum", defaultValue = "0.9") double momentum;
    @Option(names = "--temperature", defaultValue = "2") double temperature;
    @Option(names = "--alpha", defaultValue = "0.7") double alpha;

    @Option(names = "--teachers", defaultValue = "1", paramLabel = "K",
        description = "Teachers whose soft targets the student combines; each one's share of the feedback is checked against its own "
            + "logits. Default: ${DEFAULT-VALUE}")
    int teachers;

    @Option(names = "--teacher-weighting", defaultValue = "equal", paramLabel = "equal|confidence|fixed:W1,...",
        description = "How the student weighs the teachers per sample. Default: ${DEFAULT-VALUE}")
    String weighting;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu. Default: ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--json", description = "Print {\"max_rel_error\", \"dtype\", \"ok\"} as JSON.")
    boolean json;

    @Override
    public Integer call() {
        DataType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "float64" -> DataType.FLOAT64;
            case "float32" -> DataType.FLOAT32;
            default -> throw new IllegalArgumentException("--dtype must be float64 or float32, got " + dtype);
        };
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        if (teachers < 1) {
            throw new IllegalArgumentException("--teachers must be at least 1, got " + teachers);
        }
        var settings = new GradCheck.Settings(ModelSpec.parse(model), type, seed, batch, 2 * batch,
            new StudentConfig(lr, momentum, temperature, alpha), teachers, TeacherWeighting.parse(weighting));
        GradCheck.Result r;
        try (NDManager manager = NDManager.newBaseManager(Devices.select(device))) {
            r = GradCheck.run(settings, Datasets.load(dataset, dataDir), manager);
        }
        if (json) {
            var o = new JsonObject();
            o.addProperty("max_rel_error", r.maxRelError());
            o.addProperty("dtype", dtype.toLowerCase(Locale.ROOT));
            o.addProperty("ok", r.ok());
            o.addProperty("tolerance", r.tolerance());
            o.addProperty("logits_checked", r.checked());
            o.addProperty("teachers", teachers);
            o.addProperty("teacher_weighting", settings.weighting().toString());
            System.out.println(o);
        } else {
            System.out.printf("gradcheck %s on %s, %s%s: max relative error %.3e over %d teacher logits (tolerance %.0e): %s%n",
                model, dataset, dtype, teachers == 1 ? "" : ", " + teachers + " teachers " + settings.weighting(), r.maxRelError(),
                r.checked(), r.tolerance(), r.ok() ? "OK" : "FAILED");
        }
        return r.ok() ? 0 : 1;
    }
}
