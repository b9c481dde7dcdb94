package dev.ikd.student;

import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.runtime.EnvelopeBus;
import dev.ikd.runtime.KeyedWork;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.RunFailedException;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.StateDir;
import dev.ikd.runtime.TeacherBlocks;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

/**
 * One student on Kafka: enrolls, then reads its own records from {@code ikd.control} and
 * {@code ikd.soft-targets} and answers with feedback and exam results. Learning runs on a worker,
 * one message after another; {@link #finished} completes with the student's report, or fails with
 * the coordinator's reason if it was refused or aborted.
 *
 * <p>With a state directory, every message that changes the student is checkpointed (state plus the
 * input positions it covers) before its answers go out. Started again on that directory, the
 * student resumes: it loads the checkpoint, sends its last answers again (the first sending may
 * have died with the process), does not enroll again, and skips the input its checkpoint covers.
 */
public final class StudentVerticle extends AbstractVerticle {

    private final EnvelopeBus.Settings busSettings;
    private final StudentService.Settings settings;
    private final ServiceMetrics metrics;
    private final NDManager manager;
    private final Promise<StudentReport> finished = Promise.promise();
    /** Whose blocks an IAKD student swaps in: the run's teacher (its replicas publish the same blocks). */
    public static final String TEACHER_ID = "teacher";
    private final StateDir stateDir;
    private volatile String state = "STARTING";
    private StudentService service;
    private EnvelopeBus bus;
    private KeyedWork work;

    /** @param stateDir where to checkpoint and resume from; null keeps the state in memory only */
    public StudentVerticle(EnvelopeBus.Settings bus, StudentService.Settings settings, ServiceMetrics metrics, NDManager manager,
                           StateDir stateDir) {
        this.busSettings = bus;
        this.settings = settings;
        this.metrics = metrics;
        this.manager = manager;
        this.stateDir = stateDir;
    }

    @Override
    public void start(Promise<Void> started) {
        work = new KeyedWork(vertx);
        bus = EnvelopeBus.sender(vertx, busSettings, metrics);
        String me = settings.studentId();
        work.submit(me, this::load)
            .compose(s -> {
                service = s;
                return bus.subscribeToKey(vertx, Set.of(Topics.CONTROL, Topics.SOFT_TARGETS), settings.studentId(), this::notMine,
                    this::handle);
            })
            .compose(v -> {
                if (service.report() != null) {
                    return report(service.report());
                }
                if (service.isAdmitted()) {
                    state = "LEARNING";
                    return bus.sendAll(service.lastAnswers());
                }
                state = "ENROLLING";
                return bus.send(service.enrollment());
            })
            .onComplete(started);
    }

    private StudentService load() {
        Clock clock = Clock.systemUTC();
        java.nio.file.Path saved = stateDir == null ? null : stateDir.latest(settings.studentId());
        StudentService s = saved == null ? new StudentService(settings, busSettings.runId(), metrics, clock, manager)
            : StudentService.resume(settings, busSettings.runId(), metrics, clock, manager, saved);
        if (settings.swap().enabled()) {
            // IAKD: the teacher's frozen stages, from the compacted topic (there even if the teacher published long ago).
            try (NDManager scope = manager.newSubManager()) {
                s.useTeacherBlocks(TeacherBlocks.fetch(busSettings.bootstrapServers(), busSettings.runId(), TEACHER_ID,
                    dev.ikd.core.model.Network.build(settings.teacherSpec(), settings.data()), settings.type(),
                    java.time.Duration.ofSeconds(120), scope));
            }
        }
        return s;
    }

    private String notMine(Envelope e, Position at) {
        if (!settings.studentId().equals(e.getStudentId())) {
            return "other_student";
        }
        return switch (e.getKind()) {
            case ADMITTED, REFUSED, COURSE_START, FINISH, ABORT, SOFT_TARGETS -> null;
            default -> "not_for_student";
        };
    }

    private Future<List<Envelope>> handle(Envelope e, Position at) {
        String me = settings.studentId();
        return switch (e.getKind()) {
            case ADMITTED -> apply(at, () -> {
                state = "LEARNING";
                return service.admitted(e);
            });
            case COURSE_START -> apply(at, () -> service.courseStart(e));
            case SOFT_TARGETS -> apply(at, () -> service.softTargets(e));
            case FINISH -> apply(at, () -> List.of(service.finish(e))).compose(report -> report.isEmpty()
                ? Future.succeededFuture(List.of()) : report(report.get(0)).map(List.<Envelope>of()));
            default -> {
                String reason = e.hasRefused() ? e.getRefused().getReason() : e.getAbort().getReason();
                state = "REFUSED";
                finished.tryFail(new RunFailedException(me + " was " + (e.hasRefused() ? "refused" : "aborted") + ": " + reason));
                yield Future.succeededFuture(List.of());
            }
        };
    }

    /**
     * Applies one record unless the state already covers it; the new state (with the record's
     * position) is checkpointed before the answers leave.
     */
    private Future<List<Envelope>> apply(Position at, Callable<List<Envelope>> step) {
        return work.submit(settings.studentId(), () -> {
            if (service.covered().covers(at)) {
                metrics.skipped(at.topic(), "covered");
                return List.of();
            }
            List<Envelope> out = step.call();
            service.covered().advance(at);
            if (stateDir != null) {
                stateDir.write(settings.studentId(), service.covered().records(), file -> service.checkpoint().write(file));
            }
            return out;
        });
    }

    /** Sends the report (again, after a restart) and completes {@link #finished} with it. */
    private Future<Void> report(Envelope report) {
        state = "FINISHED";
        return bus.send(report).onComplete(sent -> finished.tryComplete(report.getStudentReport()));
    }

    /** The student's report once it has finished, or the coordinator's refusal. */
    public Future<StudentReport> finished() {
        return finished.future();
    }

    public JsonObject health() {
        return new JsonObject().put("service", busSettings.serviceId()).put("status", "REFUSED".equals(state) ? "DOWN" : "UP")
            .put("state", state).put("step", service == null ? 0 : service.stepsDone());
    }

    @Override
    public void stop(Promise<Void> stopped) {
        bus.close(vertx).onComplete(v -> {
            if (service != null) {
                service.close();
            }
            stopped.complete();
        });
    }
}
