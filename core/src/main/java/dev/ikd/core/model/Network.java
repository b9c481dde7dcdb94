package dev.ikd.core.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.data.Dataset;

/**
 * A network built from named stages and a head (docs/architecture.md §3). Stateless: parameters are passed in,
 * so the same network serves the live parameters, perturbed copies (exam feedback) and the teacher's
 * stages standing in for the student's (IAKD).
 */
public final class Network {

    private final ModelSpec spec;
    private final long[] inputShape;
    private final List<Stage> stages;
    private final Stages.Head head;
    /** A user's TorchScript teacher (with its feature width and classes, probed at build), or null. */
    private final Script script;

    private record Script(String location, int featureSize, int classes) {
    }

    private Network(ModelSpec spec, long[] inputShape, List<Stage> stages, Stages.Head head) {
        this(spec, inputShape, stages, head, null);
    }

    private Network(ModelSpec spec, long[] inputShape, List<Stage> stages, Stages.Head head, Script script) {
        this.spec = spec;
        this.inputShape = inputShape;
        this.stages = List.copyOf(stages);
        this.head = head;
        this.script = script;
    }

    /** The network {@code spec} describes for samples of {@code data}. */
    public static Network build(ModelSpec spec, Dataset data) {
        return build(spec, data.name(), data.sampleShape(), data.classes(), data.vocabularySize());
    }

    /**
     * The network {@code spec} describes for samples of shape {@code sample} in {@code classes}
     * classes ({@code vocabularySize} word ids for text, 0 otherwise); {@code what} names the data in errors.
     */
    public static Network build(ModelSpec spec, String what, long[] sample, int classes, int vocabularySize) {
        int b = spec.boundary();
        List<Stage> stages = new ArrayList<>();
        switch (spec.family()) {
            case TORCHSCRIPT -> {
                return script(spec, what, sample, classes);
            }
            case MLP -> {
                int in = Math.toIntExact(new Shape(sample).size());
                for (int i = 0; i < spec.widths().size(); i++) {
                    stages.add(new Stages.Dense("stage" + (i + 1), i == 0 ? in : b, spec.widths().get(i), b));
                }
                return new Network(spec, new long[] {in}, stages, new Stages.Head("head", b, classes, Stages.Pooling.FLATTEN));
            }
            case CNN -> {
                long[] image = imageShape(sample, what);
                int channels = (int) image[0];
                long h = image[1];
                long w = image[2];
                for (int i = 0; i < spec.widths().size(); i++) {
                    stages.add(new Stages.Conv("stage" + (i + 1), i == 0 ? channels : b, spec.widths().get(i), b));
                    h /= 2;
                    w /= 2;
                }
                if (h < 1 || w < 1) {
                    throw new IllegalArgumentException("cnn with " + spec.widths().size() + " stages pools "
                        + what + " images below 1x1; use fewer stages");
                }
                return new Network(spec, image, stages,
                    new Stages.Head("head", Math.toIntExact(b * h * w), classes, Stages.Pooling.FLATTEN));
            }
            case TEXT -> {
                if (vocabularySize <= 0) {
                    throw new IllegalArgumentException("text models need a text data set; " + what + " is not one");
                }
                stages.add(new Stages.Embed("embed", vocabularySize, b));
                for (int i = 0; i < spec.widths().size(); i++) {
                    stages.add(new Stages.Conv1("stage" + (i + 1), b, spec.widths().get(i)));
                }
                return new Network(spec, sample, stages, new Stages.Head("head", b, classes, Stages.Pooling.SMOOTH_MAX));
            }
            default -> throw new IllegalStateException();
        }
    }

