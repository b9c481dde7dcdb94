package dev.ikd.core.train;

import java.util.List;

import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;

/**
 * A run's teachers: each one's model, in order, and how a student weighs their soft targets. One
 * teacher has no id of its own (its messages are as they always were); several are teacher-a,
 * teacher-b, ... — the wire's {@code Envelopes.teacherId} names them alike (a test in wiring holds
 * the two together).
 */
public record TeacherSet(List<ModelSpec> models, TeacherWeighting weighting) {

    /** Teachers a run may have: one id letter each. */
    public static final int MAX = 26;

    public TeacherSet {
        models = List.copyOf(models);
        if (models.isEmpty() || models.size() > MAX) {
            throw new IllegalArgumentException("--teachers must be 1 to " + MAX + ", got " + models.size());
        }
        weighting.checkedFor(models.size());
    }

    public static TeacherSet one(ModelSpec teacher) {
        return new TeacherSet(List.of(teacher), TeacherWeighting.EQUAL);
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
