package dev.ikd.coordinator.service;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.ikd.coordinator.protocol.Command;
import dev.ikd.coordinator.protocol.Event;
import dev.ikd.coordinator.protocol.Protocol;
import dev.ikd.coordinator.protocol.Schedule;
import dev.ikd.core.data.Splits;
import dev.ikd.core.train.ReferenceTrainer.Plan;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.Refused;
import dev.ikd.proto.v1.Samples;
import dev.ikd.runtime.Covered;
import dev.ikd.runtime.EnvelopeBus;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.Terms;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

/**
 * The thin shell around {@link Protocol}: decodes enrollment, exam results, teacher updates and
 * reports into events, turns the protocol's commands into control records, and feeds it the clock.
 * A rejected message goes to the dead-letter topic with the protocol's reason.
 *
 * <p>Event-sourced (DESIGN §5): every event the protocol accepts is appended, with where it was read
 * and the clock it was applied at, to {@code ikd.coordinator-journal} after the commands it caused.
 * On start the coordinator folds its run's journal into a fresh protocol (sending nothing), then
 * reads on from past what the journal covers; overdue steps are re-issued by the usual timeout.
 * The journal is also the run's applied sequence: each student's steps, each exactly once.
 */
public final class CoordinatorVerticle extends AbstractVerticle {

    /**
     * @param dataset          the run's data terms (checksum, sizes, split seed and fractions)
     * @param teacherMode      the mode the run's teacher serves
     * @param timeoutMs        re-issue a CourseStart whose answers are this late
     * @param expectedStudents the run ends once this many students have reported (0: never by itself)
     */
    public record Settings(DatasetSpec dataset, String teacherMode, long timeoutMs, int expectedStudents) {
    }

    private final EnvelopeBus.Settings busSettings;
    private final Settings settings;
    private final ServiceMetrics metrics;
    private final Map<String, Plan> plans = new ConcurrentHashMap<>();
    private final Map<String, Enrollment> enrollments = new ConcurrentHashMap<>();
    private final Promise<Void> ended = Promise.promise();
    private final Clock clock = Clock.systemUTC();
    private Splits splits;
    private Protocol protocol;
    private EnvelopeBus bus;
    private final Covered covered = Covered.none();
    private boolean replaying;
    /** Events in this run's journal: folded at start plus applied since (shown by /health). */
    private volatile int journaled;
    private Future<Void> journalTail = Future.succeededFuture();
    private volatile boolean up;

