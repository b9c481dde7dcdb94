package dev.ikd.runlog;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Parts;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.sign.RunManifest;
import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;

/**
 * One run's record as the Kafka log holds it (docs/architecture.md §8): every envelope of the run on every ikd
 * topic, with where it was read, plus the dead letters whose raw bytes are an envelope of the run.
 * It also answers which of several copies of a message the run actually applied: the coordinator's
 * journal names the accepted enrollments and exam results, and a student learned from the soft
 * targets whose teacher version its feedback answers.
 */
public final class RunLog {

    /** One record: where it was, when the broker stamped it, and what it says. */
    public record Entry(String topic, int partition, long offset, long timestampMs, Envelope envelope) {
    }

    /** A record of the run that is not signed by the sender its kind requires: left out of the run, with the reason. */
    public record Forged(String topic, int partition, long offset, String reason) {
    }

    private final String runId;
    private final List<Entry> entries;
    private final List<Forged> forged;
    private final long checked;

    private RunLog(String runId, List<Entry> entries, List<Forged> forged, long checked) {
        this.runId = runId;
        this.entries = entries;
        this.forged = forged;
        this.checked = checked;
    }

    public static RunLog read(String bootstrap, String runId) {
        return read(KafkaAccess.plain(bootstrap), runId, null);
    }

    /**
     * Reads every ikd topic from its beginning to its current end and keeps the records of {@code runId}.
     * A record that is not where its kind and student put it (copied to another topic or key) is
     * left out and listed in {@link #forged}, as the services refuse it; with the run's
     * {@code manifest}, so is every record whose signature is not its pinned sender's, so a log
     * changed after the fact cannot pass for the run.
     */
    public static RunLog read(KafkaAccess kafka, String runId, RunManifest manifest) {
        List<Entry> entries = new ArrayList<>();
        List<Forged> forged = new ArrayList<>();
        long[] checked = {0};
        // Envelopes too large for one record were sent in parts: each is joined, and stands at its last part's place.
        Map<String, Parts.Assembler> parts = new HashMap<>();
        KafkaClients.readFromStart(kafka, Topics.ALL, "ikd-replay", Duration.ofSeconds(60), r -> {
            if (r.value() instanceof Decoded.Valid v && belongs(v.envelope(), runId)) {
                Envelope e = v.envelope();
                String problem = e.getKind() == Kind.DEAD_LETTER ? null : Topics.misplaced(r.topic(), r.key(), e);
                if (problem == null && manifest != null) {
                    checked[0]++;
                    problem = Signatures.problem(manifest, e, v.signed());
                }
                if (problem == null && e.getKind() == Kind.PART) {
                    try {
                        Parts.Assembler joining = parts.computeIfAbsent(r.topic() + "/" + r.partition(),
                            k -> new Parts.Assembler(Long.MAX_VALUE));
                        joining.replacedBy(e);
                        Optional<Envelope> whole = joining.accept(e);
                        if (whole.isEmpty()) {
                            return;
                        }
                        e = whole.get();
                        problem = Topics.misplaced(r.topic(), r.key(), e);
                    } catch (MalformedMessageException bad) {
                        problem = bad.getMessage();
                    }
                }
                if (problem != null) {
                    forged.add(new Forged(r.topic(), r.partition(), r.offset(), problem));
                } else {
                    entries.add(new Entry(r.topic(), r.partition(), r.offset(), r.timestamp(), e));
                }
            }
        }, null);
        // Log order: one student's records share a partition, so "first" means first in that partition.
        entries.sort(Comparator.comparing(Entry::topic).thenComparingInt(Entry::partition).thenComparingLong(Entry::offset));
        return new RunLog(runId, entries, forged, checked[0]);
    }

    /** The records whose signature failed (empty when the signatures were not checked). */
    public List<Forged> forged() {
        return forged;
    }

    /** How many records' signatures were checked (0: the log was read without the run's manifest). */
    public long checked() {
        return checked;
    }

