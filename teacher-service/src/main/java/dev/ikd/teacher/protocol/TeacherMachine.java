package dev.ikd.teacher.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import com.google.protobuf.Message;
import dev.ikd.proto.codec.TargetsForm;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.state.ParamGroup;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.TeacherUpdated;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.Machine;

/**
 * The teacher as one student sees it, as a state machine (docs/architecture.md §5): where that
 * student's protocol stands, and its teacher behind the {@link Teaching} port. Admitted, it sends
 * SoftTargets(0) at once; each Feedback(k) is its exam step, applied once and answered with
 * TeacherUpdated(k) for the coordinator and SoftTargets(k+1) — from the teacher that now includes
 * it — for the student: two hops a step. A frozen teacher's soft targets do not depend on feedback,
 * so it keeps a window of them in flight. A repeated request gets the recorded answer, never a
 * second update; content is checked before the protocol; a refused input changes nothing. Until its
 * student is admitted the machine holds nothing worth saving. Time comes with the {@link Input}.
 */
public final class TeacherMachine implements Machine {

    /**
     * What every student's teacher shares.
     *
     * @param mode         the teacher mode this teacher runs, as the command line names it
     * @param frozen       whether its soft targets never change (mode frozen), so a window of them may be in flight
     * @param courseLogits whether its exam step needs the student's course logits (pesf)
     * @param tag          its id in the envelopes' teacher_id when the run has several teachers (teacher-a, ...), else ""
     * @param pilot        MetaDistil's pilot update: after each exam step k it serves step k's batch again, from the
     *                     updated teacher, with the soft targets of step k+1 (and past the plan, alone)
     * @param form         what the soft targets and the feedback look like on the wire: a classifier's, or a language model's
     */
    public record Settings(String runId, String teacherId, String mode, boolean frozen, boolean courseLogits, String dataName,
                           String dataSha256, int classes, String tag, boolean pilot, TargetsForm form) {

        public Settings {
            if (form.classes() != classes || form.language() && (pilot || courseLogits)) {
                throw new IllegalArgumentException("a teacher of " + classes + " classes" + (pilot ? " with the pilot update" : "")
                    + " cannot send soft targets of the form " + form);
            }
        }

        /** A classifier's teacher. */
        public Settings(String runId, String teacherId, String mode, boolean frozen, boolean courseLogits, String dataName,
                        String dataSha256, int classes, String tag, boolean pilot) {
            this(runId, teacherId, mode, frozen, courseLogits, dataName, dataSha256, classes, tag, pilot, TargetsForm.classes(classes));
        }

        /** Without the pilot update. */
        public Settings(String runId, String teacherId, String mode, boolean frozen, boolean courseLogits, String dataName,
                        String dataSha256, int classes, String tag) {
            this(runId, teacherId, mode, frozen, courseLogits, dataName, dataSha256, classes, tag, false);
        }

        /** The only teacher of its run. */
        public Settings(String runId, String teacherId, String mode, boolean frozen, boolean courseLogits, String dataName,
                        String dataSha256, int classes) {
            this(runId, teacherId, mode, frozen, courseLogits, dataName, dataSha256, classes, "");
        }

        public Settings withPilot(boolean on) {
            return new Settings(runId, teacherId, mode, frozen, courseLogits, dataName, dataSha256, classes, tag, on && !frozen, form);
        }
    }

    private final Settings settings;
    private final Teaching.School school;
    private final String studentId;
    private Envelope admitted;
    private boolean finished;
    private Teaching teaching;
    private long served = -1;
    private long applied = -1;
    private long finalVersion;
    /** Once finished: what this student's teacher had learned (its φ copy or adapter), kept for export; null if nothing. */
    private ParamGroup learned;
    /** Soft targets sent and not yet answered by feedback, by step. */
    private final TreeMap<Long, Envelope> pending = new TreeMap<>();
    private Envelope updated;
    private Feedback appliedFeedback;

    /** A student this teacher has not admitted (yet): it refuses everything but the admission. */
    public TeacherMachine(Settings settings, Teaching.School school, String studentId) {
        this.settings = settings;
        this.school = school;
        this.studentId = studentId;
    }

    /** The student's teacher exactly as {@link #state} saved it. */
    public static TeacherMachine restore(Settings settings, Teaching.School school, String studentId, PupilState saved) {
        TeacherMachine m = new TeacherMachine(settings, school, studentId);
        m.admitted = saved.getAdmitted();
        m.finished = saved.getFinished();
        m.served = saved.getServed();
        m.applied = saved.getApplied();
        m.finalVersion = saved.getVersion();
        m.learned = m.finished && saved.hasTrainable() ? saved.getTrainable() : null;
        saved.getPendingList().forEach(e -> m.pending.put(e.getStep(), e));
        m.updated = saved.hasUpdated() ? saved.getUpdated() : null;
        m.appliedFeedback = saved.hasAppliedFeedback() ? saved.getAppliedFeedback() : null;
        if (!m.finished) {
            m.teaching = school.restore(studentId, m.admitted.getAdmitted().getEnrollment(), saved);
        }
        return m;
    }

