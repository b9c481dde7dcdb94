package dev.ikd.bench;

import java.util.ArrayList;
import java.util.List;

import dev.ikd.core.learn.Leash;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.train.TeacherSet;
import dev.ikd.core.train.TrainConfig;

/**
 * What {@code ikd bench accuracy --methods} names: a method (alone, kd, ikd, ..., a learning one
 * on a leash as METHOD@BRAKE=V+...), and with several teachers which of them it learns from.
 */
final class BenchMethods {

    private BenchMethods() {
    }

    /**
     * Which of several teachers a method learns from: METHOD:teacher-x (that one alone) or
     * METHOD:WEIGHTING (all of them, so weighed); with one teacher, a plain METHOD.
     *
     * @param single the one teacher's index, or -1 for all of them
     */
    record Ensemble(String method, TeacherSet teachers, int single) {

        static Ensemble of(String name, TeacherSet run) {
            int colon = name.indexOf(':');
            if (colon < 0) {
                if (run.count() > 1 && !name.startsWith("alone")) {
                    throw new IllegalArgumentException("method '" + name + "': with " + run.count() + " teachers, say which it learns "
                        + "from: " + name + ":teacher-a (one alone) or " + name + ":equal|confidence|fixed:W1,... (all, so weighed)");
                }
                BenchMethods.method(name);
                return new Ensemble(name, run.count() == 1 ? run : TeacherSet.one(run.models().get(0)), run.count() == 1 ? -1 : 0);
            }
            String base = name.substring(0, colon);
            String which = name.substring(colon + 1);
            BenchMethods.method(base);
            for (int t = 0; t < run.count(); t++) {
                if (run.id(t).equals(which) || run.count() == 1 && which.equals("teacher-a")) {
                    return new Ensemble(base, TeacherSet.one(run.models().get(t)), t);
                }
            }
            if (run.count() == 1) {
                throw new IllegalArgumentException("method '" + name + "': a weighting needs --teachers 2 or more");
            }
            return new Ensemble(base, new TeacherSet(run.models(), TeacherWeighting.parse(which)), -1);
        }

        /** The pretrained teachers (or their caches) this method learns from, out of all of the run's. */
        <T> List<T> pick(List<T> all) {
            return single < 0 ? all : List.of(all.get(single));
        }
    }

    /**
     * What a method name means: the teacher's mode, whether IAKD swaps stages, whether there is no
     * teacher at all, and the brakes on a learning teacher (null: the run's own) with its β (null: the run's).
     */
    record Method(TeacherMode mode, boolean swap, boolean alone, Leash leash, Double beta) {

        /** The run's teacher settings with this method's brakes and β, where it names them. */
        TrainConfig teacherConfig(TrainConfig c) {
            if (leash == null && beta == null) {
                return c;
            }
            TeacherConfig t = c.teacherConfig();
            return c.withTeacherConfig(new TeacherConfig(t.learningRate(), t.momentum(), beta == null ? t.beta() : beta,
                t.adapterHidden(), leash == null ? t.leash() : leash));
        }
    }

    static Method method(String name) {
        int at = name.indexOf('@');
        String base = at < 0 ? name : name.substring(0, at);
        Method m = switch (base) {
            case "alone" -> new Method(TeacherMode.FROZEN, false, true, null, null);
            case "kd" -> new Method(TeacherMode.FROZEN, false, false, null, null);
            case "ikd" -> new Method(TeacherMode.IKD, false, false, null, null);
            case "ikd-adapter" -> new Method(TeacherMode.IKD_ADAPTER, false, false, null, null);
            case "pesf" -> new Method(TeacherMode.PESF, false, false, null, null);
            case "iakd" -> new Method(TeacherMode.FROZEN, true, false, null, null);
            case "iakd+ikd" -> new Method(TeacherMode.IKD, true, false, null, null);
            default -> throw new IllegalArgumentException("unknown method '" + name
                + "'; known: alone, kd, ikd, ikd-adapter, pesf, iakd, iakd+ikd, each learning one with @BRAKE=V+...");
        };
        if (at < 0) {
            return m;
        }
        if (!m.mode().learnsFromFeedback()) {
            throw new IllegalArgumentException("method '" + name + "': only a learning teacher (ikd, ikd-adapter, iakd+ikd) takes "
                + "brakes");
        }
        Double beta = null;
        List<String> brakes = new ArrayList<>();
        for (String b : name.substring(at + 1).split("\\+")) {
            if (b.startsWith("beta=")) {
                try {
                    beta = Double.parseDouble(b.substring(5));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("method '" + name + "': beta needs a number, got '" + b.substring(5) + "'");
                }
            } else {
                brakes.add(b);
            }
        }
        return new Method(m.mode(), m.swap(), false, brakes.isEmpty() ? null : Leash.parse(String.join(",", brakes)), beta);
    }
}