    public CoordinatorVerticle(EnvelopeBus.Settings bus, Settings settings, ServiceMetrics metrics) {
        this.busSettings = bus;
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void start(Promise<Void> started) {
        DatasetSpec d = settings.dataset();
        splits = Splits.of(d.getTrainSize(), d.getLabelFraction(), d.getQuizFraction(), d.getSplitSeed());
        Schedule schedule = new Schedule() {
            @Override
            public int[] courseIds(String studentId, long step) {
                return plans.get(studentId).course().batch(step);
            }

            @Override
            public int[] examIds(String studentId, long step) {
                return plans.get(studentId).exam().batch(step);
            }
        };
        protocol = new Protocol(busSettings.runId(), new Event.Terms(d.getSha256(), Terms.splits(d), settings.teacherMode()),
            schedule, settings.timeoutMs(), settings.expectedStudents());
        bus = EnvelopeBus.sender(vertx, busSettings, metrics);
        vertx.executeBlocking(() -> Journal.read(busSettings.bootstrapServers(), busSettings.runId(), busSettings.serviceId()))
            .map(entries -> {
                fold(entries);
                return null;
            })
            .compose(v -> {
                vertx.setPeriodic(Math.max(10, settings.timeoutMs() / 4),
                    id -> bus.sendAll(apply(new Event.Tick(busSettings.runId(), now()), now())));
                return bus.subscribe(vertx, Set.of(Topics.ENROLLMENT, Topics.EXAM_RESULTS, Topics.TEACHER_UPDATES),
                    (e, at) -> covered.covers(at) ? "covered" : null, this::handle);
            })
            .onSuccess(v -> up = true).onComplete(started);
    }

    /** Rebuilds the protocol from the journal: the same events at the same clock, with nothing sent. */
    private void fold(List<JournalEntry> entries) {
        replaying = true;
        try {
            for (JournalEntry j : entries) {
                try {
                    event(j.getEvent(), j.getNowMs());
                } catch (RejectedMessageException e) {
                    throw new IllegalStateException("the journal of run " + busSettings.runId() + " does not replay: "
                        + j.getEvent().getIdempotencyKey() + " at " + j.getTopic() + "/" + j.getPartition() + "@" + j.getOffset()
                        + " is now rejected: " + e.getMessage(), e);
                }
                covered.advance(new Position(j.getTopic(), j.getPartition(), j.getOffset()));
            }
            journaled = entries.size();
        } finally {
            replaying = false;
        }
    }

    /**
     * One record: the protocol's commands go out at once; the journal entry follows once they are
     * acknowledged (so a journaled event's commands were sent) and after every earlier entry (so the
     * journal keeps the order the events were applied in).
     */
    private Future<List<Envelope>> handle(Envelope e, Position at) {
        long now = now();
        List<Envelope> commands = event(e, now);
        Envelope entry = Envelopes.header(busSettings.runId(), e.getStudentId(), e.getStep(), Kind.JOURNAL_ENTRY,
                busSettings.serviceId(), clock)
            .setJournalEntry(JournalEntry.newBuilder().setTopic(at.topic()).setPartition(at.partition()).setOffset(at.offset())
                .setNowMs(now).setEvent(e))
            .build();
        journaled++;
        Future<Void> sent = bus.sendAll(commands);
        journalTail = journalTail.transform(previous -> sent).compose(v -> bus.send(entry));
        return journalTail.map(List.of());
    }

    private List<Envelope> event(Envelope e, long now) {
        String run = e.getRunId();
        String student = e.getStudentId();
        Event event = switch (e.getKind()) {
            case ENROLLMENT -> enrolled(e);
            case EXAM_RESULT -> new Event.ExamResult(run, student, e.getStep(), e.getExamResult().getParamSha256());
            case TEACHER_UPDATED -> new Event.TeacherUpdated(run, student, e.getStep(), e.getTeacherUpdated().getTeacherVersion());
            case STUDENT_REPORT -> new Event.Reported(run, student, e.getStudentReport().getSteps(),
                e.getStudentReport().getParamSha256());
            default -> throw new RejectedMessageException("the coordinator does not take " + e.getKind() + " messages");
        };
        if (event == null) {
            return replaying ? List.of() : List.of(refusal(student, "batch sizes must be at least 1, got "
                + e.getEnrollment().getHyperParameters().getBatchSize() + " and "
                + e.getEnrollment().getHyperParameters().getExamBatchSize()));
        }
        return apply(event, now);
    }

    /** The enrollment as an event; its plan (the batches of every step) is fixed here, at admission. */
    private Event enrolled(Envelope e) {
        Enrollment en = e.getEnrollment();
        var hp = en.getHyperParameters();
        if (hp.getBatchSize() < 1 || hp.getExamBatchSize() < 1) {
            return null;
        }
        if (!plans.containsKey(e.getStudentId())) {
            plans.put(e.getStudentId(), Plan.of(splits, hp.getBatchSize(), hp.getExamBatchSize(), hp.getSeed(), false));
            enrollments.put(e.getStudentId(), en);
        }
        return new Event.Enrolled(e.getRunId(), e.getStudentId(),
            new Event.Terms(en.getDataset().getSha256(), Terms.splits(en.getDataset()), hp.getTeacherMode()), hp.getSteps());
    }

    private List<Envelope> apply(Event event, long now) {
        List<Command> commands = protocol.handle(event, now);
        if (commands.size() == 1 && commands.get(0) instanceof Command.Reject r) {
            throw new RejectedMessageException(r.reason());
        }
        List<Envelope> out = commands.stream().map(this::toEnvelope).toList();
        return replaying ? List.of() : out;
    }

    private Envelope toEnvelope(Command c) {
        String run = busSettings.runId();
        String me = busSettings.serviceId();
        if (c instanceof Command.Admit a) {
            return Envelopes.header(run, a.studentId(), 0, Kind.ADMITTED, me, clock)
                .setAdmitted(Admitted.newBuilder().setTeacherMode(settings.teacherMode()).setSteps(a.steps())
                    .setEnrollment(enrollments.get(a.studentId()))).build();
        }
        if (c instanceof Command.Refuse r) {
            if (!protocol.isEnrolled(r.studentId())) {
                plans.remove(r.studentId());
                enrollments.remove(r.studentId());
            }
            return refusal(r.studentId(), r.reason());
        }
        if (c instanceof Command.CourseStart s) {
            return Envelopes.header(run, s.studentId(), s.step(), Kind.COURSE_START, me, clock)
                .setCourseStart(CourseStart.newBuilder().setCourse(samples(s.courseIds())).setExam(samples(s.examIds()))).build();
        }
        if (c instanceof Command.Finish f) {
            return Envelopes.header(run, f.studentId(), f.steps(), Kind.FINISH, me, clock)
                .setFinish(Finish.newBuilder().setReason("all " + f.steps() + " steps done")).build();
        }
        if (c instanceof Command.EndRun end) {
            ended.tryComplete();
            return Envelopes.header(run, "", 0, Kind.FINISH, me, clock)
                .setFinish(Finish.newBuilder().setReason("run complete: " + end.students() + " students reported")).build();
        }
        throw new IllegalStateException("a rejection among other commands: " + c);
    }

    private Envelope refusal(String student, String reason) {
        return Envelopes.header(busSettings.runId(), student, 0, Kind.REFUSED, busSettings.serviceId(), clock)
            .setRefused(Refused.newBuilder().setReason(reason)).build();
    }

    private static Samples samples(int[] ids) {
        var b = Samples.newBuilder();
        for (int id : ids) {
            b.addIds(id);
        }
        return b.build();
    }

    private long now() {
        return clock.millis();
    }

    /** Completes once every expected student has reported. */
    public Future<Void> ended() {
        return ended.future();
    }

    public JsonObject health() {
        return new JsonObject().put("service", busSettings.serviceId()).put("status", up ? "UP" : "STARTING")
            .put("students", plans.size()).put("journaled", journaled);
    }

    @Override
    public void stop(Promise<Void> stopped) {
        bus.close(vertx).onComplete(v -> stopped.complete());
    }
}