    @Override
    public List<Envelope> apply(Input input) {
        Envelope e = input.envelope();
        return switch (e.getKind()) {
            case ADMITTED -> admitted(input);
            case COURSE_START -> courseStart(e);
            case FEEDBACK -> feedback(input);
            case FINISH, ABORT -> finish();
            default -> throw new RejectedMessageException("the teacher does not take " + e.getKind() + " messages");
        };
    }

    /**
     * Admitted: this student's teacher, set up from what it enrolled with, and its first soft targets
     * (a frozen teacher's whole window of them); once: a repeat changes nothing.
     */
    private List<Envelope> admitted(Input input) {
        Envelope e = input.envelope();
        var a = e.getAdmitted();
        if (!settings.mode().equals(a.getTeacherMode())) {
            throw new RejectedMessageException("student " + studentId + " was admitted for teacher mode " + a.getTeacherMode()
                + ", but this teacher runs mode " + settings.mode());
        }
        String sha = a.getEnrollment().getDataset().getSha256();
        if (!settings.dataSha256().equals(sha)) {
            throw new RejectedMessageException("student " + studentId + " was admitted with data set " + sha + ", but this teacher "
                + "holds " + settings.dataName() + " " + settings.dataSha256());
        }
        var hp = a.getEnrollment().getHyperParameters();
        if (hp.getPilot() != settings.pilot()) {
            throw new RejectedMessageException("student " + studentId + " was admitted with the pilot update " + (hp.getPilot() ? "on"
                : "off") + ", but this teacher runs it " + (settings.pilot() ? "on" : "off") + " (--teacher-leash pilot=1)");
        }
        if (!hp.getSoftTargets().equals(settings.form().tokens())) {
            throw new RejectedMessageException("student " + studentId + " was admitted expecting soft targets '" + hp.getSoftTargets()
                + "', but this teacher sends '" + settings.form().tokens() + "'" + (settings.form().language() ? "" : " (a classifier's)"));
        }
        if (hp.getBatchSize() < 1 || hp.getExamBatchSize() < 1) {
            throw new RejectedMessageException("student " + studentId + " was admitted with batch sizes " + hp.getBatchSize()
                + " and " + hp.getExamBatchSize() + "; both must be at least 1");
        }
        if (admitted != null) {
            return List.of();
        }
        teaching = school.enroll(studentId, a.getEnrollment()); // a student this teacher cannot teach is refused here, nothing kept
        admitted = e;
        List<Envelope> out = new ArrayList<>();
        for (long k = 0; k < window() && !finished; k++) {
            out.addAll(serve(input, k));
        }
        return out;
    }

    /** How many steps of soft targets may be in flight: a learning teacher's depend on the last feedback, so one. */
    private long window() {
        var hp = admitted.getAdmitted().getEnrollment().getHyperParameters();
        return settings.frozen() ? Math.max(1, hp.getPrefetch()) : 1;
    }

    private int batchSize() {
        return admitted.getAdmitted().getEnrollment().getHyperParameters().getBatchSize();
    }

    /** The rows of a batch: its examples, or a language model's positions (the student's context a sequence, from its enrollment). */
    private int rows() {
        var hp = admitted.getAdmitted().getEnrollment().getHyperParameters();
        return settings.form().language() ? hp.getBatchSize() * hp.getContext() : hp.getBatchSize();
    }

    /** Soft targets for step k's course batch from the teacher as it is now; nothing past the plan. */
    private List<Envelope> serve(Input input, long k) {
        if (k >= admitted.getAdmitted().getSteps()) {
            return List.of();
        }
        Teaching.Served s = teaching.serve(k);
        if (s.diverged() != null) {
            return diverged(input, k, s.diverged());
        }
        SoftTargets.Builder body = SoftTargets.newBuilder().setTeacherVersion(teaching.version()).setTemperature(s.temperature());
        if (s.tokens() != null) {
            body.setTokens(s.tokens());
        } else {
            body.setProbabilities(TensorCodec.encode(s.probabilities(), batchSize(), settings.classes()));
        }
        Envelope targets = header(input, k, Kind.SOFT_TARGETS).setSoftTargets(body).setMeasured(s.measured()).build();
        pending.put(k, targets);
        served = k;
        return List.of(targets);
    }