    /**
     * A TorchScript teacher, probed once with a batch of two zero samples: it must give one logit
     * per class; its feature width is what its features output holds (0: it gives none).
     */
    private static Network script(ModelSpec spec, String what, long[] sample, int classes) {
        long[] shape = new long[sample.length + 1];
        shape[0] = 2;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        try (NDManager probe = ScriptModule.probeManager(ai.djl.Device.cpu())) {
            Forward f = ScriptModule.of(spec.script(), ai.djl.Device.cpu()).forward(probe.zeros(new Shape(shape), DataType.FLOAT32));
            Shape logits = f.logits().getShape();
            if (logits.dimension() != 2 || logits.get(0) != 2 || logits.get(1) != classes) {
                throw new IllegalArgumentException("TorchScript teacher " + spec.script() + " gives logits of shape " + logits
                    + " for 2 samples of " + what + " (" + new Shape(sample) + "); the data set has " + classes + " classes, so "
                    + "it should give (2, " + classes + ")");
            }
            int features = Math.toIntExact(f.features().getShape().get(1));
            return new Network(spec, sample, List.of(), null, new Script(spec.script(), features, classes));
        }
    }

    private static long[] imageShape(long[] sample, String name) {
        if (sample.length == 3) {
            return sample;
        }
        long n = new Shape(sample).size();
        long side = Math.round(Math.sqrt(n));
        if (sample.length == 1 && side * side == n) {
            return new long[] {1, side, side};
        }
        throw new IllegalArgumentException("cnn models need square images; " + name + " samples have shape "
            + new Shape(sample));
    }

    public ModelSpec spec() {
        return spec;
    }

    /** The swappable stages followed by the head, in order (none for a TorchScript teacher: ikd sees none of its insides). */
    public List<Stage> stages() {
        if (script != null) {
            return List.of();
        }
        List<Stage> all = new ArrayList<>(stages);
        all.add(head);
        return all;
    }

    public int stageCount() {
        return script != null ? 0 : stages.size() + 1;
    }

    /** The width of the penultimate features (0: a TorchScript teacher that gives none). */
    public int featureSize() {
        return script != null ? script.featureSize() : head.in();
    }

    public int classes() {
        return script != null ? script.classes() : head.classes();
    }

    /** Whether this is a user's TorchScript module: frozen, with no parameters ikd holds. */
    public boolean isScript() {
        return script != null;
    }

    /** Fresh parameters: seeded uniform initialisation, the same on every machine for the same seed. */
    public Params init(long seed, DataType type, NDManager manager) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (Stage stage : stages()) {
            stage.parameters().forEach((name, def) -> arrays.put(name, initial(seed, name, def, type, manager)));
        }
        return new Params(arrays);
    }

    static NDArray initial(long seed, String name, Stage.ParamDef def, DataType type, NDManager manager) {
        int n = Math.toIntExact(def.shape().size());
        double[] values = new double[n];
        if (def.scale() != 0) {
            var random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
            for (int i = 0; i < n; i++) {
                values[i] = (random.nextDouble() * 2 - 1) * def.scale();
            }
        }
        return Tensors.of(manager, values, def.shape(), type);
    }

    /** Reshapes a batch of raw samples to the network's input layout. */
    public NDArray input(NDArray batch) {
        long[] shape = new long[inputShape.length + 1];
        shape[0] = batch.getShape().get(0);
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        return batch.reshape(new Shape(shape));
    }

    public NDArray logits(Params params, NDArray batch) {
        return forward(params, batch, Swap.NONE).logits();
    }

    public Forward forward(Params params, NDArray batch, Swap swap) {
        if (script != null) {
            return ScriptModule.of(script.location(), batch.getDevice()).forward(batch);
        }
        NDArray x = input(batch);
        for (int i = 0; i < stages.size(); i++) {
            x = swap.uses(i) ? swap.teacher().stages.get(i).apply(swap.teacherParams(), x) : stages.get(i).apply(params, x);
        }
        boolean teacherHead = swap.uses(stages.size());
        Stages.Head h = teacherHead ? swap.teacher().head : head;
        NDArray features = h.features(x);
        return new Forward(h.logits(teacherHead ? swap.teacherParams() : params, features), features);
    }

    /** Logits and the penultimate features they were computed from. */
    public record Forward(NDArray logits, NDArray features) {
    }
}
