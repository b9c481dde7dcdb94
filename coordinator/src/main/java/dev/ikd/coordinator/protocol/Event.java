package dev.ikd.coordinator.protocol;

/** What the coordinator hears: decoded messages and the passing of time (DESIGN §5). */
public sealed interface Event {

    String runId();

    /** A student asks to join: it must hold the run's data set and ask for at least one step. */
    record Enrolled(String runId, String studentId, String datasetSha256, long steps) implements Event {
    }

    /** The student finished step {@code step}'s course step and exam. */
    record ExamResult(String runId, String studentId, long step, String paramSha256) implements Event {
    }

    /** The teacher applied step {@code step}'s feedback for this student. */
    record TeacherUpdated(String runId, String studentId, long step, long teacherVersion) implements Event {
    }

    /** The clock, so that timeouts are part of the pure protocol. */
    record Tick(String runId, long nowMs) implements Event {
    }
}
