package dev.ikd.proto.envelope;

import java.time.Clock;
import java.util.Locale;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;

/**
 * Building, encoding and checking {@link Envelope}s: the rules every record on every topic obeys
 * (docs/architecture.md §4).
 */
public final class Envelopes {

    /** The schema version this build writes and reads. */
    public static final int SCHEMA_VERSION = 1;

    /**
     * Student ids name record keys, checkpoint directories, principals and metrics: {@code student-N}
     * and nothing else, so no id can reach outside the folder or the name it is put in.
     */
    private static final java.util.regex.Pattern STUDENT_ID = java.util.regex.Pattern.compile("student-(0|[1-9][0-9]{0,8})");
    /** Kinds that are always about one student (a Finish or an Abort without one is about the whole run). */
    private static final java.util.Set<Kind> PER_STUDENT = java.util.EnumSet.of(Kind.ENROLLMENT, Kind.ADMITTED, Kind.REFUSED,
        Kind.COURSE_START, Kind.TEACHER_DEADLINE, Kind.SOFT_TARGETS, Kind.FEEDBACK, Kind.EXAM_RESULT, Kind.TEACHER_UPDATED, Kind.STUDENT_REPORT);

    private Envelopes() {
    }

    /** The id of the run's student number {@code index}: the one place ids are made. */
    public static String studentId(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("a student index is >= 0, got " + index);
        }
        return "student-" + index;
    }

    /** Whether {@code id} is a student id ({@code student-N}). */
    public static boolean isStudentId(String id) {
        return id != null && STUDENT_ID.matcher(id).matches();
    }

    /** {@code id} if it is a student id; otherwise a one-line refusal naming it. */
    public static String requireStudentId(String id) {
        if (!isStudentId(id)) {
            throw new IllegalArgumentException("'" + printable(id) + "' is not a student id: student ids are student-N (N = 0, 1, ...)");
        }
        return id;
    }

    private static String printable(String s) {
        String clean = String.valueOf(s).replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 64 ? clean.substring(0, 64) + "..." : clean;
    }

    /** {@code run/student/step/kind}: a command re-sent after a timeout keeps it, so it is answered once. */
    public static String idempotencyKey(String runId, String studentId, long step, Kind kind) {
        return runId + "/" + studentId + "/" + step + "/" + kind.name().toLowerCase(Locale.ROOT);
    }

    /** {@code run/student/step/kind/teacher}: the key of a message from or for one of several teachers. */
    public static String idempotencyKey(String runId, String studentId, long step, Kind kind, String teacherId) {
        String key = idempotencyKey(runId, studentId, step, kind);
        return teacherId.isEmpty() ? key : key + "/" + teacherId;
    }

    /**
     * The header for a message from or for teacher {@code teacherId} of several (its key names the
     * teacher); {@code ""}, one teacher's, leaves the header as it is.
     */
    public static Envelope.Builder forTeacher(Envelope.Builder header, String teacherId) {
        if (teacherId.isEmpty()) {
            return header;
        }
        requireTeacherId(teacherId);
        return header.setTeacherId(teacherId).setIdempotencyKey(idempotencyKey(header.getRunId(), header.getStudentId(),
            header.getStep(), header.getKind(), teacherId));
    }

    private static final java.util.regex.Pattern TEACHER_ID = java.util.regex.Pattern.compile("teacher-[a-z]");

    /** The id of teacher number {@code index} of several: teacher-a, teacher-b, ... (26 at most). */
    public static String teacherId(int index, int teachers) {
        if (teachers == 1) {
            return "";
        }
        if (index < 0 || index >= 26 || index >= teachers) {
            throw new IllegalArgumentException("a run has 1 to 26 teachers; teacher " + index + " of " + teachers + " has no id");
        }
        return "teacher-" + (char) ('a' + index);
    }

    /** Whether {@code id} names a teacher of several (teacher-a ... teacher-z); the only teacher of a run has no such id. */
    public static boolean isTeacherId(String id) {
        return id != null && TEACHER_ID.matcher(id).matches();
    }

    /** {@code id} if it names a teacher of several (teacher-a ... teacher-z); otherwise a one-line refusal. */
    public static String requireTeacherId(String id) {
        if (!isTeacherId(id)) {
            throw new IllegalArgumentException("'" + printable(id) + "' is not a teacher id: teachers of a run are teacher-a, "
                + "teacher-b, ...");
        }
        return id;
    }

    /** An envelope with every header set; the caller adds the payload that matches {@code kind}. */
    public static Envelope.Builder header(String runId, String studentId, long step, Kind kind, String producerId, Clock clock) {
        return header(runId, studentId, step, kind, producerId, micros(clock));
    }

    /** An envelope with every header set, its event time given in microseconds since the epoch. */
    public static Envelope.Builder header(String runId, String studentId, long step, Kind kind, String producerId, long eventTimeUs) {
        return Envelope.newBuilder()
            .setSchemaVersion(SCHEMA_VERSION)
            .setRunId(runId)
            .setStudentId(studentId)
            .setStep(step)
            .setKind(kind)
            .setProducerId(producerId)
            .setEventTimeMs(Math.floorDiv(eventTimeUs, 1_000))
            .setEventTimeUs(eventTimeUs)
            .setIdempotencyKey(idempotencyKey(runId, studentId, step, kind));
    }

    /** The clock's instant in microseconds since the epoch. */
    public static long micros(Clock clock) {
        java.time.Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    public static byte[] encode(Envelope envelope) {
        return envelope.toByteArray();
    }

    /** Parses and checks one record value; any problem is a {@link MalformedMessageException} naming it. */
    public static Envelope decode(byte[] bytes) {
        if (bytes == null) {
            throw new MalformedMessageException("record has no value");
        }
        Envelope envelope;
        try {
            envelope = Envelope.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedMessageException("not a protobuf Envelope: " + e.getMessage(), e);
        }
        validate(envelope);
        return envelope;
    }

    public static void validate(Envelope e) {
        if (e.getSchemaVersion() != SCHEMA_VERSION) {
            throw new MalformedMessageException("unknown schema version " + e.getSchemaVersion()
                + " (this build reads " + SCHEMA_VERSION + ")");
        }
        if (e.getKind() == Kind.KIND_UNSPECIFIED || e.getKind() == Kind.UNRECOGNIZED) {
            throw new MalformedMessageException("envelope kind is missing or unknown (" + e.getKindValue() + ")");
        }
        if (e.getPayloadCase() == Envelope.PayloadCase.PAYLOAD_NOT_SET) {
            throw new MalformedMessageException("envelope of kind " + e.getKind() + " has no payload");
        }
        Kind carried = kindOf(e.getPayloadCase());
        if (carried != e.getKind()) {
            throw new MalformedMessageException("envelope kind " + e.getKind() + " carries a " + carried + " payload");
        }
        if (e.getKind() == Kind.DEAD_LETTER) {
            return; // a dead letter describes a record that may have had no run or student at all
        }
        if (e.getRunId().isEmpty()) {
            throw new MalformedMessageException("envelope has no run id");
        }
        if (e.getStep() < 0) {
            throw new MalformedMessageException("envelope step is negative (" + e.getStep() + ")");
        }
        if (e.getStudentId().isEmpty() ? PER_STUDENT.contains(e.getKind()) : !STUDENT_ID.matcher(e.getStudentId()).matches()) {
            throw new MalformedMessageException(e.getStudentId().isEmpty() ? "envelope of kind " + e.getKind() + " has no student id"
                : "student id '" + printable(e.getStudentId()) + "' is not student-N");
        }
        if (!e.getTeacherId().isEmpty() && !isTeacherId(e.getTeacherId())) {
            throw new MalformedMessageException("teacher id '" + printable(e.getTeacherId()) + "' is not teacher-a ... teacher-z");
        }
        String expected = idempotencyKey(e.getRunId(), e.getStudentId(), e.getStep(), e.getKind(), e.getTeacherId());
        if (!expected.equals(e.getIdempotencyKey())) {
            throw new MalformedMessageException("idempotency key '" + e.getIdempotencyKey() + "' does not match '"
                + expected + "' (run/student/step/kind)");
        }
    }

    /** The kind each payload must be announced as. */
    public static Kind kindOf(Envelope.PayloadCase payload) {
        return switch (payload) {
            case ENROLLMENT -> Kind.ENROLLMENT;
            case ADMITTED -> Kind.ADMITTED;
            case REFUSED -> Kind.REFUSED;
            case COURSE_START -> Kind.COURSE_START;
            case TEACHER_DEADLINE -> Kind.TEACHER_DEADLINE;
            case FINISH -> Kind.FINISH;
            case ABORT -> Kind.ABORT;
            case SOFT_TARGETS -> Kind.SOFT_TARGETS;
            case FEEDBACK -> Kind.FEEDBACK;
            case EXAM_RESULT -> Kind.EXAM_RESULT;
            case TEACHER_UPDATED -> Kind.TEACHER_UPDATED;
            case TEACHER_BLOCK -> Kind.TEACHER_BLOCK;
            case DEAD_LETTER -> Kind.DEAD_LETTER;
            case STUDENT_REPORT -> Kind.STUDENT_REPORT;
            case JOURNAL_ENTRY -> Kind.JOURNAL_ENTRY;
            case PART -> Kind.PART;
            case PAYLOAD_NOT_SET -> Kind.KIND_UNSPECIFIED;
        };
    }
}
