package dev.ikd.wiring;

import java.util.Locale;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** {@code --device}: CPU by default; a GPU only where one is present and asked for. */
public final class Devices {

    private Devices() {
    }

    public static Device select(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> Device.cpu();
            case "gpu" -> {
                if (Engine.getInstance().getGpuCount() == 0) {
                    throw new IllegalArgumentException("--device gpu: PyTorch sees no GPU here (no CUDA device, or the CPU "
                        + "natives: build with ./mvnw -Pcuda, see README 'GPU')");
                }
                yield Device.gpu();
            }
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, got '" + name + "'");
        };
    }
}
