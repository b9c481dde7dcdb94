package dev.ikd.student.protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.protobuf.Message;
import dev.ikd.proto.codec.TargetsForm;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.state.Absence;
import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.proto.v1.Tensor;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.Machine;

/**
 * One student's protocol as a state machine (docs/architecture.md §5): step k runs as soon as
 * SoftTargets(k) of the teacher version it expects is here (and the student is admitted); it
 * answers with Feedback(k) for the teacher and ExamResult(k) for the coordinator. Soft targets that
 * come early (before the admission, or from a frozen teacher sending ahead) are held, up to the
 * window. A repeated request for the last step gets its recorded answers again; nothing is learned
 * twice. Content is checked before the protocol, and a refused input changes nothing.
 *
 * <p>With several teachers a step waits for every one's soft targets, unless its deadline passes (a
 * TeacherDeadline from the coordinator) and {@code required} of them are here: then it goes ahead
 * with those, weighed among themselves, and tells each teacher it went without that its step was
 * skipped (a Feedback with {@code skipped}), so that teacher serves the next step from the version
 * it has. Its soft targets for a skipped step, when they come late, are dropped.
 *
 * <p>The machine is a function of its state and its inputs: the learning is behind the
 * {@link Learner} port, time comes with the {@link Input}, and {@link #state} is everything there is
 * (with the learner's parameters), so {@link #restore} continues bit for bit.
 */
public final class StudentMachine implements Machine {

    private static final String DIVERGED = "diverged at step ";

    private final StudentTerms settings;
    private final Learner learner;
    private boolean admitted;
    private String stopped = "";
    private long teacherVersion = -1;
    private List<Envelope> lastAnswers = List.of();
    /** The soft targets of the last step learned, by teacher ("" with one teacher). */
    private final Map<String, Envelope> learned = new HashMap<>();
    private Envelope report;
    /** Soft targets that came before their step, by step and teacher. */
    private final TreeMap<Long, Map<String, Envelope>> held = new TreeMap<>();
    /** Whether the deadline of the step at hand has passed: it may go ahead with the required teachers. */
    private boolean deadlinePassed;
    /** The teachers some steps went without: how many steps, and the last step that used each. */
    private final Map<String, Absence> absent = new TreeMap<>();
    /** The pilot update: the exam of the step piloted, until its real course step gives the hash (null: none waits). */
    private ExamResult pendingExam;

    /** A student that has learned nothing yet (its learner fresh). */
    public StudentMachine(StudentTerms settings, Learner learner) {
        this.settings = settings;
        this.learner = learner;
    }

    /** The student exactly as {@link #state} saved it, with a learner restored from the same state. */
    public static StudentMachine restore(StudentTerms settings, Learner learner, StudentState saved) {
        StudentMachine m = new StudentMachine(settings, learner);
        m.admitted = saved.getAdmitted();
        m.stopped = saved.getStopped();
        m.teacherVersion = saved.getTeacherVersion();
        m.lastAnswers = List.copyOf(saved.getLastAnswersList());
        if (saved.hasLearnedSoftTargets()) {
            m.learned.put(saved.getLearnedSoftTargets().getTeacherId(), saved.getLearnedSoftTargets());
        }
        saved.getLearnedSoftTargetsOfSeveralList().forEach(e -> m.learned.put(e.getTeacherId(), e));
        m.report = saved.hasReport() ? saved.getReport() : null;
        saved.getHeldSoftTargetsList().forEach(e -> m.held.computeIfAbsent(e.getStep(), k -> new TreeMap<>()).put(e.getTeacherId(), e));
        m.deadlinePassed = saved.getDeadlinePassed();
        m.absent.putAll(saved.getAbsentMap());
        m.pendingExam = saved.hasPendingExam() ? saved.getPendingExam() : null;
        return m;
    }

