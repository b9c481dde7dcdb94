package dev.ikd.teacher.protocol;

import dev.ikd.proto.state.ParamGroup;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Measured;
import dev.ikd.proto.v1.TokenTargets;

/**
 * The teacher of one student as its machine sees it: a port, so the rules can be tested with no
 * model and no data set. Behind it, the shell's learner serves soft targets and takes exam steps on
 * DJL ({@code WireSteps}), measures them and tells the listeners.
 */
public interface Teaching extends AutoCloseable {

    /** Exam steps applied so far. */
    long version();

    /** Soft targets for step k's course batch from the teacher as it is now. */
    Served serve(long k);

    /**
     * The exam step k of {@code steps} on the student's feedback d and course logits ([batch, classes] each; a language
     * model's d is [positions, columns] of the run's form, and it has no course logits).
     */
    Update teach(long k, long steps, float[] d, float[] courseLogits);

    /** Writes what this teacher learned (its φ copy or adapter, velocity, gathered feedback) into the saved state. */
    void saveTo(PupilState.Builder state);

    /** What this teacher learned, kept once its student finished (for export); null when it learns nothing. */
    ParamGroup learned();

    @Override
    void close();

    /**
     * Soft targets softmax(f_t(x)/T): a classifier's {@code probabilities} ([batch, classes] row-major)
     * or a language model's {@code tokens} (the other null), what making them measured, and, when they
     * are not finite, what is not ({@code diverged}, else null).
     */
    record Served(float[] probabilities, TokenTargets tokens, double temperature, Measured measured, String diverged) {

        /** A classifier's. */
        public Served(float[] probabilities, double temperature, Measured measured, String diverged) {
            this(probabilities, null, temperature, measured, diverged);
        }
    }

    /** An applied exam step: the teacher's loss, its version after, the drift and exam it measured; {@code diverged} as above. */
    record Update(double loss, long version, double driftKl, double examAccuracy, Measured measured, String diverged) {
    }

    /** Sets up a student's teacher: from what the student enrolled with, or as a saved state left it. */
    interface School {

        Teaching enroll(String studentId, Enrollment enrollment);

        /** The teacher as {@code saved} holds it; a state of another model is refused with the reason. */
        Teaching restore(String studentId, Enrollment enrollment, PupilState saved);
    }
}
