package dev.ikd.student.protocol;

import java.util.List;

import dev.ikd.proto.codec.TargetsForm;

/**
 * The protocol's terms for one student ({@link StudentMachine}).
 *
 * @param window        how many steps of soft targets may come ahead (a learning teacher's depend on the last feedback: 1)
 * @param frozenTeacher whether every step learns from teacher version 0 (a frozen teacher) rather than version k
 * @param courseLogits  whether the feedback carries the student's course logits (a teacher that shapes its features, pesf)
 * @param required      how many teachers' soft targets a step needs once its deadline has passed (all: no deadline)
 * @param pilot         MetaDistil's pilot update ({@code HyperParameters.pilot}; one learning teacher): step k's feedback
 *                      comes from a pilot on a copy of the student, and its real course step waits for the soft targets of
 *                      step k+1, which carry the updated teacher's targets for step k's batch
 * @param form          what the soft targets and the feedback look like on the wire: a classifier's, or a language model's
 */
public record StudentTerms(String runId, String studentId, long steps, int batchSize, int classes, int window,
                           boolean frozenTeacher, boolean courseLogits, List<String> teachers, int required, boolean pilot,
                           TargetsForm form) {

    public StudentTerms {
        if (form.classes() != classes) {
            throw new IllegalArgumentException("the soft targets' form has " + form.classes() + " classes, the student " + classes);
        }
        if (form.language() && (pilot || teachers.size() > 1 || courseLogits)) {
            throw new IllegalArgumentException("a language model over Kafka learns from one teacher, frozen or ikd, without the "
                + "pilot update");
        }
        if (window < 1) {
            throw new IllegalArgumentException("--prefetch must be at least 1 step, got " + window);
        }
        teachers = List.copyOf(teachers);
        if (teachers.isEmpty()) {
            throw new IllegalArgumentException("a student learns from at least one teacher");
        }
        if (required < 1 || required > teachers.size()) {
            throw new IllegalArgumentException("--teachers-required " + required + ", but the run has " + teachers.size()
                + " teachers");
        }
        if (pilot && (teachers.size() > 1 || frozenTeacher)) {
            throw new IllegalArgumentException("the pilot update over Kafka takes one learning teacher, not "
                + (frozenTeacher ? "a frozen one" : teachers.size() + " teachers") + " (in process it takes several)");
        }
    }

    /** A classifier's. */
    public StudentTerms(String runId, String studentId, long steps, int batchSize, int classes, int window, boolean frozenTeacher,
                        boolean courseLogits, List<String> teachers, int required, boolean pilot) {
        this(runId, studentId, steps, batchSize, classes, window, frozenTeacher, courseLogits, teachers, required, pilot,
            TargetsForm.classes(classes));
    }

    /** Without the pilot update. */
    public StudentTerms(String runId, String studentId, long steps, int batchSize, int classes, int window, boolean frozenTeacher,
                    boolean courseLogits, List<String> teachers, int required) {
        this(runId, studentId, steps, batchSize, classes, window, frozenTeacher, courseLogits, teachers, required, false);
    }

    public StudentTerms withPilot(boolean on) {
        return new StudentTerms(runId, studentId, steps, batchSize, classes, window, frozenTeacher, courseLogits, teachers, required, on,
            form);
    }

    /** Every step needs all these teachers. */
    public StudentTerms(String runId, String studentId, long steps, int batchSize, int classes, int window, boolean frozenTeacher,
                    boolean courseLogits, List<String> teachers) {
        this(runId, studentId, steps, batchSize, classes, window, frozenTeacher, courseLogits, teachers, teachers.size());
    }

    /** One teacher. */
    public StudentTerms(String runId, String studentId, long steps, int batchSize, int classes, int window, boolean frozenTeacher,
                    boolean courseLogits) {
        this(runId, studentId, steps, batchSize, classes, window, frozenTeacher, courseLogits, List.of(""));
    }

    /**
     * The version of a teacher whose soft targets step k must learn from, when {@code missed} steps
     * before k went without it: one update per step that used it, or none at all (a frozen teacher).
     */
    public long expectedVersion(long k, long missed) {
        return frozenTeacher ? 0 : k - missed;
    }
}