    /**
     * The pilot update, after the exam step of step k: step k's batch served again from the teacher
     * that now includes it, for the student's real course step k, with the soft targets of step k+1
     * (past the plan, k+1 = steps, alone), in one SoftTargets(k+1).
     */
    private List<Envelope> serveAfterUpdate(Input input, long k) {
        long steps = admitted.getAdmitted().getSteps();
        Teaching.Served again = teaching.serve(k);
        if (again.diverged() != null) {
            return diverged(input, k, again.diverged());
        }
        SoftTargets.Builder body = SoftTargets.newBuilder().setTeacherVersion(teaching.version()).setTemperature(again.temperature())
            .setUpdatedCourse(TensorCodec.encode(again.probabilities(), batchSize(), settings.classes()));
        if (k + 1 < steps) {
            Teaching.Served s = teaching.serve(k + 1);
            if (s.diverged() != null) {
                return diverged(input, k + 1, s.diverged());
            }
            body.setProbabilities(TensorCodec.encode(s.probabilities(), batchSize(), settings.classes()));
        }
        Envelope targets = header(input, k + 1, Kind.SOFT_TARGETS).setSoftTargets(body).setMeasured(again.measured()).build();
        pending.put(k + 1, targets);
        served = k + 1;
        return List.of(targets);
    }

    /**
     * CourseStart(k): the coordinator's nudge when step k is overdue. What was recorded for it goes
     * again: its soft targets if they wait for feedback; its update, and the soft targets that
     * followed it, if it was applied.
     */
    private List<Envelope> courseStart(Envelope e) {
        requireAdmitted();
        long k = e.getStep();
        if (pending.containsKey(k)) {
            return List.of(pending.get(k));
        }
        if (k == applied) {
            List<Envelope> out = new ArrayList<>();
            if (updated != null && updated.getStep() == k) {
                out.add(updated); // none when step k went ahead without this teacher
            }
            if (pending.containsKey(k + 1)) {
                out.add(pending.get(k + 1));
            }
            return out;
        }
        throw new RejectedMessageException((k < applied ? "stale" : "out of order:") + " CourseStart for step " + k + " of "
            + studentId + ": the teacher applied step " + applied + " and served step " + served);
    }

    /**
     * Feedback(k): the exam step on d, applied once and answered with the update and the next soft
     * targets; a repeat gets the recorded TeacherUpdated.
     */
    private List<Envelope> feedback(Input input) {
        Envelope e = input.envelope();
        if (!e.getTeacherId().equals(settings.tag())) {
            throw new RejectedMessageException("feedback for " + (e.getTeacherId().isEmpty() ? "a single teacher" : e.getTeacherId())
                + " reached " + (settings.tag().isEmpty() ? "the run's only teacher" : settings.tag()));
        }
        var f = e.getFeedback();
        if (f.getSkipped()) {
            return skipped(input);
        }
        // Content first (byte length, finite values), whoever it is for; the batch shape once the step is known.
        TensorCodec.toFloats(f.getD(), TensorCodec.Finite.REQUIRED);
        if (settings.courseLogits()) {
            TensorCodec.toFloats(f.getCourseLogits(), TensorCodec.Finite.REQUIRED);
        }
        requireAdmitted();
        long k = e.getStep();
        if (k == applied) {
            if (!f.equals(appliedFeedback)) {
                throw new RejectedMessageException("conflicting duplicate: feedback for step " + k + " of " + studentId
                    + " was already applied with other values");
            }
            return List.of(updated);
        }
        if (k < applied) {
            throw new RejectedMessageException("stale feedback: step " + k + " of " + studentId + " was applied long ago");
        }
        Envelope targets = pending.get(k);
        if (k != applied + 1 || targets == null) {
            throw new RejectedMessageException("out of order: feedback for step " + k + " of " + studentId
                + " before its soft targets (the teacher served step " + served + ")");
        }
        long servedVersion = targets.getSoftTargets().getTeacherVersion();
        if (f.getTeacherVersion() != servedVersion) {
            throw new RejectedMessageException("stale teacher version: feedback for step " + k + " answers version "
                + f.getTeacherVersion() + ", soft targets were version " + servedVersion);
        }
        int rows = rows();
        float[] d = TargetsForm.matrix(f.getD(), rows, settings.form().feedbackColumns(settings.frozen()), "feedback d");
        float[] logits = settings.courseLogits()
            ? TargetsForm.matrix(f.getCourseLogits(), rows, settings.classes(), "course logits")
            : new float[settings.form().language() ? 0 : rows * settings.classes()];
        Teaching.Update u = teaching.teach(k, admitted.getAdmitted().getSteps(), d, logits);
        appliedFeedback = f;
        applied = k;
        pending.remove(k);
        if (u.diverged() != null) {
            return diverged(input, k, u.diverged());
        }
        updated = header(input, k, Kind.TEACHER_UPDATED).setTeacherUpdated(TeacherUpdated.newBuilder()
            .setTeacherLoss(u.loss()).setTeacherVersion(u.version()).setDriftKl(u.driftKl())
            .setTeacherExamAccuracy(u.examAccuracy())).setMeasured(u.measured()).build();
        // The next soft targets come from the teacher that includes this update: two hops a step.
        List<Envelope> next = settings.pilot() ? serveAfterUpdate(input, k) : serve(input, k + window());
        if (!next.isEmpty() && next.get(0).getKind() == Kind.TEACHER_UPDATED) {
            return next; // they were not finite: the coordinator hears why instead
        }
        List<Envelope> out = new ArrayList<>(List.of(updated));
        out.addAll(next);
        return out;
    }

