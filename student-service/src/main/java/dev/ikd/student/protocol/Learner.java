package dev.ikd.student.protocol;

import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.SoftTargets;

/**
 * The student's learning as its machine sees it: a port, so the rules can be tested with no model
 * and no data set. Behind it, the shell's learner runs the course step, the exam and the feedback
 * on DJL ({@code WireSteps}), measures them and tells the listeners.
 */
public interface Learner extends AutoCloseable {

    /** Steps learned so far: step {@code stepsDone()} is the next one. */
    long stepsDone();

    /**
     * Learns the next step from the soft targets {@code p} of the teachers {@code present} (indices
     * into the machine's settings' teachers, ascending), checked by the machine against the terms'
     * form: [batch, classes] finite probabilities, or a language model's token targets. A step that
     * went ahead without a late teacher weighs those present alone.
     */
    Step learn(int[] present, SoftTargets[] p);

    /**
     * MetaDistil's pilot of the next step ({@code Settings.pilot}): {@link #learn}'s course step, exam
     * and feedback, on a copy of the student; θ and the steps done stay as they were.
     */
    Step pilot(int[] present, SoftTargets[] p);

    /** The next step's real course step alone, on the soft targets {@code p} of the teachers {@code present}; the hash of θ'. */
    String courseStep(int[] present, float[][] p);

    /** The test accuracy and the parameter hash after the last step. */
    Report report();

    /** Writes the parameters and the steps done into a student's saved state. */
    void saveTo(StudentState.Builder state);

    @Override
    void close();

    /**
     * What one step computed: the feedback for each teacher present ([batch, classes] each, in their
     * order: its share of d = dL/dp through the weighting; a language model's [positions, columns] of
     * the terms' form), the course logits
     * (for a teacher that needs them), the losses, the exam, the hash of θ' — or, when something was
     * not finite, {@code diverged} names it ("the exam loss is NaN") and the numbers mean nothing.
     * {@code meanWeights}: each present teacher's weight averaged over the course batch (null with one teacher).
     */
    record Step(float[][] feedback, float[] courseLogits, double courseLoss, double distillKl, double examLoss, double examAccuracy,
                String paramSha256, String diverged, double[] meanWeights) {

        /** With one teacher: no weights. */
        public Step(float[][] feedback, float[] courseLogits, double courseLoss, double distillKl, double examLoss,
                    double examAccuracy, String paramSha256, String diverged) {
            this(feedback, courseLogits, courseLoss, distillKl, examLoss, examAccuracy, paramSha256, diverged, null);
        }
    }

    /**
     * A finished student: its accuracy on the test split and the SHA-256 of its parameters; a language
     * model's test perplexity and the bytes of soft targets it learned from per token (NaN for a classifier).
     */
    record Report(double testAccuracy, String paramSha256, double testPerplexity, double softTargetBytesPerToken) {

        /** A classifier's. */
        public Report(double testAccuracy, String paramSha256) {
            this(testAccuracy, paramSha256, Double.NaN, Double.NaN);
        }
    }
}