    @Override
    public List<Envelope> apply(Input input) {
        Envelope e = input.envelope();
        if (!stopped.isEmpty() && (e.getKind() == Kind.ABORT || e.getKind() == Kind.FINISH)) {
            return List.of(); // the run's end, or the abort that follows this student's own stop: nothing left to do
        }
        if (diverged() && e.getKind() == Kind.COURSE_START && e.getStep() == stepsDone() - 1) {
            return lastAnswers; // a nudge before the coordinator heard why: the same answer again
        }
        if (!stopped.isEmpty()) {
            throw new RejectedMessageException(settings.studentId() + " " + stopped + "; it takes no more messages");
        }
        return switch (e.getKind()) {
            case ADMITTED -> admitted(input);
            case REFUSED -> stop("was refused: " + e.getRefused().getReason());
            case ABORT -> stop("was aborted: " + e.getAbort().getReason());
            case COURSE_START -> courseStart(e);
            case TEACHER_DEADLINE -> deadline(input);
            case SOFT_TARGETS -> softTargets(input);
            case FINISH -> finish(input);
            default -> throw new RejectedMessageException("a student does not take " + e.getKind() + " messages");
        };
    }

    /** Admitted: the student may learn; soft targets that overtook the admission on their own topic are used now. */
    private List<Envelope> admitted(Input input) {
        admitted = true;
        return tryStep(input);
    }

    private List<Envelope> stop(String why) {
        stopped = why;
        return List.of();
    }

    /**
     * CourseStart(k): the coordinator's nudge when step k is overdue. The last step done is answered
     * again; the step the student waits for needs its soft targets, not this.
     */
    private List<Envelope> courseStart(Envelope e) {
        long k = e.getStep();
        if (!admitted) {
            throw new RejectedMessageException("CourseStart for step " + k + " before " + settings.studentId() + " was admitted");
        }
        if (k < stepsDone()) {
            return repeatOf(e);
        }
        if (k > stepsDone()) {
            throw new RejectedMessageException("out of order: CourseStart for step " + k + " while " + settings.studentId()
                + " is at step " + stepsDone());
        }
        return List.of();
    }

    /**
     * TeacherDeadline(k): step k has waited its time for soft targets; it goes ahead as soon as the
     * required teachers' are here (now, if they are). One for a step already learned changes nothing.
     */
    private List<Envelope> deadline(Input input) {
        long k = input.envelope().getStep();
        if (!admitted) {
            throw new RejectedMessageException("TeacherDeadline for step " + k + " before " + settings.studentId() + " was admitted");
        }
        if (settings.required() == settings.teachers().size()) {
            throw new RejectedMessageException("TeacherDeadline for step " + k + ", but " + settings.studentId()
                + " learns every step from all its " + settings.teachers().size() + " teachers");
        }
        long done = stepsDone();
        if (k > done) {
            throw new RejectedMessageException("out of order: TeacherDeadline for step " + k + " while " + settings.studentId()
                + " is at step " + done);
        }
        if (k < done) {
            return List.of(); // every teacher answered before the deadline reached the student
        }
        deadlinePassed = true;
        return tryStep(input);
    }

    /** How many steps went ahead without teacher {@code t}. */
    private long missed(String t) {
        Absence a = absent.get(t);
        return a == null ? 0 : a.getStepsMissed();
    }

    /** The last step that used teacher {@code t} (-1: none yet). */
    private long lastUsed(String t) {
        Absence a = absent.get(t);
        return a == null ? stepsDone() - 1 : a.getLastUsed();
    }

    /** The version of teacher {@code t} step k learns from. */
    private long expectedVersion(String t, long k) {
        return settings.expectedVersion(k, missed(t));
    }

