package dev.ikd.coordinator.service;

import java.time.Clock;
import java.time.Duration;
import java.util.Set;

import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.RunFailedException;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.KafkaProcessor;
import dev.ikd.runtime.processor.Processor;
import dev.ikd.runtime.processor.ProcessorConfig;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The coordinator on Kafka: the {@link CoordinatorMachine} on the durable processor, reading
 * {@code ikd.enrollment}, {@code ikd.exam-results} and {@code ikd.teacher-updates}, event-sourced
 * through {@code ikd.coordinator-journal}. Started again, it folds its journal (sending nothing but
 * the last event's commands, which may not have left) and reads on from what the journal covers;
 * overdue steps are re-issued by the usual timeout.
 */
public final class CoordinatorVerticle extends AbstractVerticle {

    private final ProcessorConfig config;
    private final CoordinatorMachine.Settings settings;
    private final ServiceMetrics metrics;
    private final Promise<Void> ended = Promise.promise();
    private volatile boolean up;
    private WorkerExecutor pool;
    private Producer<String, Envelope> journal;
    private KafkaProcessor<CoordinatorMachine> kafka;

    public CoordinatorVerticle(ProcessorConfig config, CoordinatorMachine.Settings settings, ServiceMetrics metrics) {
        this.config = config;
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void start(Promise<Void> started) {
        Clock clock = Clock.systemUTC();
        pool = ProcessorConfig.pool(vertx, config.serviceId(), 1);
        journal = config.kafka().producer(config.serviceId() + "-journal");
        var durability = new JournalDurability(journal, config.kafka().access(), config.manifest(), config.runId(), config.serviceId(), clock);
        kafka = new KafkaProcessor<>(config.kafka(), config.settings(settings.tickMs()),
            new Processor.Inputs.Group(Set.of(Topics.ENROLLMENT, Topics.EXAM_RESULTS, Topics.TEACHER_UPDATES)),
            new CoordinatorService(settings, config.runId(), config.serviceId(), clock), durability, metrics,
            ProcessorConfig.workers(pool), new Processor.Listener<>() {
                @Override
                public void handled(String key, CoordinatorMachine machine, Input input) {
                    observe(machine);
                }

                @Override
                public void recovered(String key, CoordinatorMachine machine) {
                    observe(machine);
                }
            });
        kafka.processor().failure().whenComplete((ok, stop) -> ended.tryFail(stop));
        Future.fromCompletionStage(kafka.processor().start()).onSuccess(v -> up = true).onComplete(started);
    }

    private void observe(CoordinatorMachine machine) {
        if (machine.abortedBecause() != null) {
            ended.tryFail(new RunFailedException("run " + config.runId() + " aborted: " + machine.abortedBecause()));
        } else if (machine.ended()) {
            ended.tryComplete();
        }
    }

    /**
     * Completes once every expected student has reported and the run's end is sent; fails if the run
     * was aborted (with its reason), or if the service had to stop.
     */
    public Future<Void> ended() {
        return ended.future();
    }

    public JsonObject health() {
        CoordinatorMachine m = kafka == null ? null : kafka.processor().machine(config.runId());
        return new JsonObject().put("service", config.serviceId()).put("status", up && !ended.future().failed() ? "UP" : "DOWN")
            .put("students", m == null ? 0 : m.students()).put("journaled", m == null ? 0 : m.applied());
    }

    @Override
    public void stop(Promise<Void> stopped) {
        vertx.executeBlocking(() -> {
            if (kafka != null) {
                kafka.close();
            }
            if (journal != null) {
                journal.close(Duration.ofSeconds(10));
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
