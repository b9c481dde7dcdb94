package dev.ikd.core.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.training.ParameterStore;

/**
 * A user's TorchScript module as a frozen teacher, run by DJL's PyTorch engine: {@code forward(x)}
 * gives the logits, and the penultimate features come from a second output of forward, or from a
 * method of the module named after {@code #} ({@code FILE.pt#features}). A module is loaded once
 * per file and device in a process and kept for its life (teachers live as long as their process).
 */
final class ScriptModule {

    private static final Map<String, ScriptModule> LOADED = new ConcurrentHashMap<>();

    private final Path file;
    private final String method;
    /** Held for the module's life: the block belongs to the model's manager. */
    private final Model model;
    private final PtSymbolBlock block;

    private ScriptModule(Path file, String method, Model model, PtSymbolBlock block) {
        this.file = file;
        this.method = method;
        this.model = model;
        this.block = block;
    }

    /** The module of {@code script} (FILE.pt or FILE.pt#METHOD) on {@code device}, loaded on first use. */
    static ScriptModule of(String script, Device device) {
        int hash = script.lastIndexOf('#');
        Path file = Path.of(hash < 0 ? script : script.substring(0, hash)).toAbsolutePath().normalize();
        String method = hash < 0 ? null : script.substring(hash + 1);
        return LOADED.computeIfAbsent(file + "#" + method + "@" + device, k -> load(file, method, device));
    }

    private static ScriptModule load(Path file, String method, Device device) {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("TorchScript teacher " + file + " does not exist or cannot be read");
        }
        Model model = Model.newInstance("teacher", device, "PyTorch");
        try {
            model.load(file);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new IllegalArgumentException("cannot load " + file + " as a TorchScript module: " + reason(e), e);
        }
        if (!(model.getBlock() instanceof PtSymbolBlock block)) {
            model.close();
            throw new IllegalArgumentException(file + " did not load as a TorchScript module");
        }
        return new ScriptModule(file, method, model, block);
    }

    /** Logits and penultimate features ([N, 0] when the module gives none) for a batch of samples. */
    Network.Forward forward(NDArray x) {
        NDList out;
        try {
            out = block.forward(new ParameterStore(x.getManager(), false), new NDList(x), false);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("TorchScript teacher " + file + " failed on a batch of shape " + x.getShape() + ": "
                + reason(e), e);
        }
        NDArray logits = out.get(0);
        NDArray features = null;
        if (method != null) {
            try (IValue in = IValue.from((PtNDArray) x); IValue result = IValueUtils.runMethod(block, method, in)) {
                features = result.toTensor((PtNDManager) x.getManager());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("TorchScript teacher " + file + ": method '" + method + "' failed: "
                    + reason(e), e);
            }
        } else if (out.size() > 1) {
            features = out.get(1);
        }
        long n = logits.getShape().get(0);
        // No features: an empty [N, 0] array (a feature cache keeps zero bytes of them; the adapter modes are refused).
        features = features == null ? logits.getManager().zeros(new ai.djl.ndarray.types.Shape(n, 0), logits.getDataType())
            : features.reshape(n, -1);
        return new Network.Forward(logits, features);
    }

    /** The line of a TorchScript error that says what went wrong (its last), not the whole traceback. */
    private static String reason(Exception e) {
        String m = String.valueOf(e.getMessage()).strip();
        String[] lines = m.split("\\R");
        return lines[lines.length - 1].strip();
    }

    static NDManager probeManager(Device device) {
        return NDManager.newBaseManager(device, "PyTorch");
    }
}
