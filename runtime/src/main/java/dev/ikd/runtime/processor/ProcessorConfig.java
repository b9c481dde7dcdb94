package dev.ikd.runtime.processor;

import java.nio.file.Path;
import java.util.concurrent.Executor;

import dev.ikd.proto.sign.RunManifest;
import dev.ikd.runtime.checkpoint.CheckpointFiles;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

/**
 * What a service's processor is configured with, from the command line: where Kafka is, which run
 * and service this is, how many records a partition may queue, which fault points are armed, and
 * where checkpoints go.
 *
 * @param stateBase  where checkpoints go ({@code base/run/service/KEY/}); null keeps state in memory only
 * @param queueBound records per partition taken from Kafka and not yet done
 * @param manifest   the keys a signing run checks every record with; null when the run does not sign
 */
public record ProcessorConfig(KafkaProcessor.Connection kafka, String runId, String serviceId, int queueBound,
                              FaultPoints faults, Path stateBase, RunManifest manifest) {

    public ProcessorConfig(KafkaProcessor.Connection kafka, String runId, String serviceId, int queueBound, FaultPoints faults,
                           Path stateBase) {
        this(kafka, runId, serviceId, queueBound, faults, stateBase, null);
    }

    /** The default queue bound: enough for a step's few records per student, small enough to bound memory. */
    public static final int DEFAULT_QUEUE_BOUND = 64;

    public ProcessorConfig {
        if (queueBound < 1) {
            throw new IllegalArgumentException("--queue-bound must be at least 1 record, got " + queueBound);
        }
    }

    /**
     * Records per key a learner (student, teacher) may apply ahead of its answers' acknowledgements:
     * a frozen teacher's student then steps while its feedback of the steps before is still on its
     * way (BENCHMARKS.md, overhead).
     */
    public static final int LEARNER_UNACKED = 8;

    public Processor.Settings settings(long tickMs) {
        return settings(tickMs, 1);
    }

    /** With {@code unacked} records per key whose answers may await acknowledgement while the next is applied. */
    public Processor.Settings settings(long tickMs, int unacked) {
        return new Processor.Settings(runId, serviceId, queueBound, tickMs, faults, unacked, manifest, kafka.tuning().maxRecordBytes());
    }

    /** Checkpoint files under the state directory, or nothing durable without one. */
    public Durability checkpoints(String service) {
        return stateBase == null ? Durability.NONE : CheckpointFiles.of(stateBase, runId, service);
    }

    /** A Vert.x worker pool for this service's learning (blocking DJL calls), as an executor. */
    public static Executor workers(WorkerExecutor pool) {
        return task -> pool.executeBlocking(() -> {
            task.run();
            return null;
        }, false);
    }

    public static WorkerExecutor pool(Vertx vertx, String serviceId, int threads) {
        return vertx.createSharedWorkerExecutor("ikd-" + serviceId + "-work", threads, 10, java.util.concurrent.TimeUnit.MINUTES);
    }
}
