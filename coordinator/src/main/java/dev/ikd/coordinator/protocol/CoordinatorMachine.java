package dev.ikd.coordinator.protocol;

import java.util.List;
import java.util.Map;

import com.google.protobuf.Message;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.Abort;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.Refused;
import dev.ikd.proto.v1.TeacherDeadline;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.Machine;

/**
 * The coordinator as a machine on the processor: decodes enrollments, exam results, teacher updates
 * and reports into {@link Event}s for the {@link Protocol}, and turns its commands into control
 * records. A rejected event is refused with the protocol's reason. Its durable state is the journal
 * of the events it applied (the coordinator is event-sourced): folding those events again, at the
 * times recorded with them, rebuilds it, so {@link #state} has nothing else to keep.
 */
public final class CoordinatorMachine implements Machine {

    /**
     * @param dataset          the run's data terms (checksum, sizes, split seed and fractions)
     * @param teacherMode      the mode the run's teacher serves
     * @param timeoutMs        re-issue a CourseStart whose answers are this late
     * @param maxNudges        how many times, with no news, before the run is aborted
     * @param expectedStudents the run ends once this many students have reported (0: never by itself)
     * @param teachers         the run's teachers (empty: its only one)
     * @param teachersRequired how many of them a step needs once it has waited {@code deadlineMs} for all
     */
    public record Settings(DatasetSpec dataset, String teacherMode, long timeoutMs, int maxNudges, int expectedStudents,
                           List<String> teachers, int teachersRequired, long deadlineMs) {

        /** Nudges at one step before a run gives up on a student, unless --max-nudges says otherwise. */
        public static final int MAX_NUDGES = 5;

        public Settings {
            teachers = List.copyOf(teachers);
        }

        /** Every step needs all of {@code teachers}. */
        public Settings(DatasetSpec dataset, String teacherMode, long timeoutMs, int maxNudges, int expectedStudents,
                        List<String> teachers) {
            this(dataset, teacherMode, timeoutMs, maxNudges, expectedStudents, teachers, Math.max(1, teachers.size()), timeoutMs);
        }

        /** With one teacher. */
        public Settings(DatasetSpec dataset, String teacherMode, long timeoutMs, int maxNudges, int expectedStudents) {
            this(dataset, teacherMode, timeoutMs, maxNudges, expectedStudents, List.of());
        }

        /** How often the coordinator hears time pass: a quarter of its shortest wait. */
        public long tickMs() {
            boolean deadlines = teachersRequired < Math.max(1, teachers.size());
            return Math.max(10, Math.min(timeoutMs, deadlines ? deadlineMs : timeoutMs) / 4);
        }
    }

    private final Settings settings;
    private final String runId;
    private final String producerId;
    private final Protocol protocol;
    private long applied;

    public CoordinatorMachine(Settings settings, String runId, String producerId) {
        this.settings = settings;
        this.runId = runId;
        this.producerId = producerId;
        DatasetSpec d = settings.dataset();
        this.protocol = new Protocol(runId, Event.Terms.of(d, settings.teacherMode(), settings.teachers(), settings.teachersRequired()),
            settings.timeoutMs(), settings.maxNudges(), settings.expectedStudents(), settings.deadlineMs());
    }

