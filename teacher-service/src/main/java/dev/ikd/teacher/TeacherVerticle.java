package dev.ikd.teacher;

import java.time.Clock;
import java.util.List;
import java.util.Set;

import ai.djl.ndarray.NDManager;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.EnvelopeBus;
import dev.ikd.runtime.KeyedWork;
import dev.ikd.runtime.ServiceMetrics;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

/**
 * The teacher service on Kafka: reads {@code ikd.control} and {@code ikd.feedback}, answers with
 * soft targets and teacher updates. Learning runs on the worker pool, in order per student and
 * concurrently across students; the event loop only routes.
 */
public final class TeacherVerticle extends AbstractVerticle {

    private final EnvelopeBus.Settings busSettings;
    private final TeacherService.Settings settings;
    private final ServiceMetrics metrics;
    private final NDManager manager;
    private final Promise<Void> ended = Promise.promise();
    private volatile boolean up;
    private TeacherService service;
    private EnvelopeBus bus;
    private KeyedWork work;

    public TeacherVerticle(EnvelopeBus.Settings bus, TeacherService.Settings settings, ServiceMetrics metrics, NDManager manager) {
        this.busSettings = bus;
        this.settings = settings;
        this.metrics = metrics;
        this.manager = manager;
    }

    @Override
    public void start(Promise<Void> started) {
        service = new TeacherService(settings, busSettings.runId(), metrics, Clock.systemUTC(), manager);
        work = new KeyedWork(vertx);
        bus = EnvelopeBus.sender(vertx, busSettings, metrics);
        bus.subscribe(vertx, Set.of(Topics.CONTROL, Topics.FEEDBACK), TeacherVerticle::notMine, this::handle)
            .onSuccess(v -> up = true).onComplete(started);
    }

    private static String notMine(Envelope e) {
        return switch (e.getKind()) {
            case ADMITTED, COURSE_START, FEEDBACK, FINISH -> null;
            default -> "not_for_teacher";
        };
    }

    private Future<List<Envelope>> handle(Envelope e) {
        String student = e.getStudentId();
        return switch (e.getKind()) {
            case ADMITTED -> work.submit(student, () -> service.admitted(e));
            case COURSE_START -> work.submit(student, () -> service.courseStart(e));
            case FEEDBACK -> work.submit(student, () -> service.feedback(e));
            default -> {
                if (student.isEmpty()) {
                    ended.tryComplete();
                    yield Future.succeededFuture(List.of());
                }
                yield work.submit(student, () -> service.finish(e));
            }
        };
    }

    /** Completes when the coordinator declares the run finished. */
    public Future<Void> ended() {
        return ended.future();
    }

    public JsonObject health() {
        return new JsonObject().put("service", busSettings.serviceId()).put("status", up ? "UP" : "STARTING")
            .put("mode", settings.mode().cliName()).put("students", service == null ? 0 : service.students());
    }

    @Override
    public void stop(Promise<Void> stopped) {
        bus.close(vertx).onComplete(v -> {
            service.close();
            stopped.complete();
        });
    }
}
