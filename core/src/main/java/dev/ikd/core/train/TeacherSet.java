package dev.ikd.core.train;

import java.util.List;

import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;

/**
 * A run's teachers: each one's model, in order, and how a student weighs their soft targets. One
 * teacher has no id of its own (its messages are as they always were); several are teacher-a,
 * teacher-b, ... — the wire's {@code Envelopes.teacherId} names them alike (a test in wiring holds
 * the two together). A step waits for every teacher's soft targets; with {@code required} below the
 * count, once it has waited {@code deadlineMs} it goes ahead with the teachers that answered, as soon
 * as {@code required} of them have.
 */
public record TeacherSet(List<ModelSpec> models, TeacherWeighting weighting, int required, long deadlineMs) {

    /** Teachers a run may have: one id letter each. */
    public static final int MAX = 26;

    /** How long a step waits for every teacher when it may go without some, unless --teacher-deadline-ms says otherwise. */
    public static final long DEADLINE_MS = 2_000;

    public TeacherSet {
        models = List.copyOf(models);
        if (models.isEmpty() || models.size() > MAX) {
            throw new IllegalArgumentException("--teachers must be 1 to " + MAX + ", got " + models.size());
        }
        weighting.checkedFor(models.size());
        if (required < 1 || required > models.size()) {
            throw new IllegalArgumentException("--teachers-required " + required + ", but the run has " + models.size() + " teacher"
                + (models.size() == 1 ? "" : "s") + ": give 1 to " + models.size());
        }
        if (required < models.size() && weighting.hasZeroWeight()) {
            throw new IllegalArgumentException("--teacher-weighting " + weighting + " gives a teacher weight 0, and with "
                + "--teachers-required " + required + " a step could go ahead with no weight at all: give every teacher a weight > 0");
        }
        if (deadlineMs < 1) {
            throw new IllegalArgumentException("--teacher-deadline-ms must be at least 1, got " + deadlineMs);
        }
    }

    /** Every teacher's soft targets needed for every step. */
    public TeacherSet(List<ModelSpec> models, TeacherWeighting weighting) {
        this(models, weighting, Math.max(1, models.size()), DEADLINE_MS);
    }

    public static TeacherSet one(ModelSpec teacher) {
        return new TeacherSet(List.of(teacher), TeacherWeighting.EQUAL);
    }

    /** Whether a step may go ahead without some teachers, once its deadline has passed. */
    public boolean degradable() {
        return required < count();
    }

    public int count() {
        return models.size();
    }

    /** Teacher {@code k}'s id: "" when it is the only one, else teacher-a, teacher-b, ... */
    public String id(int k) {
        if (k < 0 || k >= count()) {
            throw new IllegalArgumentException("teacher " + k + " of " + count());
        }
        return count() == 1 ? "" : "teacher-" + (char) ('a' + k);
    }

    /** The seed teacher {@code k} is pretrained from: the run's own for the first, so one teacher is as it always was. */
    public static long pretrainSeed(long runSeed, int k) {
        return runSeed + 7_919L * k;
    }
}
