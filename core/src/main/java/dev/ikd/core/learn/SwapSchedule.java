package dev.ikd.core.learn;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * IAKD's swap probability over a run (docs/architecture.md §3, {@code --swap p0[:schedule]}): each training
 * forward replaces each student stage by the teacher's with probability p(step).
 */
public record SwapSchedule(double p0, Shape shape) {

    public enum Shape { CONSTANT, LINEAR }

    public static final SwapSchedule OFF = new SwapSchedule(0, Shape.CONSTANT);

    public SwapSchedule {
        if (!(p0 >= 0 && p0 <= 1)) {
            throw new IllegalArgumentException("swap probability must be in [0, 1], got " + p0);
        }
    }

    /** {@code p0}, {@code p0:constant} or {@code p0:linear} (linear decay to 0 over the run). */
    public static SwapSchedule parse(String text) {
        String[] parts = text.trim().split(":");
        double p;
        try {
            p = Double.parseDouble(parts[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("swap '" + text + "' does not start with a probability (e.g. 0.5:linear)");
        }
        Shape shape = Shape.CONSTANT;
        if (parts.length == 2) {
            try {
                shape = Shape.valueOf(parts[1].toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown swap schedule '" + parts[1] + "'; known: constant, linear");
            }
        } else if (parts.length > 2) {
            throw new IllegalArgumentException("swap '" + text + "' is not p0[:schedule]");
        }
        return new SwapSchedule(p, shape);
    }

    public boolean enabled() {
        return p0 > 0;
    }

    public double probability(long step, long totalSteps) {
        return switch (shape) {
            case CONSTANT -> p0;
            case LINEAR -> totalSteps <= 0 ? p0 : p0 * Math.max(0, 1 - (double) step / totalSteps);
        };
    }

    /** Which stages are swapped at {@code step}: a seeded draw, the same wherever it is computed. */
    public boolean[] mask(long seed, long step, long totalSteps, int stages) {
        boolean[] mask = new boolean[stages];
        double p = probability(step, totalSteps);
        if (p == 0) {
            return mask;
        }
        var random = new SplittableRandom(seed * 0x632BE59BD9B4E019L + step);
        for (int i = 0; i < stages; i++) {
            mask[i] = random.nextDouble() < p;
        }
        return mask;
    }

    @Override
    public String toString() {
        return p0 + ":" + shape.name().toLowerCase(Locale.ROOT);
    }
}