    private static boolean belongs(Envelope e, String runId) {
        if (e.getKind() != Kind.DEAD_LETTER) {
            return runId.equals(e.getRunId());
        }
        try {
            return runId.equals(Envelope.parseFrom(e.getDeadLetter().getRawValue()).getRunId());
        } catch (InvalidProtocolBufferException ex) {
            return false;
        }
    }

    /** Every record in the order the broker stamped them (ties in log order). */
    public List<Entry> byTime() {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::timestampMs));
        return sorted;
    }

    String runId() {
        return runId;
    }

    /** The students that enrolled, sorted. */
    public List<String> students() {
        TreeSet<String> ids = new TreeSet<>();
        select(Kind.ENROLLMENT, e -> true).forEach(e -> ids.add(e.getStudentId()));
        return List.copyOf(ids);
    }

    /** The events the coordinator applied, in its order: its journal without the inputs it refused. */
    List<Envelope> journal() {
        return select(Kind.JOURNAL_ENTRY, e -> e.getJournalEntry().getRejected().isEmpty()).stream()
            .map(e -> e.getJournalEntry().getEvent()).toList();
    }

    /** The enrollment the coordinator accepted for {@code student}, or its first one if the run has no journal. */
    public Envelope enrollment(String student) {
        return journal().stream().filter(e -> e.getKind() == Kind.ENROLLMENT && e.getStudentId().equals(student)).findFirst()
            .or(() -> first(Kind.ENROLLMENT, e -> e.getStudentId().equals(student)))
            .orElseThrow(() -> new IllegalArgumentException("run " + runId + " has no enrollment of " + student));
    }

    /** The admission the coordinator sent {@code student}. */
    Optional<Envelope> admitted(String student) {
        return first(Kind.ADMITTED, e -> e.getStudentId().equals(student));
    }

    /**
     * What {@code student} learned from at each step, in step order: the soft targets of the teacher
     * version its feedback answers, from each teacher the step used (all of them, or those that
     * answered by its deadline: a teacher it went without got a skipped feedback), and the exam
     * result it logged; under the pilot update, the soft targets of the step after, which carry the
     * updated teacher's for this step's course. Stops at the first step the log does not complete.
     */
    public List<Step> steps(String student) {
        Envelope admission = admitted(student)
            .orElseThrow(() -> new IllegalArgumentException("run " + runId + " never admitted " + student));
        List<String> teachers = admission.getAdmitted().getEnrollment().getHyperParameters().getTeachersList();
        List<String> tags = teachers.isEmpty() ? List.of("") : teachers;
        // Under the pilot update the course step of step k learned from the updated targets that SoftTargets(k+1) carries.
        long ahead = admission.getAdmitted().getEnrollment().getHyperParameters().getPilot() ? 1 : 0;
        Map<Long, Map<String, dev.ikd.proto.v1.Feedback>> feedback = new HashMap<>();
        Map<Long, List<Envelope>> targets = new HashMap<>();
        Map<Long, Envelope> exams = new LinkedHashMap<>();
        for (Envelope e : journal()) {
            if (e.getKind() == Kind.EXAM_RESULT && e.getStudentId().equals(student)) {
                exams.putIfAbsent(e.getStep(), e);
            }
        }
        for (Entry entry : entries) {
            Envelope e = entry.envelope();
            if (!e.getStudentId().equals(student)) {
                continue;
            }
            switch (e.getKind()) {
                case FEEDBACK -> {
                    if (e.getProducerId().equals(student)) {
                        feedback.computeIfAbsent(e.getStep(), k -> new HashMap<>()).putIfAbsent(e.getTeacherId(), e.getFeedback());
                    }
                }
                case SOFT_TARGETS -> targets.computeIfAbsent(e.getStep(), k -> new ArrayList<>()).add(e);
                case EXAM_RESULT -> {
                    if (e.getProducerId().equals(student)) {
                        exams.putIfAbsent(e.getStep(), e);
                    }
                }
                default -> {
                }
            }
        }
        List<Step> steps = new ArrayList<>();
        for (long k = 0; feedback.containsKey(k) && exams.containsKey(k); k++) {
            Map<String, dev.ikd.proto.v1.Feedback> answers = feedback.get(k);
            List<Envelope> learned = new ArrayList<>();
            int used = 0;
            for (String tag : tags) {
                var f = answers.get(tag);
                if (f == null || f.getSkipped()) {
                    continue;
                }
                used++;
                targets.getOrDefault(k + ahead, List.of()).stream().filter(t -> t.getTeacherId().equals(tag)
                    && (ahead == 0 ? t.getSoftTargets().getTeacherVersion() == f.getTeacherVersion() : t.getSoftTargets().hasUpdatedCourse()))
                    .findFirst().ifPresent(learned::add);
            }
            if (answers.size() < tags.size() || used == 0 || learned.size() < used) {
                break;
            }
            steps.add(new Step(k, learned, exams.get(k)));
        }
        return steps;
    }

    /**
     * Which teachers each step of each admitted student used, as its feedback recorded it: the steps
     * that went without a late teacher, for the in-process trainer to follow (every other step used
     * them all).
     */
    public dev.ikd.core.train.TeachersUsed teachersUsed() {
        Map<String, Map<Long, int[]>> degraded = new HashMap<>();
        for (Envelope a : select(Kind.ADMITTED, e -> true)) {
            List<String> teachers = a.getAdmitted().getEnrollment().getHyperParameters().getTeachersList();
            for (Step s : teachers.size() < 2 ? List.<Step>of() : steps(a.getStudentId())) {
                if (s.softTargets().size() < teachers.size()) {
                    degraded.computeIfAbsent(a.getStudentId(), k -> new HashMap<>()).put(s.step(),
                        s.softTargets().stream().mapToInt(e -> teachers.indexOf(e.getTeacherId())).toArray());
                }
            }
        }
        return dev.ikd.core.train.TeachersUsed.except(degraded);
    }

    /** The teacher's blocks of the run (IAKD): the newest version of each stage the log holds. */
    List<dev.ikd.proto.v1.TeacherBlock> teacherBlocks() {
        return teacherBlocks("teacher");
    }

    /** The blocks teacher {@code teacherId} ("teacher", or teacher-a, ... of several) published: the newest of each stage. */
    List<dev.ikd.proto.v1.TeacherBlock> teacherBlocks(String teacherId) {
        Map<String, dev.ikd.proto.v1.TeacherBlock> latest = new java.util.TreeMap<>();
        for (Envelope e : select(Kind.TEACHER_BLOCK, x -> x.getTeacherBlock().getTeacherId().equals(teacherId))) {
            var b = e.getTeacherBlock();
            latest.merge(b.getStage(), b, (held, next) -> next.getVersion() >= held.getVersion() ? next : held);
        }
        return List.copyOf(latest.values());
    }

    /** The live students' reports (test accuracy, final hash), by student. */
    public Map<String, Envelope> reports() {
        Map<String, Envelope> out = new LinkedHashMap<>();
        select(Kind.STUDENT_REPORT, e -> true).forEach(e -> out.putIfAbsent(e.getStudentId(), e));
        return out;
    }

    /** Seconds from the first soft targets to the last exam result: how long the live run stepped. */
    public double liveSeconds() {
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (Entry e : entries) {
            Kind k = e.envelope().getKind();
            if (k == Kind.SOFT_TARGETS) {
                first = Math.min(first, e.envelope().getEventTimeMs());
            } else if (k == Kind.EXAM_RESULT) {
                last = Math.max(last, e.envelope().getEventTimeMs());
            }
        }
        return first == Long.MAX_VALUE || last < first ? Double.NaN : (last - first) / 1e3;
    }

    /** One step as the log recorded it: the soft targets of each teacher the student learned from (at that step), in its teachers' order. */
    public record Step(long step, List<Envelope> softTargets, Envelope examResult) {
    }

    private List<Envelope> select(Kind kind, Predicate<Envelope> which) {
        return entries.stream().map(Entry::envelope).filter(e -> e.getKind() == kind && which.test(e)).toList();
    }

    private Optional<Envelope> first(Kind kind, Predicate<Envelope> which) {
        return entries.stream().map(Entry::envelope).filter(e -> e.getKind() == kind && which.test(e)).findFirst();
    }
}
