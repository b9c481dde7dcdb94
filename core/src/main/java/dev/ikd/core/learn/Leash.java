package dev.ikd.core.learn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How far a learning teacher may move (docs/architecture.md §2, "a teacher on a leash";
 * {@code --teacher-leash}). IKD's teacher update is exact but unconstrained, and measured it drifts
 * and can take its students down with it. Each brake is a change to the teacher's pure exam step:
 *
 * @param kl     λ of a trust region: λ · T² · (1/B) Σ_i KL(p0_i ‖ p_i(φ)) added to the teacher's loss,
 *               p0 the soft targets of the teacher it started from, on the course batch (0: off)
 * @param warmup the teacher's learning rate rises linearly over this many steps (0: off)
 * @param decay  and falls over the run to 0 (linear or cosine), or stays (none)
 * @param clip   the feedback d is scaled down to this Frobenius norm when it is longer (0: off)
 * @param every  the teacher applies its gradients every this many steps, their mean over them (1: every step)
 * @param pilot  MetaDistil's pilot update: the student's step k is a pilot, taken on a copy, whose exam gives the
 *               feedback; the teacher learns from it, and the student's real course step k then learns from the
 *               updated teacher's soft targets on the same batch (false: the step learns from the teacher as it was)
 */
public record Leash(double kl, int warmup, Decay decay, double clip, int every, boolean pilot) {

    public enum Decay { NONE, LINEAR, COSINE }

    public static final Leash NONE = new Leash(0, 0, Decay.NONE, 0, 1);

    /** No pilot update. */
    public Leash(double kl, int warmup, Decay decay, double clip, int every) {
        this(kl, warmup, decay, clip, every, false);
    }

    public Leash {
        if (!(kl >= 0) || Double.isInfinite(kl)) {
            throw new IllegalArgumentException("teacher leash kl must be a finite number >= 0, got " + kl);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("teacher leash warmup must be >= 0 steps, got " + warmup);
        }
        if (!(clip >= 0) || Double.isInfinite(clip)) {
            throw new IllegalArgumentException("teacher leash clip must be a finite number >= 0, got " + clip);
        }
        if (every < 1) {
            throw new IllegalArgumentException("teacher leash every must be at least 1 step, got " + every);
        }
    }

    /**
     * {@code none}, or brakes separated by commas: {@code kl=λ}, {@code warmup=STEPS},
     * {@code decay=none|linear|cosine}, {@code clip=NORM}, {@code every=K}, {@code pilot=1}; e.g.
     * {@code kl=0.5,warmup=50,decay=cosine}.
     */
    public static Leash parse(String text) {
        String t = text.strip();
        if (t.isEmpty() || t.equalsIgnoreCase("none")) {
            return NONE;
        }
        double kl = 0;
        int warmup = 0;
        Decay decay = Decay.NONE;
        double clip = 0;
        int every = 1;
        boolean pilot = false;
        for (String part : t.split(",")) {
            String[] kv = part.strip().split("=", 2);
            if (kv.length != 2 || kv[1].isBlank()) {
                throw new IllegalArgumentException("teacher leash '" + text + "': '" + part.strip() + "' is not name=value (e.g. "
                    + "kl=0.5,warmup=50,decay=cosine,clip=0.05,every=4)");
            }
            String v = kv[1].strip();
            try {
                switch (kv[0].strip()) {
                    case "kl" -> kl = Double.parseDouble(v);
                    case "warmup" -> warmup = Integer.parseInt(v);
                    case "decay" -> decay = Decay.valueOf(v.toUpperCase(Locale.ROOT));
                    case "clip" -> clip = Double.parseDouble(v);
                    case "every" -> every = Integer.parseInt(v);
                    case "pilot" -> pilot = switch (v) {
                        case "1" -> true;
                        case "0" -> false;
                        default -> throw new IllegalArgumentException("teacher leash '" + text + "': pilot is 1 (on) or 0 (off), got '"
                            + v + "'");
                    };
                    default -> throw new IllegalArgumentException("teacher leash '" + text + "': unknown brake '" + kv[0].strip()
                        + "'; known: kl, warmup, decay, clip, every, pilot");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("teacher leash '" + text + "': " + kv[0].strip() + " needs a number, got '" + v + "'");
            } catch (IllegalArgumentException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("teacher leash")) {
                    throw e;
                }
                throw new IllegalArgumentException("teacher leash '" + text + "': decay is none, linear or cosine, got '" + v + "'");
            }
        }
        return new Leash(kl, warmup, decay, clip, every, pilot);
    }

    /** Whether any brake is on. */
    public boolean on() {
        return !equals(NONE);
    }

    /** The factor on the teacher's learning rate at step k of a run of {@code steps} (0-based). */
    public double rateFactor(long k, long steps) {
        double f = warmup > 0 ? Math.min(1.0, (k + 1.0) / warmup) : 1.0;
        double progress = steps <= 0 ? 0 : Math.min(1.0, (double) k / steps);
        return f * switch (decay) {
            case NONE -> 1.0;
            case LINEAR -> 1.0 - progress;
            case COSINE -> 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }

    /** Whether step k applies the gradients gathered since the last update (every {@code every} steps, and the last one). */
    public boolean updatesAt(long k, long steps) {
        return (k + 1) % every == 0 || k + 1 >= steps;
    }

    @Override
    public String toString() {
        if (!on()) {
            return "none";
        }
        List<String> parts = new ArrayList<>();
        if (kl > 0) {
            parts.add("kl=" + kl);
        }
        if (warmup > 0) {
            parts.add("warmup=" + warmup);
        }
        if (decay != Decay.NONE) {
            parts.add("decay=" + decay.name().toLowerCase(Locale.ROOT));
        }
        if (clip > 0) {
            parts.add("clip=" + clip);
        }
        if (every > 1) {
            parts.add("every=" + every);
        }
        if (pilot) {
            parts.add("pilot=1");
        }
        return String.join(",", parts);
    }
}
