package dev.ikd.student;

import java.time.Clock;
import java.util.List;
import java.util.Set;

import ai.djl.ndarray.NDManager;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.runtime.EnvelopeBus;
import dev.ikd.runtime.KeyedWork;
import dev.ikd.runtime.RunFailedException;
import dev.ikd.runtime.ServiceMetrics;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

/**
 * One student on Kafka: enrolls, then reads its own records from {@code ikd.control} and
 * {@code ikd.soft-targets} and answers with feedback and exam results. Learning runs on a worker,
 * one message after another; {@link #finished} completes with the student's report, or fails with
 * the coordinator's reason if it was refused or aborted.
 */
public final class StudentVerticle extends AbstractVerticle {

    private final EnvelopeBus.Settings busSettings;
    private final StudentService.Settings settings;
    private final ServiceMetrics metrics;
    private final NDManager manager;
    private final Promise<StudentReport> finished = Promise.promise();
    private volatile String state = "STARTING";
    private StudentService service;
    private EnvelopeBus bus;
    private KeyedWork work;

    public StudentVerticle(EnvelopeBus.Settings bus, StudentService.Settings settings, ServiceMetrics metrics, NDManager manager) {
        this.busSettings = bus;
        this.settings = settings;
        this.metrics = metrics;
        this.manager = manager;
    }

    @Override
    public void start(Promise<Void> started) {
        work = new KeyedWork(vertx);
        bus = EnvelopeBus.sender(vertx, busSettings, metrics);
        work.submit("setup", () -> new StudentService(settings, busSettings.runId(), metrics, Clock.systemUTC(), manager))
            .compose(s -> {
                service = s;
                return bus.subscribe(vertx, Set.of(Topics.CONTROL, Topics.SOFT_TARGETS), this::notMine, this::handle);
            })
            .compose(v -> bus.send(service.enrollment()))
            .onSuccess(v -> state = "ENROLLING")
            .onComplete(started);
    }

    private String notMine(Envelope e) {
        if (!settings.studentId().equals(e.getStudentId())) {
            return "other_student";
        }
        return switch (e.getKind()) {
            case ADMITTED, REFUSED, COURSE_START, FINISH, ABORT, SOFT_TARGETS -> null;
            default -> "not_for_student";
        };
    }

    private Future<List<Envelope>> handle(Envelope e) {
        String me = settings.studentId();
        return switch (e.getKind()) {
            case ADMITTED -> work.submit(me, () -> {
                state = "LEARNING";
                return service.admitted(e);
            });
            case COURSE_START -> work.submit(me, () -> service.courseStart(e));
            case SOFT_TARGETS -> work.submit(me, () -> service.softTargets(e));
            case FINISH -> work.submit(me, () -> List.of(service.finish(e))).onSuccess(report -> {
                state = "FINISHED";
                bus.send(report.get(0)).onComplete(sent -> finished.tryComplete(report.get(0).getStudentReport()));
            }).map(report -> List.<Envelope>of());
            default -> {
                String reason = e.hasRefused() ? e.getRefused().getReason() : e.getAbort().getReason();
                state = "REFUSED";
                finished.tryFail(new RunFailedException(me + " was " + (e.hasRefused() ? "refused" : "aborted") + ": " + reason));
                yield Future.succeededFuture(List.of());
            }
        };
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
