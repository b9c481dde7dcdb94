package dev.ikd.student;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.StepListener;
import dev.ikd.learning.blocks.TeacherBlocks;
import dev.ikd.learning.metrics.MetricsListener;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.runtime.RunFailedException;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.KafkaProcessor;
import dev.ikd.runtime.processor.Processor;
import dev.ikd.runtime.processor.ProcessorConfig;
import dev.ikd.student.protocol.StudentMachine;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;

/**
 * One student on Kafka: its {@link StudentMachine} on the durable processor, reading its own
 * partition of {@code ikd.control} and {@code ikd.soft-targets}. It enrolls unless its checkpoint
 * says it was admitted; {@link #finished} completes with its report once that is sent, or fails
 * with the coordinator's reason if it was refused or aborted, or with why the service stopped.
 */
public final class StudentVerticle extends AbstractVerticle {

    /** Whose blocks an IAKD student swaps in: the run's teacher (its replicas publish the same blocks). */
    public static final String TEACHER_ID = "teacher";

    private final ProcessorConfig config;
    private final StudentSettings settings;
    private final ServiceMetrics metrics;
    private final NDManager manager;
    private final StepListener progress;
    private final Promise<StudentReport> finished = Promise.promise();
    private volatile String state = "STARTING";
    private WorkerExecutor pool;
    private KafkaProcessor<StudentMachine> kafka;

    /** @param progress hears this student's steps besides its metrics (a progress line), or {@link StepListener#NONE} */
    public StudentVerticle(ProcessorConfig config, StudentSettings settings, ServiceMetrics metrics, NDManager manager,
                           StepListener progress) {
        this.config = config;
        this.settings = settings;
        this.metrics = metrics;
        this.manager = manager;
        this.progress = progress;
    }

    @Override
    public void start(Promise<Void> started) {
        String me = settings.studentId();
        pool = ProcessorConfig.pool(vertx, config.serviceId(), 1);
        var service = new StudentService(settings, config.runId(),
            StepListener.all(new MetricsListener(metrics), progress), manager, settings.swap().enabled() ? this::teacherBlocks : null,
            config.kafka().signer() == null ? null : config.kafka().signer().publicKey());
        kafka = new KafkaProcessor<>(config.kafka(), config.settings(0, ProcessorConfig.LEARNER_UNACKED),
            new Processor.Inputs.OwnPartition(Set.of(Topics.CONTROL, Topics.SOFT_TARGETS), me), service,
            config.checkpoints(me), metrics, ProcessorConfig.workers(pool), new Processor.Listener<>() {
                @Override
                public void handled(String key, StudentMachine machine, Input input) {
                    observe(machine);
                }
            });
        Processor<StudentMachine> processor = kafka.processor();
        processor.failure().whenComplete((ok, stop) -> finished.tryFail(stop));
        Future.fromCompletionStage(processor.start())
            .compose(v -> Future.fromCompletionStage(processor.act(me, this::begin)))
            .onComplete(started);
    }

    /** Once recovered: enroll, unless the checkpoint says the student was admitted, refused or is done. */
    private List<Envelope> begin(StudentMachine m) {
        observe(m);
        if (m.report() != null || !m.stopped().isEmpty()) {
            return List.of();
        }
        if (m.isAdmitted()) {
            state = "LEARNING";
            return List.of();
        }
        state = "ENROLLING";
        return List.of(settings.enrollment(config.runId(), config.kafka().signer() == null ? null : config.kafka().signer().publicKey(),
            Envelopes.micros(Clock.systemUTC())));
    }

    private void observe(StudentMachine m) {
        if (m.isAdmitted() && "ENROLLING".equals(state)) {
            state = "LEARNING";
        }
        if (m.report() != null) {
            state = "FINISHED";
            finished.tryComplete(m.report().getStudentReport());
        } else if (!m.stopped().isEmpty()) {
            state = "REFUSED";
            // Its own divergence aborts the run: said as the coordinator will say it to everyone.
            String why = settings.studentId() + " " + m.stopped();
            finished.tryFail(new RunFailedException(m.diverged() ? "run " + config.runId() + " aborted: " + why : why));
        }
    }

    /** IAKD: the teacher's frozen stages, from the compacted topic (there even if the teacher published long ago). */
    private Params teacherBlocks() {
        return TeacherBlocks.fetch(config.kafka().access(), config.manifest(), config.runId(), TEACHER_ID,
            Network.build(settings.teacherSpec(), settings.data()), settings.type(), Duration.ofSeconds(120), manager);
    }

    /** The student's report once it has finished, or why it could not. */
    public Future<StudentReport> finished() {
        return finished.future();
    }

    public JsonObject health() {
        StudentMachine m = kafka == null ? null : kafka.processor().machine(settings.studentId());
        return new JsonObject().put("service", config.serviceId()).put("status", "REFUSED".equals(state) ? "DOWN" : "UP")
            .put("state", state).put("step", m == null ? 0 : m.stepsDone());
    }

    @Override
    public void stop(Promise<Void> stopped) {
        vertx.executeBlocking(() -> {
            if (kafka != null) {
                kafka.close();
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