    /**
     * SoftTargets(k): the teacher's p. Its content (shape [batch, classes], finite values) is checked
     * first, then the teacher version it must come from, then the protocol: a repeat, a step past the
     * window or the plan, a second copy of what is held.
     */
    private List<Envelope> softTargets(Input input) {
        Envelope e = input.envelope();
        long k = e.getStep();
        var st = e.getSoftTargets();
        if (settings.form().language()) {
            settings.form().check(st, settings.batchSize(), "soft targets");
        } else if (!settings.pilot() || k < settings.steps()) {
            batchMatrix(st.getProbabilities(), "soft targets");
        }
        if (settings.pilot() && k > 0) {
            batchMatrix(st.getUpdatedCourse(), "updated soft targets of the step before");
        }
        String teacher = e.getTeacherId();
        if (!settings.teachers().contains(teacher)) {
            throw new RejectedMessageException("soft targets from " + (teacher.isEmpty() ? "a single teacher" : teacher) + ", but "
                + settings.studentId() + " learns from " + (settings.teachers().size() == 1 && settings.teachers().get(0).isEmpty()
                    ? "one teacher" : String.join(", ", settings.teachers())));
        }
        long done = stepsDone();
        if (k < done) {
            if (k > lastUsed(teacher)) {
                return List.of(); // late: step k went ahead without this teacher, and told it so
            }
            if (k == done - 1 && !sameTargets(st, learned.get(teacher).getSoftTargets())) {
                throw new RejectedMessageException("conflicting duplicate: soft targets for step " + k
                    + " differ from the ones already learned from");
            }
            return repeatOf(e);
        }
        long expected = expectedVersion(teacher, k);
        if (st.getTeacherVersion() != expected) {
            throw new RejectedMessageException((st.getTeacherVersion() < expected ? "stale" : "unexpected") + " teacher version: soft "
                + "targets for step " + k + " are version " + st.getTeacherVersion() + ", " + settings.studentId()
                + " learns step " + k + " from version " + expected);
        }
        if (k > settings.steps() || k == settings.steps() && !settings.pilot()) {
            throw new RejectedMessageException("soft targets for step " + k + ", but " + settings.studentId() + " takes "
                + settings.steps() + " steps");
        }
        if (k >= done + settings.window()) {
            throw new RejectedMessageException("out of order: soft targets for step " + k + " while " + settings.studentId()
                + " is at step " + done + " and holds at most " + settings.window() + " ahead");
        }
        Envelope already = held.getOrDefault(k, Map.of()).get(teacher);
        if (already != null) {
            if (!sameTargets(st, already.getSoftTargets())) {
                throw new RejectedMessageException("conflicting duplicate: soft targets for step " + k
                    + " differ from the ones already held for it");
            }
            return List.of();
        }
        held.computeIfAbsent(k, x -> new TreeMap<>()).put(teacher, e);
        return tryStep(input);
    }

    /** A [batch, classes] matrix of finite values, or the refusal that names {@code what}. */
    private void batchMatrix(Tensor t, String what) {
        TargetsForm.matrix(t, settings.batchSize(), settings.classes(), what);
    }

    /**
     * Whether two copies of a step's soft targets say the same: the whole payload (the teacher's
     * version, temperature and probabilities). What the teacher measured making them travels in the
     * envelope's {@code measured}, outside the payload, and may differ in a recomputed copy.
     */
    static boolean sameTargets(SoftTargets a, SoftTargets b) {
        return a.equals(b);
    }

    /** Finish: the test accuracy and final hash, as this student's report (the same report if asked again). */
    private List<Envelope> finish(Input input) {
        long done = stepsDone();
        if (done != settings.steps()) {
            throw new RejectedMessageException("Finish after " + done + " of " + settings.steps() + " steps");
        }
        if (pendingExam != null) {
            throw new RejectedMessageException("Finish before the course step of step " + (done - 1) + ": the teacher's updated soft "
                + "targets for it have not come");
        }
        if (report == null) {
            Learner.Report r = learner.report();
            var body = StudentReport.newBuilder().setSteps(done).setTestAccuracy(r.testAccuracy()).setParamSha256(r.paramSha256());
            if (settings.form().language()) {
                body.setTestPerplexity(r.testPerplexity()).setSoftTargetBytesPerToken(r.softTargetBytesPerToken());
            }
            report = header(input, done, Kind.STUDENT_REPORT).setStudentReport(body).build();
        }
        return List.of(report);
    }

    private List<Envelope> repeatOf(Envelope e) {
        if (e.getStep() != stepsDone() - 1) {
            throw new RejectedMessageException("stale " + e.getKind() + ": step " + e.getStep() + " of " + settings.studentId()
                + " was done long ago (now at step " + stepsDone() + ")");
        }
        return lastAnswers;
    }

