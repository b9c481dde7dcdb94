package dev.ikd.coordinator.protocol;

/** What the coordinator tells the others; the thin verticle turns each into a Kafka record. */
public sealed interface Command {

    record Admit(String studentId, long steps) implements Command {
    }

    record Refuse(String studentId, String reason) implements Command {
    }

    /** Step {@code step} again: a nudge after a timeout, answered with what teacher and student recorded for it. */
    record CourseStart(String studentId, long step) implements Command {
    }

    /**
     * Step {@code step} has waited its deadline for soft targets: the student goes ahead with the
     * teachers that answered, as soon as the required number of them have.
     */
    record TeacherDeadline(String studentId, long step) implements Command {
    }

    /** The student broke the protocol (learned from the wrong teacher version), or the run was aborted: it stops, with the reason. */
    record Abort(String studentId, String reason) implements Command {
    }

    record Finish(String studentId, long steps) implements Command {
    }

    /**
     * The run cannot go on (a student or its teacher diverged, a student made no progress after
     * every nudge): every service stops with the reason.
     */
    record AbortRun(String reason) implements Command {
    }

    /** Every expected student has finished and reported: the run is over. */
    record EndRun(int students) implements Command {
    }

    /** A message the protocol will not apply: it goes to the dead-letter topic with this reason. */
    record Reject(Event event, String reason) implements Command {
    }
}
