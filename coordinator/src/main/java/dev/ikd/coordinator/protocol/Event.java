package dev.ikd.coordinator.protocol;

import java.util.Map;

/** What the coordinator hears: decoded messages and the passing of time (docs/architecture.md §5). */
public sealed interface Event {

    String runId();

    /**
     * A student asks to join on these terms: they must be the run's, and it must ask for at least one
     * step and batches of at least one sample (its plan of batches is fixed by them at admission).
     */
    record Enrolled(String runId, String studentId, Terms terms, long steps, int batchSize, int examBatchSize) implements Event {
        public Enrolled(String runId, String studentId, Terms terms, long steps) {
            this(runId, studentId, terms, steps, 1, 1);
        }
    }

    /**
     * What a student and the run must agree on.
     *
     * @param datasetSha256 the data set both sides hold
     * @param splits        how the training pool is split (seed, label and quiz fractions), so both sides see the same ids
     * @param teacherMode   the kind of teacher the student expects
     * @param teachers      the teachers it learns from: empty for the run's only teacher, else teacher-a, teacher-b, ...
     * @param required      how many of them a step needs once its deadline has passed (all of them: no deadline)
     */
    record Terms(String datasetSha256, String splits, String teacherMode, java.util.List<String> teachers, int required) {

        public Terms {
            teachers = java.util.List.copyOf(teachers);
            int count = Math.max(1, teachers.size());
            if (required < 1 || required > count) {
                throw new IllegalArgumentException("--teachers-required " + required + ", but the run has " + count + " teachers");
            }
        }

        /** Every step needs all of {@code teachers}. */
        public Terms(String datasetSha256, String splits, String teacherMode, java.util.List<String> teachers) {
            this(datasetSha256, splits, teacherMode, teachers, Math.max(1, teachers.size()));
        }

        /** With one teacher. */
        public Terms(String datasetSha256, String splits, String teacherMode) {
            this(datasetSha256, splits, teacherMode, java.util.List.of());
        }

        /** The terms of data set {@code d} for one teacher of {@code teacherMode}. */
        public static Terms of(dev.ikd.proto.v1.DatasetSpec d, String teacherMode) {
            return of(d, teacherMode, java.util.List.of());
        }

        /** The terms of data set {@code d} for the teachers {@code teachers} (empty: one) of {@code teacherMode}, all required. */
        public static Terms of(dev.ikd.proto.v1.DatasetSpec d, String teacherMode, java.util.List<String> teachers) {
            return of(d, teacherMode, teachers, Math.max(1, teachers.size()));
        }

        /** As above, a step needing {@code required} of the teachers once its deadline has passed. */
        public static Terms of(dev.ikd.proto.v1.DatasetSpec d, String teacherMode, java.util.List<String> teachers, int required) {
            return new Terms(d.getSha256(), java.lang.String.format(java.util.Locale.ROOT,
                "split seed %d, label fraction %s, quiz fraction %s, %d training samples", d.getSplitSeed(), d.getLabelFraction(),
                d.getQuizFraction(), d.getTrainSize()), teacherMode, teachers, required);
        }

        /** The envelope tags of the teachers: "" for the only one. */
        java.util.List<String> tags() {
            return teachers.isEmpty() ? java.util.List.of("") : teachers;
        }
    }

    /**
     * The student finished step {@code step}'s course step and exam, learning from the soft targets of
     * each teacher {@code teacherVersions} names, at that version ("" for the run's only teacher).
     */
    record ExamResult(String runId, String studentId, long step, String paramSha256, Map<String, Long> teacherVersions)
        implements Event {

        public ExamResult {
            teacherVersions = Map.copyOf(teacherVersions);
        }

        /** From the run's only teacher, at {@code teacherVersion}. */
        public ExamResult(String runId, String studentId, long step, String paramSha256, long teacherVersion) {
            this(runId, studentId, step, paramSha256, Map.of("", teacherVersion));
        }
    }

    /**
     * A teacher ({@code teacherId} of several, "" when it is the only one) applied step {@code step}'s
     * feedback for this student; its version is now {@code teacherVersion}.
     */
    record TeacherUpdated(String runId, String studentId, long step, long teacherVersion, String teacherId) implements Event {

        /** From the run's only teacher. */
        public TeacherUpdated(String runId, String studentId, long step, long teacherVersion) {
            this(runId, studentId, step, teacherVersion, "");
        }
    }

    /**
     * A student's step, or its teacher's, was not finite: {@code reason} names the student, the step
     * and the quantity. The run cannot go on: it is aborted with that line.
     */
    record Diverged(String runId, String studentId, long step, String reason) implements Event {
    }

    /** A finished student's last word: test accuracy and final parameter hash. */
    record Reported(String runId, String studentId, long steps, String paramSha256) implements Event {
    }

    /** The clock, so that timeouts are part of the pure protocol. */
    record Tick(String runId, long nowMs) implements Event {
    }
}
