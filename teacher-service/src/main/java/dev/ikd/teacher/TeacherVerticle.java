package dev.ikd.teacher;

import java.nio.file.Files;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.EnvelopeBus;
import dev.ikd.runtime.KeyedWork;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.StateDir;
import dev.ikd.runtime.TeacherBlocks;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

/**
 * The teacher service on Kafka: reads {@code ikd.control} and {@code ikd.feedback}, answers with
 * soft targets and teacher updates. Learning runs on the worker pool, in order per student and
 * concurrently across students; the event loop only routes.
 *
 * <p>With a state directory, each student's teacher is checkpointed after every message that
 * changes it, before the answers leave; started again on that directory, the teacher takes every
 * student back, sends each one's last answers again and skips the input the checkpoints cover.
 */
public final class TeacherVerticle extends AbstractVerticle {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TeacherVerticle.class);

    private final EnvelopeBus.Settings busSettings;
    private final TeacherService.Settings settings;
    private final ServiceMetrics metrics;
    private final NDManager manager;
    private final Promise<Void> ended = Promise.promise();
    /** In the state directory once the run has ended, so that a teacher started again knows. */
    private static final String RUN_ENDED = "run.ended";
    private final StateDir stateDir;
    private volatile boolean up;
    private TeacherService service;
    private EnvelopeBus bus;
    private KeyedWork work;

    /** @param stateDir where to checkpoint and resume from; null keeps the state in memory only */
    public TeacherVerticle(EnvelopeBus.Settings bus, TeacherService.Settings settings, ServiceMetrics metrics, NDManager manager,
                           StateDir stateDir) {
        this.stateDir = stateDir;
        this.busSettings = bus;
        this.settings = settings;
        this.metrics = metrics;
        this.manager = manager;
    }

    @Override
    public void start(Promise<Void> started) {
        work = new KeyedWork(vertx);
        bus = EnvelopeBus.sender(vertx, busSettings, metrics);
        if (stateDir != null && Files.exists(stateDir.path().resolve(RUN_ENDED))) {
            ended.tryComplete();
        }
        bus.onRebalance(new EnvelopeBus.Rebalance() {
            @Override
            public void assigned(Set<String> partitions) {
                takeOver(partitions);
            }

            @Override
            public void revoked(Set<String> partitions) {
                handOver(partitions);
            }
        });
        // Setting up may fill the feature cache (a forward over the training set): on a worker, not the event loop.
        work.submit("setup", () -> new TeacherService(settings, busSettings.runId(), metrics, Clock.systemUTC(), manager))
            .compose(s -> {
                service = s;
                // The frozen stages IAKD students swap in, on the compacted topic (the same from every replica).
                return bus.sendAll(TeacherBlocks.encode(busSettings.runId(), settings.teacherId(), settings.pretrained(), 0,
                    Clock.systemUTC()));
            })
            .compose(v -> bus.subscribe(vertx, Set.of(Topics.CONTROL, Topics.FEEDBACK), TeacherVerticle::notMine, this::handle))
            .onSuccess(v -> up = true).onComplete(started);
    }

    /**
     * Partitions gained (at start, or from a replica that stopped or died): every student of theirs
     * that has a checkpoint is taken back from it, and its last answers are sent again (the first
     * sending may have died with the replica that owned it).
     */
    private void takeOver(Set<String> partitions) {
        if (stateDir == null) {
            return;
        }
        work.submit("rebalance", () -> stateDir.keys().stream().filter(s -> partitions.contains(partitionOf(s))).toList())
            .onSuccess(students -> students.forEach(student -> work.submit(student, () -> {
                if (service.has(student)) {
                    return List.<Envelope>of();
                }
                java.nio.file.Path saved = stateDir.latest(student);
                List<Envelope> answers = service.resume(saved);
                LOG.info("{}: took over {} from its checkpoint {} ({} records applied)", busSettings.serviceId(), student,
                    saved.getFileName(), service.records(student));
                return answers;
            }).onSuccess(bus::sendAll)
                .onFailure(e -> LOG.error("{}: cannot take over {}: {}", busSettings.serviceId(), student, e.getMessage()))));
    }

    /** Partitions lost to another replica: their students' state is dropped here (it is checkpointed) once their work is done. */
    private void handOver(Set<String> partitions) {
        for (String student : service.studentIds()) {
            work.submit(student, () -> {
                if (partitions.contains(partitionOf(student))) {
                    service.drop(student);
                }
                return null;
            });
        }
    }

    private String partitionOf(String student) {
        return Topics.CONTROL + "/" + bus.partitionOf(Topics.CONTROL, student);
    }

    private static String notMine(Envelope e, Position at) {
        return switch (e.getKind()) {
            case ADMITTED, COURSE_START, FEEDBACK, FINISH -> null;
            default -> "not_for_teacher";
        };
    }

    private Future<List<Envelope>> handle(Envelope e, Position at) {
        String student = e.getStudentId();
        return switch (e.getKind()) {
            case ADMITTED -> apply(student, at, () -> service.admitted(e));
            case COURSE_START -> apply(student, at, () -> service.courseStart(e));
            case FEEDBACK -> apply(student, at, () -> service.feedback(e));
            default -> {
                if (student.isEmpty()) {
                    yield work.submit("run", () -> {
                        if (stateDir != null) {
                            Files.createDirectories(stateDir.path());
                            Files.writeString(stateDir.path().resolve(RUN_ENDED), e.getFinish().getReason());
                        }
                        ended.tryComplete();
                        return List.of();
                    });
                }
                yield work.submit(student, () -> service.finish(e));
            }
        };
    }

    /**
     * Applies one record to this student's teacher unless its state already covers it; the new state
     * (with the record's position) is checkpointed before the answers leave.
     */
    private Future<List<Envelope>> apply(String student, Position at, Callable<List<Envelope>> step) {
        return work.submit(student, () -> {
            java.nio.file.Path saved = service.has(student) || stateDir == null ? null : stateDir.latest(student);
            if (saved != null) {
                service.resume(saved); // a student this replica has just taken over
            }
            if (service.covers(student, at)) {
                metrics.skipped(at.topic(), "covered");
                return List.of();
            }
            List<Envelope> out = step.call();
            service.advance(student, at);
            var checkpoint = stateDir == null ? null : service.checkpoint(student);
            if (checkpoint != null) {
                stateDir.write(student, service.records(student), checkpoint::write);
            }
            return out;
        });
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
            if (service != null) {
                service.close();
            }
            stopped.complete();
        });
    }
}