    @Override
    public List<Envelope> apply(Input input) {
        Envelope e = input.envelope();
        String run = e.getRunId();
        String student = e.getStudentId();
        Event event = switch (e.getKind()) {
            case ENROLLMENT -> {
                var hp = e.getEnrollment().getHyperParameters();
                var d = e.getEnrollment().getDataset();
                int required = hp.getTeachersRequired() == 0 ? Math.max(1, hp.getTeachersCount()) : hp.getTeachersRequired();
                if (required > Math.max(1, hp.getTeachersCount())) {
                    throw new RejectedMessageException("the enrollment requires " + required + " teachers of " + hp.getTeachersCount());
                }
                yield new Event.Enrolled(run, student, Event.Terms.of(d, hp.getTeacherMode(), hp.getTeachersList(), required),
                    hp.getSteps(), hp.getBatchSize(), hp.getExamBatchSize());
            }
            case EXAM_RESULT -> e.getExamResult().getDiverged().isEmpty()
                ? new Event.ExamResult(run, student, e.getStep(), e.getExamResult().getParamSha256(),
                    e.getExamResult().getTeacherVersionsCount() == 0 ? Map.of("", e.getExamResult().getTeacherVersion())
                        : e.getExamResult().getTeacherVersionsMap())
                : new Event.Diverged(run, student, e.getStep(), e.getExamResult().getDiverged());
            case TEACHER_UPDATED -> e.getTeacherUpdated().getDiverged().isEmpty()
                ? new Event.TeacherUpdated(run, student, e.getStep(), e.getTeacherUpdated().getTeacherVersion(), e.getTeacherId())
                : new Event.Diverged(run, student, e.getStep(), e.getTeacherUpdated().getDiverged());
            case STUDENT_REPORT -> new Event.Reported(run, student, e.getStudentReport().getSteps(),
                e.getStudentReport().getParamSha256());
            default -> throw new RejectedMessageException("the coordinator does not take " + e.getKind() + " messages");
        };
        List<Command> commands = protocol.handle(event, input.nowMs());
        if (commands.size() == 1 && commands.get(0) instanceof Command.Reject r) {
            throw new RejectedMessageException(r.reason());
        }
        applied++;
        return commands.stream().map(c -> toEnvelope(c, e, input.nowUs())).toList();
    }

    @Override
    public List<Envelope> tick(long nowMs) {
        return protocol.handle(new Event.Tick(runId, nowMs), nowMs).stream().map(c -> toEnvelope(c, null, nowMs * 1_000)).toList();
    }

    private Envelope toEnvelope(Command c, Envelope cause, long nowUs) {
        if (c instanceof Command.Admit a) {
            // What was admitted travels with the admission: the teacher sets up this student's teacher and plan from it.
            return header(a.studentId(), 0, Kind.ADMITTED, nowUs).setAdmitted(Admitted.newBuilder().setTeacherMode(settings.teacherMode())
                .setSteps(a.steps()).setEnrollment(cause.getEnrollment())).build();
        }
        if (c instanceof Command.Refuse r) {
            return header(r.studentId(), 0, Kind.REFUSED, nowUs).setRefused(Refused.newBuilder().setReason(r.reason())).build();
        }
        if (c instanceof Command.CourseStart s) {
            return header(s.studentId(), s.step(), Kind.COURSE_START, nowUs).setCourseStart(CourseStart.getDefaultInstance()).build();
        }
        if (c instanceof Command.TeacherDeadline d) {
            return header(d.studentId(), d.step(), Kind.TEACHER_DEADLINE, nowUs).setTeacherDeadline(TeacherDeadline.getDefaultInstance())
                .build();
        }
        if (c instanceof Command.Abort a) {
            return header(a.studentId(), 0, Kind.ABORT, nowUs).setAbort(Abort.newBuilder().setReason(a.reason())).build();
        }
        if (c instanceof Command.Finish f) {
            return header(f.studentId(), f.steps(), Kind.FINISH, nowUs).setFinish(Finish.newBuilder()
                .setReason("all " + f.steps() + " steps done")).build();
        }
        if (c instanceof Command.AbortRun abort) {
            return header("", 0, Kind.ABORT, nowUs).setAbort(Abort.newBuilder().setReason(abort.reason())).build();
        }
        if (c instanceof Command.EndRun end) {
            return header("", 0, Kind.FINISH, nowUs).setFinish(Finish.newBuilder()
                .setReason("run complete: " + end.students() + " students reported")).build();
        }
        throw new IllegalStateException("a rejection among other commands: " + c);
    }

    private Envelope.Builder header(String student, long step, Kind kind, long nowUs) {
        return Envelopes.header(runId, student, step, kind, producerId, nowUs);
    }

    /** Nothing beyond the journal: the coordinator's state is the fold of the events it applied. */
    @Override
    public Message state() {
        return null;
    }

    /** Why the run was aborted (its abort has been sent), or null. */
    public String abortedBecause() {
        return protocol.abortedBecause();
    }

    /** Whether every expected student has finished and reported (the run's end has been sent). */
    public boolean ended() {
        return protocol.ended();
    }

    public int students() {
        return protocol.students();
    }

    /** How many events this machine has applied: the length of its run's applied journal. */
    public long applied() {
        return applied;
    }
}