    /**
     * Learns every step whose soft targets are all here (one from each teacher), or, once its
     * deadline has passed, those of the required teachers; in order, once admitted and until one
     * diverges; their answers, in order.
     */
    private List<Envelope> tryStep(Input input) {
        List<Envelope> out = new ArrayList<>();
        while (admitted && stopped.isEmpty()) {
            Map<String, Envelope> here = held.getOrDefault(stepsDone(), Map.of());
            if (here.size() < settings.teachers().size() && !(deadlinePassed && here.size() >= settings.required())) {
                break;
            }
            held.remove(stepsDone());
            out.addAll(learn(input, settings.teachers().stream().filter(here::containsKey).map(here::get).toList()));
        }
        return out;
    }

    /** Step k on the soft targets of the teachers here (all of them, or those that answered by the deadline), in the settings' order. */
    private List<Envelope> learn(Input input, List<Envelope> targets) {
        long k = stepsDone();
        if (settings.pilot()) {
            return pilot(input, targets.get(0), expectedVersion(targets.get(0).getTeacherId(), k));
        }
        SoftTargets[] p = new SoftTargets[targets.size()];
        int[] present = new int[targets.size()];
        Map<String, Integer> place = new HashMap<>();
        for (int t = 0; t < p.length; t++) {
            p[t] = targets.get(t).getSoftTargets();
            present[t] = settings.teachers().indexOf(targets.get(t).getTeacherId());
            place.put(targets.get(t).getTeacherId(), t);
        }
        Map<String, Long> versions = new TreeMap<>();
        settings.teachers().forEach(t -> versions.put(t, expectedVersion(t, k)));
        for (String t : settings.teachers()) {
            boolean used = place.containsKey(t);
            if (!used || absent.containsKey(t)) {
                absent.put(t, Absence.newBuilder().setStepsMissed(missed(t) + (used ? 0 : 1)).setLastUsed(used ? k : lastUsed(t))
                    .build());
            }
        }
        deadlinePassed = false;
        long version = targets.get(0).getSoftTargets().getTeacherVersion();
        Learner.Step r = learner.learn(present, p);
        learned.clear();
        targets.forEach(e -> learned.put(e.getTeacherId(), e));
        if (r.diverged() != null) {
            // Nothing that is not finite leaves the student: the coordinator hears why and aborts the run.
            stopped = DIVERGED + k + ": " + r.diverged();
            lastAnswers = List.of(header(input, k, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder()
                .setDiverged(settings.studentId() + " " + stopped).setTeacherVersion(version)).build());
            return lastAnswers;
        }
        List<Envelope> answers = new ArrayList<>();
        for (String teacher : settings.teachers()) {
            answers.add(feedback(input, k, teacher, versions.get(teacher), r, place.get(teacher)));
        }
        var exam = ExamResult.newBuilder().setExamLoss(r.examLoss()).setExamAccuracy(r.examAccuracy())
            .setParamSha256(r.paramSha256()).setCourseLoss(r.courseLoss()).setTeacherVersion(version);
        for (int t = 0; settings.teachers().size() > 1 && t < targets.size(); t++) {
            String teacher = targets.get(t).getTeacherId();
            exam.putTeacherWeights(teacher, r.meanWeights()[t]).putTeacherVersions(teacher, versions.get(teacher));
        }
        answers.add(header(input, k, Kind.EXAM_RESULT).setExamResult(exam).build());
        lastAnswers = List.copyOf(answers);
        teacherVersion = version;
        return lastAnswers;
    }

    /** Step k's feedback to {@code teacher} from what it learned ({@code t}: its place among those present; null: it skipped). */
    private Envelope feedback(Input input, long k, String teacher, long version, Learner.Step r, Integer t) {
        var feedback = Feedback.newBuilder().setTeacherVersion(version);
        if (t == null) {
            feedback.setSkipped(true); // the step went without this teacher: it learns nothing from it
        } else {
            int rows = settings.form().rows(settings.batchSize());
            feedback.setD(TensorCodec.encode(r.feedback()[t], rows, settings.form().feedbackColumns(settings.frozenTeacher())))
                .setCourseLoss(r.courseLoss())
                .setDistillKl(r.distillKl());
            if (settings.courseLogits()) {
                feedback.setCourseLogits(TensorCodec.encode(r.courseLogits(), rows, settings.classes()));
            }
        }
        return Envelopes.forTeacher(header(input, k, Kind.FEEDBACK), teacher).setFeedback(feedback).build();
    }

