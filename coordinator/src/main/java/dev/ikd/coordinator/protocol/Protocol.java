package dev.ikd.coordinator.protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinator's rules for one run (docs/architecture.md §5), as a pure state machine: {@link #handle} takes an
 * event and returns the commands it causes; nothing here sends, reads or sleeps. Per student:
 * enroll → admitted → [CourseStart(k) → ExamResult(k) + TeacherUpdated(k)] for k = 0..N-1 → finished.
 * CourseStart(k+1) never goes out before both ExamResult(k) and TeacherUpdated(k); anything out of
 * order, duplicated or for an unknown run or student is rejected with its reason, never applied.
 */
public final class Protocol {

    private final String runId;
    private final Event.Terms terms;
    private final long timeoutMs;
    private final int expectedStudents;
    private int reported;
    private final Map<String, Student> students = new HashMap<>();

    /** One student's place in the protocol. */
    private static final class Student {
        final long steps;
        long step;
        boolean examDone;
        boolean teacherDone;
        boolean finished;
        boolean reported;
        long issuedAtMs;

        Student(long steps, long nowMs) {
            this.steps = steps;
            this.issuedAtMs = nowMs;
        }
    }

    /**
     * @param expectedStudents the run ends when this many students have finished and reported (0: it never ends by itself)
     */
    public Protocol(String runId, Event.Terms terms, long timeoutMs, int expectedStudents) {
        if (timeoutMs < 1) {
            throw new IllegalArgumentException("timeout must be at least 1 ms, got " + timeoutMs);
        }
        if (expectedStudents < 0) {
            throw new IllegalArgumentException("expected students must be >= 0, got " + expectedStudents);
        }
        this.expectedStudents = expectedStudents;
        this.runId = runId;
        this.terms = terms;
        this.timeoutMs = timeoutMs;
    }

    /** Applies one event at time {@code nowMs} and returns the commands it causes, in order. */
    public List<Command> handle(Event event, long nowMs) {
        if (!runId.equals(event.runId())) {
            return List.of(new Command.Reject(event, "unknown run " + event.runId() + " (this coordinator runs " + runId + ")"));
        }
        if (event instanceof Event.Enrolled e) {
            return enroll(e, nowMs);
        }
        if (event instanceof Event.Tick t) {
            return timeouts(t.nowMs());
        }
        if (event instanceof Event.Reported r) {
            return report(r);
        }
        String studentId = event instanceof Event.ExamResult r ? r.studentId() : ((Event.TeacherUpdated) event).studentId();
        long step = event instanceof Event.ExamResult r ? r.step() : ((Event.TeacherUpdated) event).step();
        Student s = students.get(studentId);
        if (s == null) {
            return List.of(new Command.Reject(event, "unknown student " + studentId));
        }
        if (s.finished) {
            return List.of(new Command.Reject(event, "student " + studentId + " already finished its " + s.steps + " steps"));
        }
        if (step != s.step) {
            return List.of(new Command.Reject(event, (step < s.step ? "duplicate: step " + step + " is done" : "out of order: step " + step
                + " has not started") + "; student " + studentId + " is at step " + s.step));
        }
        boolean exam = event instanceof Event.ExamResult;
        if (exam ? s.examDone : s.teacherDone) {
            return List.of(new Command.Reject(event, "duplicate " + (exam ? "exam result" : "teacher update") + " for step " + step
                + " of student " + studentId));
        }
        if (exam) {
            s.examDone = true;
        } else {
            s.teacherDone = true;
        }
        if (!(s.examDone && s.teacherDone)) {
            return List.of();
        }
        s.step++;
        s.examDone = false;
        s.teacherDone = false;
        if (s.step == s.steps) {
            s.finished = true;
            return List.of(new Command.Finish(studentId, s.steps));
        }
        s.issuedAtMs = nowMs;
        return List.of(courseStart(studentId, s.step));
    }

    /** Whether this student was admitted to the run. */
    public boolean isEnrolled(String studentId) {
        return students.containsKey(studentId);
    }

    private List<Command> report(Event.Reported r) {
        Student s = students.get(r.studentId());
        if (s == null) {
            return List.of(new Command.Reject(r, "unknown student " + r.studentId()));
        }
        if (!s.finished) {
            return List.of(new Command.Reject(r, "student " + r.studentId() + " reports before finishing: it is at step " + s.step
                + " of " + s.steps));
        }
        if (s.reported) {
            return List.of(new Command.Reject(r, "duplicate report from student " + r.studentId()));
        }
        s.reported = true;
        reported++;
        return reported == expectedStudents ? List.of(new Command.EndRun(reported)) : List.of();
    }

    private List<Command> enroll(Event.Enrolled e, long nowMs) {
        if (students.containsKey(e.studentId())) {
            // Rejected, not refused: a refusal would reach (and stop) the student that is enrolled.
            return List.of(new Command.Reject(e, "duplicate enrollment: student " + e.studentId() + " is already enrolled in run "
                + runId));
        }
        Event.Terms asked = e.terms();
        if (!terms.datasetSha256().equals(asked.datasetSha256())) {
            return List.of(new Command.Refuse(e.studentId(), "dataset checksum mismatch: student has " + asked.datasetSha256()
                + ", run " + runId + " uses " + terms.datasetSha256()));
        }
        if (!terms.splits().equals(asked.splits())) {
            return List.of(new Command.Refuse(e.studentId(), "data splits differ: student uses " + asked.splits() + ", run "
                + runId + " uses " + terms.splits()));
        }
        if (!terms.teacherMode().equals(asked.teacherMode())) {
            return List.of(new Command.Refuse(e.studentId(), "teacher mode differs: student expects " + asked.teacherMode()
                + ", run " + runId + " teaches in mode " + terms.teacherMode()));
        }
        if (e.steps() < 1) {
            return List.of(new Command.Refuse(e.studentId(), "a student needs at least 1 step, asked for " + e.steps()));
        }
        if (e.batchSize() < 1 || e.examBatchSize() < 1) {
            return List.of(new Command.Refuse(e.studentId(), "batch sizes must be at least 1, got " + e.batchSize() + " and "
                + e.examBatchSize()));
        }
        students.put(e.studentId(), new Student(e.steps(), nowMs));
        return List.of(new Command.Admit(e.studentId(), e.steps()), courseStart(e.studentId(), 0));
    }

    /** Re-issues, with the same key, every CourseStart whose answers are overdue. */
    private List<Command> timeouts(long nowMs) {
        List<Command> out = new ArrayList<>();
        students.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            Student s = e.getValue();
            if (!s.finished && nowMs - s.issuedAtMs >= timeoutMs) {
                s.issuedAtMs = nowMs;
                out.add(courseStart(e.getKey(), s.step));
            }
        });
        return out;
    }

    private Command courseStart(String studentId, long step) {
        return new Command.CourseStart(studentId, step);
    }

    /** How many students were admitted. */
    public int students() {
        return students.size();
    }

    /** Whether every expected student has finished and reported. */
    public boolean ended() {
        return expectedStudents > 0 && reported == expectedStudents;
    }
}
