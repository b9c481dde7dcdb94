package dev.ikd.core.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What network to build: a family, the width of the boundaries between stages (shared by a teacher
 * and its students, so stages can be swapped), and each stage's inner width. Written as
 * {@code family:boundary:w1,w2,...}, e.g. {@code mlp:32:256,256} (teacher) and {@code mlp:32:16,16}
 * (student). A user's own frozen teacher is {@code torchscript:FILE.pt} (its penultimate features
 * from a second output of forward) or {@code torchscript:FILE.pt#METHOD} (from that method of the
 * module); it has no stages ikd knows.
 *
 * @param script for the torchscript family, FILE.pt or FILE.pt#METHOD; empty otherwise
 */
public record ModelSpec(Family family, int boundary, List<Integer> widths, String script) {

    public enum Family { MLP, CNN, TEXT, TORCHSCRIPT }

    private static final String SCRIPT = "torchscript:";

    public ModelSpec(Family family, int boundary, List<Integer> widths) {
        this(family, boundary, widths, "");
    }

    public ModelSpec {
        if (family == Family.TORCHSCRIPT) {
            if (script == null || script.isBlank()) {
                throw new IllegalArgumentException("a torchscript model needs its file: torchscript:FILE.pt[#METHOD]");
            }
        } else {
            if (!script.isEmpty()) {
                throw new IllegalArgumentException("only torchscript models name a file, not " + family);
            }
            if (boundary < 1) {
                throw new IllegalArgumentException("boundary width must be at least 1, got " + boundary);
            }
            if (widths.isEmpty()) {
                throw new IllegalArgumentException("a model needs at least one stage");
            }
            for (int w : widths) {
                if (w < 1) {
                    throw new IllegalArgumentException("stage widths must be at least 1, got " + widths);
                }
            }
        }
        widths = List.copyOf(widths);
    }

    /** Whether this is a user's TorchScript module rather than a network ikd builds and trains. */
    public boolean isScript() {
        return family == Family.TORCHSCRIPT;
    }

    public static ModelSpec parse(String text) {
        if (text.trim().toLowerCase(Locale.ROOT).startsWith(SCRIPT)) {
            return new ModelSpec(Family.TORCHSCRIPT, 0, List.of(), text.trim().substring(SCRIPT.length()));
        }
        String[] parts = text.trim().split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("model spec '" + text + "' is not family:boundary:w1,w2,... (e.g. mlp:32:64,64)");
        }
        Family family;
        try {
            family = Family.valueOf(parts[0].toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown model family '" + parts[0] + "' in '" + text + "'; known: mlp, cnn, text, "
                + "torchscript:FILE.pt");
        }
        try {
            int boundary = Integer.parseInt(parts[1]);
            List<Integer> widths = Arrays.stream(parts[2].split(",")).map(String::trim).map(Integer::parseInt).toList();
            return new ModelSpec(family, boundary, widths);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model spec '" + text + "' has a width that is not a whole number");
        }
    }

    /** Whether this model's stages can stand in for {@code other}'s (same family, boundaries and stage count). */
    public boolean swappableWith(ModelSpec other) {
        return !isScript() && family == other.family && boundary == other.boundary && widths.size() == other.widths.size();
    }

    @Override
    public String toString() {
        if (isScript()) {
            return SCRIPT + script;
        }
        return family.name().toLowerCase(Locale.ROOT) + ":" + boundary + ":"
            + widths.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** A TorchScript spec's file, without the #METHOD that may follow it. */
    public java.nio.file.Path scriptFile() {
        if (!isScript()) {
            throw new IllegalStateException(this + " is not a TorchScript module");
        }
        int hash = script.lastIndexOf('#');
        return java.nio.file.Path.of(hash < 0 ? script : script.substring(0, hash));
    }
}
