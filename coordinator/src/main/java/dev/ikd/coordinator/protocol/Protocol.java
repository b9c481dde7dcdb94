package dev.ikd.coordinator.protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
    private final long deadlineMs;
    private final int maxNudges;
    private final int expectedStudents;
    private int reported;
    /** Why the run was aborted, or null while it goes on. */
    private String abortedBecause;
    private final Map<String, Student> students = new HashMap<>();

    /** One student's place in the protocol. */
    private static final class Student {
        final long steps;
        /** The next exam result. */
        long examNext;
        /** Each teacher's stream of updates ("" when the run has one). */
        final Map<String, Updates> teachers = new TreeMap<>();
        boolean finished;
        boolean aborted;
        boolean reported;
        long lastNewsMs;
        /** Nudges sent since the last news. */
        int nudges;
        /** When the step at hand began (the admission, or the last exam result), and the last step whose deadline was sent. */
        long stepSinceMs;
        long deadlineSent = -1;

        Student(long steps, long nowMs, List<String> teachers) {
            this.steps = steps;
            this.lastNewsMs = nowMs;
            this.stepSinceMs = nowMs;
            teachers.forEach(t -> this.teachers.put(t, new Updates()));
        }

        /** The step this student's streams have all reached: its next exam, or an update that a step that used a teacher awaits. */
        long stepReached() {
            long min = examNext;
            for (Updates u : teachers.values()) {
                if (!u.awaited.isEmpty()) {
                    min = Math.min(min, u.awaited.first());
                }
            }
            return min;
        }

        boolean active() {
            return !finished && !aborted;
        }
    }

    /**
     * One teacher's updates for one student. A teacher updates once per step that used it, in step
     * order; a step that went ahead without it (its deadline passed) has no update of it.
     */
    private static final class Updates {
        /** The step of its last update (-1: none), and the version it reported after each step a later step may still need. */
        long last = -1;
        final TreeMap<Long, Long> versionAfter = new TreeMap<>();
        /** The last step an exam result said used it (-1: none). */
        long lastUsed = -1;
        /** Steps that used it whose update has not come. */
        final java.util.TreeSet<Long> awaited = new java.util.TreeSet<>();
        /** Checks waiting for an update, by the step whose update must report the version a later step learned from. */
        final Map<Long, Learned> waiting = new HashMap<>();
    }

    /** Step {@code step} learned from a teacher at {@code version}. */
    private record Learned(long step, long version) {
    }

    /**
     * @param maxNudges        nudges at one step, with no news, before the run is aborted
     * @param expectedStudents the run ends when this many students have finished and reported (0: it never ends by itself)
     */
    public Protocol(String runId, Event.Terms terms, long timeoutMs, int maxNudges, int expectedStudents) {
        this(runId, terms, timeoutMs, maxNudges, expectedStudents, timeoutMs);
    }

    /**
     * @param deadlineMs with several teachers of which fewer are required: how long a step waits for
     *                   every teacher's soft targets before its student is told to go ahead with
     *                   those that answered ({@code TeacherDeadline})
     */
    public Protocol(String runId, Event.Terms terms, long timeoutMs, int maxNudges, int expectedStudents, long deadlineMs) {
        if (deadlineMs < 1) {
            throw new IllegalArgumentException("--teacher-deadline-ms must be at least 1 ms, got " + deadlineMs);
        }
        this.deadlineMs = deadlineMs;
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
                + ", but run " + runId + " has " + names(terms.teachers())));
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
        Updates updates = exam ? null : s.teachers.get(teacher);
        long next = exam ? s.examNext : updates.last + 1;
        if (step < next) {
            return List.of(new Command.Reject(event, "duplicate: the " + what + " of step " + step + " of student " + studentId
                + " is in"));
        }
        if (exam ? step > next : !updates.awaited.isEmpty() && updates.awaited.first() < step) {
            return List.of(new Command.Reject(event, "out of order: " + what + " of step " + step + " of student " + studentId
                + " before that of step " + (exam ? next : updates.awaited.first())));
        }
        if (step >= s.steps) {
            return List.of(new Command.Reject(event, what + " of step " + step + ", but student " + studentId + " takes " + s.steps
                + " steps"));
        }
        String violation;
        if (exam) {
            Map<String, Long> used = ((Event.ExamResult) event).teacherVersions();
            for (String t : used.keySet()) {
                if (!s.teachers.containsKey(t)) {
                    return List.of(new Command.Reject(event, "the exam result of step " + step + " of student " + studentId
                        + " names " + (t.isEmpty() ? "a single teacher" : t) + ", but run " + runId + " has " + names(terms.teachers())));
                }
            }
            s.examNext++;
            s.stepSinceMs = nowMs;
            violation = used.size() < terms.required()
                ? "step " + step + " learned from " + used.size() + " teacher" + (used.size() == 1 ? "" : "s") + " ("
                    + String.join(", ", new java.util.TreeSet<>(used.keySet())) + "), the run requires " + terms.required()
                : examOf(s, step, used);
        } else if (step < s.examNext && !updates.awaited.contains(step)) {
            violation = teacher + " reported an update of step " + step + ", which went ahead without it";
        } else {
            violation = updateOf(updates, teacher, step, ((Event.TeacherUpdated) event).teacherVersion());
        }
        s.lastNewsMs = nowMs;
        s.nudges = 0;
        if (violation != null) {
            s.aborted = true;
            return List.of(new Command.Abort(studentId, violation));
        }
        if (s.examNext == s.steps && s.teachers.values().stream().allMatch(u -> u.awaited.isEmpty())) {
            s.finished = true;
            return List.of(new Command.Finish(studentId, s.steps));
        }
        return List.of();
    }

    /**
     * Exam result k, learned from teachers {@code used} at these versions: each must be the version
     * that teacher reported after the last step that used it (0 when none did) — checked now if
     * that update is in, else when it comes; each teacher's update of step k is then awaited. A
     * teacher the step went without must not have updated at step k.
     */
    private static String examOf(Student s, long k, Map<String, Long> used) {
        for (var e : s.teachers.entrySet()) {
            Updates u = e.getValue();
            Long learned = used.get(e.getKey());
            if (learned == null) {
                if (u.versionAfter.containsKey(k)) {
                    return e.getKey() + " reported an update of step " + k + ", which went ahead without it";
                }
                continue;
            }
            if (u.last > k && !u.versionAfter.containsKey(k)) {
                return "out of order: " + e.getKey() + " reported an update of step " + u.last + " before that of step " + k
                    + ", which used it";
            }
            long j = u.lastUsed;
            Long after = j < 0 ? Long.valueOf(0) : u.versionAfter.get(j);
            if (after == null) {
                u.waiting.put(j, new Learned(k, learned));
            } else if (!after.equals(learned)) {
                return violation(k, learned, e.getKey(), after, j);
            }
            u.versionAfter.headMap(k).clear();
            u.lastUsed = k;
            if (u.last < k) {
                u.awaited.add(k);
            }
        }
        return null;
    }

    /** Teacher {@code teacher}'s update of step j, at {@code version}: what a later step learned from it must match. */
    private static String updateOf(Updates u, String teacher, long j, long version) {
        u.last = j;
        u.awaited.remove(j);
        u.versionAfter.put(j, version);
        Learned learned = u.waiting.remove(j);
        return learned == null || learned.version() == version ? null
            : violation(learned.step(), learned.version(), teacher, version, j);
    }

    private static String violation(long k, long learned, String teacher, long reported, long after) {
        return "step " + k + " learned from teacher version " + learned + ", but " + (teacher.isEmpty() ? "the teacher" : teacher)
            + " reported version " + reported + (after < 0 ? " to start from" : " after step " + after);
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
        if (terms.required() != asked.required()) {
            return List.of(new Command.Refuse(e.studentId(), "teachers required differ: student goes ahead with " + asked.required()
                + " of its teachers, run " + runId + " with " + terms.required()));
        }
        students.put(e.studentId(), new Student(e.steps(), nowMs, terms.tags()));
        return List.of(new Command.Admit(e.studentId(), e.steps()));
    }

    /**
     * Tells a student whose step has waited the deadline for its teachers to go ahead with those that
     * answered (when the run requires fewer than all). Re-issues, with the same key, the step of
     * every student that has had no news for the timeout; a student still stuck after
     * {@code maxNudges} of them aborts the run.
     */
    private List<Command> timeouts(long nowMs) {
        if (abortedBecause != null) {
            return List.of();
        }
        List<Command> out = new ArrayList<>();
        for (Map.Entry<String, Student> e : students.entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            Student s = e.getValue();
            if (s.active() && terms.required() < terms.tags().size() && s.examNext < s.steps && s.deadlineSent < s.examNext
                && nowMs - s.stepSinceMs >= deadlineMs) {
                s.deadlineSent = s.examNext;
                out.add(new Command.TeacherDeadline(e.getKey(), s.examNext));
            }
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