    /**
     * The pilot update on the soft targets of step k (one teacher): first the real course step of
     * step k−1, on the teacher's targets after its exam step k−1 that these carry, whose hash completes
     * the exam result of k−1; then, within the plan, the pilot of step k, whose feedback goes to the
     * teacher and whose exam waits for the hash in turn. Past the plan (k = steps) only the first.
     */
    private List<Envelope> pilot(Input input, Envelope targets, long version) {
        long k = stepsDone();
        var st = targets.getSoftTargets();
        List<Envelope> answers = new ArrayList<>();
        if (pendingExam != null) {
            String hash = learner.courseStep(new int[] {0},
                new float[][] {TensorCodec.toFloats(st.getUpdatedCourse(), TensorCodec.Finite.REQUIRED)});
            answers.add(header(input, k - 1, Kind.EXAM_RESULT).setExamResult(pendingExam.toBuilder().setParamSha256(hash)).build());
            pendingExam = null;
        }
        learned.clear();
        learned.put(targets.getTeacherId(), targets);
        if (k < settings.steps()) {
            Learner.Step r = learner.pilot(new int[] {0}, new SoftTargets[] {st});
            if (r.diverged() != null) {
                stopped = DIVERGED + k + ": " + r.diverged();
                pendingExam = ExamResult.newBuilder().setDiverged(settings.studentId() + " " + stopped)
                    .setTeacherVersion(st.getTeacherVersion()).build();
                answers.add(header(input, k, Kind.EXAM_RESULT).setExamResult(pendingExam).build());
                lastAnswers = List.copyOf(answers);
                return lastAnswers;
            }
            answers.add(feedback(input, k, targets.getTeacherId(), version, r, 0));
            pendingExam = ExamResult.newBuilder().setExamLoss(r.examLoss()).setExamAccuracy(r.examAccuracy())
                .setCourseLoss(r.courseLoss()).setTeacherVersion(st.getTeacherVersion()).build();
        }
        lastAnswers = List.copyOf(answers);
        teacherVersion = st.getTeacherVersion();
        return lastAnswers;
    }

    @Override
    public Message state() {
        var s = StudentState.newBuilder().setAdmitted(admitted).setStopped(stopped).setTeacherVersion(teacherVersion)
            .addAllLastAnswers(lastAnswers);
        learner.saveTo(s);
        if (settings.teachers().size() == 1 && learned.containsKey(settings.teachers().get(0))) {
            s.setLearnedSoftTargets(learned.get(settings.teachers().get(0)));
        } else {
            settings.teachers().stream().filter(learned::containsKey).forEach(t -> s.addLearnedSoftTargetsOfSeveral(learned.get(t)));
        }
        if (report != null) {
            s.setReport(report);
        }
        held.values().forEach(byTeacher -> s.addAllHeldSoftTargets(byTeacher.values()));
        if (pendingExam != null) {
            s.setPendingExam(pendingExam);
        }
        return s.setDeadlinePassed(deadlinePassed).putAllAbsent(absent).build();
    }

    public boolean isAdmitted() {
        return admitted;
    }

    /**
     * Why this student stopped, as a phrase after its id ("was refused: ...", "was aborted: ...",
     * "diverged at step k: ..."), or "" while it may learn.
     */
    public String stopped() {
        return stopped;
    }

    /** Whether this student stopped because a step of its own was not finite. */
    public boolean diverged() {
        return stopped.startsWith(DIVERGED);
    }

    /** The report, once Finish came; null before. */
    public Envelope report() {
        return report;
    }

    /** Steps learned; under the pilot update a step counts once piloted, its real course step may still wait. */
    public long stepsDone() {
        return learner.stepsDone() + (pendingExam == null ? 0 : 1);
    }

    @Override
    public void close() {
        learner.close();
    }

    private Envelope.Builder header(Input input, long step, Kind kind) {
        return Envelopes.header(settings.runId(), settings.studentId(), step, kind, settings.studentId(), input.nowUs());
    }
}