    /**
     * Feedback(k) with {@code skipped}: the student's step k went ahead without this teacher (its
     * soft targets were late, or never came: the teacher was down). Nothing is learned and no update
     * is reported; the teacher moves on to serve step k+1 (a frozen teacher its window past k) from
     * the version it has, so it rejoins at the next step. A teacher that was down catches up one
     * skipped step at a time, as it reads them. A repeat changes nothing.
     */
    private List<Envelope> skipped(Input input) {
        Envelope e = input.envelope();
        var f = e.getFeedback();
        if (admitted != null && finished) {
            return List.of(); // read after its student's Finish, on another topic: nothing left to serve
        }
        requireAdmitted();
        long k = e.getStep();
        if (k == applied && f.equals(appliedFeedback)) {
            return List.of();
        }
        if (k <= applied) {
            throw new RejectedMessageException("stale skipped step: step " + k + " of " + studentId + ", and the teacher already "
                + "took step " + applied);
        }
        if (f.getTeacherVersion() != teaching.version()) {
            throw new RejectedMessageException("stale teacher version: step " + k + " of " + studentId + " went ahead without "
                + "version " + f.getTeacherVersion() + ", the teacher is at version " + teaching.version());
        }
        appliedFeedback = f;
        applied = k;
        pending.headMap(k, true).clear();
        List<Envelope> out = new ArrayList<>();
        for (long s = Math.max(served + 1, k + 1); s <= k + window() && !finished; s++) {
            out.addAll(serve(input, s));
        }
        return out;
    }

    /**
     * This student's teacher stops: {@code what} (at step k) is not finite. The coordinator hears it
     * in a TeacherUpdated that carries only the reason, and aborts the run; nothing else is sent, and
     * a nudge gets the same answer.
     */
    private List<Envelope> diverged(Input input, long k, String what) {
        updated = header(input, k, Kind.TEACHER_UPDATED).setTeacherUpdated(TeacherUpdated.newBuilder()
            .setDiverged("the teacher of " + studentId + " diverged at step " + k + ": " + what)
            .setTeacherVersion(teaching.version())).build();
        finish();
        return List.of(updated);
    }

    /** Finish (or an abort) for this student: its teacher is no longer needed (a repeat changes nothing). */
    private List<Envelope> finish() {
        if (admitted != null && finished) {
            return List.of(); // already stopped (its own divergence, then the run's abort): nothing left to do
        }
        requireAdmitted();
        finalVersion = teaching.version();
        learned = teaching.learned();
        finished = true;
        pending.clear();
        teaching.close();
        teaching = null;
        return List.of();
    }

    private void requireAdmitted() {
        if (admitted == null || finished) {
            throw new RejectedMessageException("unknown student " + studentId + " (not admitted, or finished)");
        }
    }

    @Override
    public Message state() {
        if (admitted == null) {
            return null;
        }
        var b = PupilState.newBuilder().setAdmitted(admitted).setFinished(finished).setServed(served).setApplied(applied)
            .setVersion(version()).addAllPending(pending.values());
        if (updated != null) {
            b.setUpdated(updated);
        }
        if (appliedFeedback != null) {
            b.setAppliedFeedback(appliedFeedback);
        }
        if (teaching != null) {
            teaching.saveTo(b);
        } else if (learned != null) {
            b.setTrainable(learned); // 'ikd export --teacher-of' reads it
        }
        return b.build();
    }

    /** Whether this student's teacher is set up (admitted and not finished). */
    public boolean active() {
        return admitted != null && !finished;
    }

    public long version() {
        return teaching == null ? finalVersion : teaching.version();
    }

    @Override
    public void close() {
        if (teaching != null) {
            teaching.close();
            teaching = null;
        }
    }

    private Envelope.Builder header(Input input, long step, Kind kind) {
        return Envelopes.forTeacher(Envelopes.header(settings.runId(), studentId, step, kind, settings.teacherId(), input.nowUs()),
            settings.tag());
    }
}
