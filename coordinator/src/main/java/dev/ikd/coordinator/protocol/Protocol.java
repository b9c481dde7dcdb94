package dev.ikd.coordinator.protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinator's rules for one run (docs/architecture.md §5), as a pure state machine:
 * {@link #handle} takes an event and returns the commands it causes; nothing here sends, reads or
 * sleeps. The coordinator admits students and then watches: the steps themselves go between teacher
 * and student (SoftTargets(k) → Feedback(k) → SoftTargets(k+1) ...), two hops a step, without it.
 * Per student it checks that the exam results and the teacher's updates each come once and in step
 * order, and that step k learned from the teacher version that includes the update of step k−1;
 * a violation aborts the student with the reason. A student with no news for the timeout is
 * nudged: the step it is stuck at is re-issued, and the teacher and the student answer with what
 * they recorded; after {@code maxNudges} nudges at one step with no news the run is aborted, so
 * nothing is sent again for ever. A step whose numbers were not finite aborts the run too. When both
 * streams have all N steps the student is finished.
 */
public final class Protocol {

    private final String runId;
    private final Event.Terms terms;
    private final long timeoutMs;
    private final int maxNudges;
    private final int expectedStudents;
    private int reported;
    /** Why the run was aborted, or null while it goes on. */
    private String abortedBecause;
    private final Map<String, Student> students = new HashMap<>();

    /** One student's place in the protocol. */
    private static final class Student {
        final long steps;
        /** The next exam result, and the next update expected from each teacher ("" when the run has one). */
        long examNext;
        final Map<String, Long> teacherNext = new HashMap<>();
        /** Step k's exam learned from this teacher version; each teacher reported this version after step k. */
        final Map<Long, Long> learnedFrom = new HashMap<>();
        final Map<String, Map<Long, Long>> teacherAfter = new HashMap<>();
        boolean finished;
        boolean aborted;
        boolean reported;
        long lastNewsMs;
        /** Nudges sent since the last news. */
        int nudges;

        Student(long steps, long nowMs, List<String> teachers) {
            this.steps = steps;
            this.lastNewsMs = nowMs;
            for (String t : teachers) {
                teacherNext.put(t, 0L);
                teacherAfter.put(t, new HashMap<>());
            }
        }

        /** The step this student's streams have all reached. */
        long stepReached() {
            long min = examNext;
            for (long t : teacherNext.values()) {
                min = Math.min(min, t);
            }
            return min;
        }

        boolean active() {
            return !finished && !aborted;
        }
    }

    /**
     * @param maxNudges        nudges at one step, with no news, before the run is aborted
     * @param expectedStudents the run ends when this many students have finished and reported (0: it never ends by itself)
     */
    public Protocol(String runId, Event.Terms terms, long timeoutMs, int maxNudges, int expectedStudents) {
        if (timeoutMs < 1) {
            throw new IllegalArgumentException("timeout must be at least 1 ms, got " + timeoutMs);
        }
        if (maxNudges < 1) {
            throw new IllegalArgumentException("--max-nudges must be at least 1, got " + maxNudges);
        }
        this.maxNudges = maxNudges;
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
        if (abortedBecause != null && !(event instanceof Event.Tick)) {
            return List.of(new Command.Reject(event, "run " + runId + " was aborted: " + abortedBecause));
        }
        if (event instanceof Event.Enrolled e) {
            return enroll(e, nowMs);
        }
        if (event instanceof Event.Diverged d) {
            return students.containsKey(d.studentId()) ? abortRun(d.reason())
                : List.of(new Command.Reject(event, "unknown student " + d.studentId()));
        }
        if (event instanceof Event.Tick t) {
            return timeouts(t.nowMs());
        }
        if (event instanceof Event.Reported r) {
            return report(r);
        }
        boolean exam = event instanceof Event.ExamResult;
        String studentId = exam ? ((Event.ExamResult) event).studentId() : ((Event.TeacherUpdated) event).studentId();
        long step = exam ? ((Event.ExamResult) event).step() : ((Event.TeacherUpdated) event).step();
        String teacher = exam ? null : ((Event.TeacherUpdated) event).teacherId();
        if (!exam && !terms.tags().contains(teacher)) {
            return List.of(new Command.Reject(event, "a teacher update from " + (teacher.isEmpty() ? "a single teacher" : teacher)
                + ", but run " + runId + " has " + (terms.teachers().isEmpty() ? "one teacher" : String.join(", ", terms.teachers()))));
        }
        String what = exam ? "exam result" : terms.teachers().isEmpty() ? "teacher update" : "update of " + teacher;
        Student s = students.get(studentId);
        if (s == null) {
            return List.of(new Command.Reject(event, "unknown student " + studentId));
        }
        if (s.aborted) {
            return List.of(new Command.Reject(event, "student " + studentId + " was aborted"));
        }
        if (s.finished) {
            return List.of(new Command.Reject(event, "student " + studentId + " already finished its " + s.steps + " steps"));
        }
        long next = exam ? s.examNext : s.teacherNext.get(teacher);
        if (step < next) {
            return List.of(new Command.Reject(event, "duplicate: the " + what + " of step " + step + " of student " + studentId
                + " is in"));
        }
        if (step > next) {
            return List.of(new Command.Reject(event, "out of order: " + what + " of step " + step + " of student " + studentId
                + " before that of step " + next));
        }
        if (step >= s.steps) {
            return List.of(new Command.Reject(event, what + " of step " + step + ", but student " + studentId + " takes " + s.steps
                + " steps"));
        }
        s.lastNewsMs = nowMs;
        s.nudges = 0;
        if (exam) {
            s.examNext++;
            s.learnedFrom.put(step, ((Event.ExamResult) event).teacherVersion());
        } else {
            s.teacherNext.put(teacher, step + 1);
            s.teacherAfter.get(teacher).put(step, ((Event.TeacherUpdated) event).teacherVersion());
        }
        String violation = check(s, exam ? step : step + 1);
        if (violation != null) {
            s.aborted = true;
            return List.of(new Command.Abort(studentId, violation));
        }
        if (s.stepReached() == s.steps) {
            s.finished = true;
            return List.of(new Command.Finish(studentId, s.steps));
        }
        return List.of();
    }

    /**
     * Step k must have learned from the teacher that includes the update of step k−1 (version 0 at
     * step 0) — from each teacher: checked once all are known, and then forgotten.
     */
    private static String check(Student s, long k) {
        Long learned = s.learnedFrom.get(k);
        if (learned == null) {
            return null;
        }
        for (Map<Long, Long> after : s.teacherAfter.values()) {
            if (k > 0 && !after.containsKey(k - 1)) {
                return null;
            }
        }
        s.learnedFrom.remove(k);
        for (var e : s.teacherAfter.entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            Long expected = k == 0 ? Long.valueOf(0) : e.getValue().remove(k - 1);
            if (!learned.equals(expected)) {
                String who = e.getKey().isEmpty() ? "the teacher" : e.getKey();
                return "step " + k + " learned from teacher version " + learned + ", but " + who + " reported version " + expected
                    + (k == 0 ? " to start from" : " after step " + (k - 1));
            }
        }
        return null;
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
            return List.of(new Command.Reject(r, "student " + r.studentId() + " reports before finishing: it is at step "
                + s.stepReached() + " of " + s.steps));
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
        if (!terms.teachers().equals(asked.teachers())) {
            return List.of(new Command.Refuse(e.studentId(), "teachers differ: student learns from " + names(asked.teachers())
                + ", run " + runId + " has " + names(terms.teachers())));
        }
        students.put(e.studentId(), new Student(e.steps(), nowMs, terms.tags()));
        return List.of(new Command.Admit(e.studentId(), e.steps()));
    }

    /**
     * Re-issues, with the same key, the step of every student that has had no news for the timeout;
     * a student still stuck after {@code maxNudges} of them aborts the run.
     */
    private List<Command> timeouts(long nowMs) {
        if (abortedBecause != null) {
            return List.of();
        }
        List<Command> out = new ArrayList<>();
        for (Map.Entry<String, Student> e : students.entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            Student s = e.getValue();
            if (s.active() && nowMs - s.lastNewsMs >= timeoutMs) {
                long step = s.stepReached();
                if (s.nudges >= maxNudges) {
                    return abortRun(e.getKey() + " made no progress at step " + step + ": nudged " + s.nudges + " times, "
                        + timeoutMs + " ms apart, with no new exam result or teacher update (the dead letters say what was refused)");
                }
                s.lastNewsMs = nowMs;
                s.nudges++;
                out.add(new Command.CourseStart(e.getKey(), step));
            }
        }
        return out;
    }

    private static String names(List<String> teachers) {
        return teachers.isEmpty() ? "one teacher" : String.join(", ", teachers);
    }

    /** Stops every student still learning, then the whole run, with {@code reason}. */
    private List<Command> abortRun(String reason) {
        abortedBecause = reason;
        List<Command> out = new ArrayList<>();
        students.entrySet().stream().sorted(Map.Entry.comparingByKey()).filter(e -> e.getValue().active()).forEach(e -> {
            e.getValue().aborted = true;
            out.add(new Command.Abort(e.getKey(), reason));
        });
        out.add(new Command.AbortRun(reason));
        return out;
    }

    /** Why the run was aborted, or null while it goes on (or ended well). */
    public String abortedBecause() {
        return abortedBecause;
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
