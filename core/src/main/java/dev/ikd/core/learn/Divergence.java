package dev.ikd.core.learn;

/**
 * Whether a step's numbers can be sent: a loss or a tensor that is not finite is named here, with
 * where it is, so that the run stops with that line instead of passing NaN on (docs/architecture.md §5).
 * The student checks its step before it answers, the teacher its update and its next soft targets,
 * and the in-process trainer both: the same rules, so both runs stop at the same step.
 */
public final class Divergence {

    private Divergence() {
    }

    /** What in a student's step is not finite (course loss, exam loss, the feedback d, the course logits), or null. */
    public static String ofStudentStep(Student.StepResult r, int classes) {
        String loss = ofLoss("the course loss", r.courseLoss());
        if (loss == null) {
            loss = ofLoss("the exam loss", r.examLoss());
        }
        if (loss == null) {
            loss = ofMatrix("the feedback d", r.feedback(), classes);
        }
        return loss == null ? ofMatrix("a course logit", r.courseLogits(), classes) : loss;
    }

    /** What in a teacher's exam step is not finite (its loss, or the soft targets it serves next), or null. */
    public static String ofTeacherStep(double loss, float[] nextSoftTargets, int classes) {
        String l = ofLoss("the teacher's loss", loss);
        return l != null || nextSoftTargets == null ? l : ofMatrix("a soft target", nextSoftTargets, classes);
    }

    /** {@code what} is {@code value} when that is not finite; null when it is. */
    public static String ofLoss(String what, double value) {
        return Double.isFinite(value) ? null : what + " is " + value;
    }

    /** The first element of a row-major matrix with {@code columns} columns that is not finite, named by {@code what}; or null. */
    public static String ofMatrix(String what, float[] values, int columns) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return what + " is " + values[i] + " at [" + i / columns + ", " + i % columns + "]";
            }
        }
        return null;
    }
}
