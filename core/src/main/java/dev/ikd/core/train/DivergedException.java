package dev.ikd.core.train;

/** A run whose numbers stopped being finite: which student, at which step, and which quantity (one line). */
public final class DivergedException extends RuntimeException {

    public DivergedException(String message) {
        super(message);
    }

    /** "student-0 diverged at step 11: the feedback d is NaN at [0, 3]" — the line every part of ikd says it with. */
    public static String line(String studentId, long step, String what) {
        return studentId + " diverged at step " + step + ": " + what;
    }
}
