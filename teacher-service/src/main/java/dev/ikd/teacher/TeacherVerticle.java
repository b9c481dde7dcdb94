package dev.ikd.teacher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;

import ai.djl.ndarray.NDManager;
import dev.ikd.learning.blocks.TeacherBlocks;
import dev.ikd.learning.metrics.MetricsListener;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.processor.KafkaProcessor;
import dev.ikd.runtime.processor.Processor;
import dev.ikd.runtime.processor.ProcessorConfig;
import dev.ikd.teacher.protocol.TeacherMachine;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;

/**
 * The teacher on Kafka: a {@link TeacherMachine} per student on the durable processor, reading
 * {@code ikd.control} and {@code ikd.feedback} in the teacher's consumer group. Replicas started
 * with the same state directory share the students: when one stops or dies, the others take its
 * partitions and continue its students from their checkpoints.
 */
public final class TeacherVerticle extends AbstractVerticle {

    /** In the state directory once the run has ended, so that a teacher started again knows. */
    private static final String RUN_ENDED = "run.ended";
    /** Students learned from at once: more threads than cores, because a step also waits for the brokers. */
    private static final int WORKERS = 16;

    private final ProcessorConfig config;
    private final TeacherService.Settings settings;
    private final ServiceMetrics metrics;
    private final NDManager manager;
    private final Promise<Void> ended = Promise.promise();
    private volatile boolean up;
    private WorkerExecutor pool;
    private TeacherService service;
    private KafkaProcessor<TeacherMachine> kafka;

    public TeacherVerticle(ProcessorConfig config, TeacherService.Settings settings, ServiceMetrics metrics, NDManager manager) {
        this.config = config;
        this.settings = settings;
        this.metrics = metrics;
        this.manager = manager;
    }

    @Override
    public void start(Promise<Void> started) {
        if (endMarker() != null && Files.exists(endMarker())) {
            String reason = readMarker();
            if (reason.startsWith("aborted: ")) {
                ended.tryFail(new dev.ikd.runtime.RunFailedException("run " + config.runId() + " " + reason));
            } else {
                ended.tryComplete();
            }
        }
        pool = ProcessorConfig.pool(vertx, config.serviceId(), WORKERS);
        // Setting up may fill the feature cache (a forward over the training set): on a worker, not the event loop.
        pool.executeBlocking(() -> new TeacherService(settings, config.runId(), metrics,
                new MetricsListener(metrics), manager), false)
            .compose(s -> {
                service = s;
                kafka = new KafkaProcessor<>(config.kafka(), config.settings(0, ProcessorConfig.LEARNER_UNACKED), new Processor.Inputs.Group(Set.of(Topics.CONTROL,
                    Topics.FEEDBACK)), s, config.checkpoints(settings.teacherId()), metrics, ProcessorConfig.workers(pool),
                    new Processor.Listener<>() {
                        @Override
                        public void received(Envelope e) {
                            if (e.getKind() == Kind.FINISH && e.getStudentId().isEmpty()) {
                                runEnded(e.getFinish().getReason());
                            } else if (e.getKind() == Kind.ABORT && e.getStudentId().isEmpty()) {
                                runEnded("aborted: " + e.getAbort().getReason());
                                ended.tryFail(new dev.ikd.runtime.RunFailedException("run " + config.runId() + " aborted: "
                                    + e.getAbort().getReason()));
                            }
                        }
                    });
                kafka.processor().failure().whenComplete((ok, stop) -> ended.tryFail(stop));
                if (settings.lm() != null) {
                    return Future.<Void>succeededFuture(); // a language model's students swap no stages
                }
                // The frozen stages IAKD students swap in, on the compacted topic (the same from every replica).
                return Future.fromCompletionStage(kafka.processor().sendInTurn(TeacherBlocks.encode(config.runId(), settings.teacherId(),
                    settings.net().spec(), settings.pretrained(), 0, Clock.systemUTC())));
            })
            .compose(v -> Future.fromCompletionStage(kafka.processor().start()))
            .onSuccess(v -> up = true).onComplete(started);
    }

    private void runEnded(String reason) {
        Path marker = endMarker();
        if (marker != null) {
            try {
                Files.createDirectories(marker.getParent());
                Files.writeString(marker, reason);
            } catch (java.io.IOException e) {
                // Only a restart after the end would miss it: it then waits for its timeout.
                org.slf4j.LoggerFactory.getLogger(TeacherVerticle.class).warn("{}: cannot write {}: {}", config.serviceId(), marker,
                    e.toString());
            }
        }
        if (!reason.startsWith("aborted: ")) {
            ended.tryComplete();
        }
    }

    private String readMarker() {
        try {
            return Files.readString(endMarker());
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private Path endMarker() {
        return config.stateBase() == null ? null
            : config.stateBase().resolve(config.runId()).resolve(settings.teacherId()).resolve(RUN_ENDED);
    }

    /** Completes when the coordinator declares the run finished; fails if it aborted the run, or if the service had to stop. */
    public Future<Void> ended() {
        return ended.future();
    }

    /** The shared backbone's feature cache, once set up (null in mode ikd). */
    public dev.ikd.core.learn.FeatureCache cache() {
        return service == null ? null : service.cache();
    }

    public JsonObject health() {
        long students = kafka == null ? 0 : kafka.processor().keys().stream()
            .map(k -> kafka.processor().machine(k)).filter(m -> m != null && m.active()).count();
        return new JsonObject().put("service", config.serviceId()).put("status", up && !ended.future().failed() ? "UP" : "DOWN")
            .put("mode", settings.mode().cliName()).put("students", students);
    }

    @Override
    public void stop(Promise<Void> stopped) {
        vertx.executeBlocking(() -> {
            if (kafka != null) {
                kafka.close();
            }
            if (service != null) {
                service.close();
            }
            return null;
        }).onComplete(v -> {
            if (pool != null) {
                pool.close();
            }
            stopped.complete();
        });
    }
}
