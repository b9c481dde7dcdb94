package dev.ikd.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.ikd.proto.v1.Envelope;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The meters every ikd service keeps (README "Metrics"), tagged with the service's name: step time
 * per phase, the latest losses and exam accuracy per student, messages and bytes per topic and
 * direction, per-hop latency (send to receive), dead letters and skipped records.
 */
public final class ServiceMetrics {

    /** Percentiles cover the last ten minutes (Micrometer's default is two). */
    private static final Duration WINDOW = Duration.ofMinutes(10);

    /** Sees every record a service handles, with the stages of its hop: for benchmarks and hop logs that need raw samples. */
    @FunctionalInterface
    public interface Observer {
        Observer NONE = (service, topic, envelope, hop) -> { };

        void handled(String service, String topic, Envelope envelope, Hop hop);
    }

    private final MeterRegistry registry;
    private final String service;
    private final Observer observer;
    private final Map<List<String>, AtomicLong> gauges = new ConcurrentHashMap<>();

    public ServiceMetrics(MeterRegistry registry, String service) {
        this(registry, service, Observer.NONE);
    }

    public ServiceMetrics(MeterRegistry registry, String service, Observer observer) {
        this.registry = registry;
        this.service = service;
        this.observer = observer;
    }

    /**
     * A record was handled: the time of each stage of its hop ({@code ikd.hop.stage}: produce, fetch,
     * queue, handle, and handle's parts apply, persist, ack), and the observer told.
     */
    public void handled(String topic, Envelope envelope, Hop hop) {
        stage(topic, "produce", hop.produceUs());
        stage(topic, "fetch", hop.fetchUs());
        stage(topic, "queue", hop.queueUs());
        stage(topic, "handle", hop.handleUs());
        stage(topic, "apply", hop.applyUs());
        stage(topic, "persist", hop.persistUs());
        stage(topic, "ack", hop.ackUs());
        observer.handled(service, topic, envelope, hop);
    }

    private void stage(String topic, String stage, long micros) {
        if (micros >= 0) {
            Timer.builder("ikd.hop.stage").description("Time per stage of a hop: produce, fetch, queue, handle (apply, persist, ack)")
                .tags("service", service, "topic", topic, "stage", stage).publishPercentiles(0.5, 0.99)
                .distributionStatisticExpiry(WINDOW).register(registry).record(Duration.ofNanos(micros * 1_000));
        }
    }

    public MeterRegistry registry() {
        return registry;
    }

    public String service() {
        return service;
    }

    /**
     * CPU time spent in one phase ({@code ikd.step.phase.cpu}): unlike wall time, it does not grow
     * when phases of several students share the cores, so it is what a service is busy for.
     */
    public void phaseCpu(String phase, long cpuNanos) {
        Timer.builder("ikd.step.phase.cpu").description("CPU time per learning phase of a step")
            .tags("service", service, "phase", phase).register(registry)
            .record(Duration.ofNanos(Math.max(0, cpuNanos)));
    }

    /** Time spent in one phase of a step (soft_targets, course_exam, teacher_update, ...). */
    public void phase(String phase, long nanos) {
        Timer.builder("ikd.step.phase").description("Time per learning phase of a step")
            .tags("service", service, "phase", phase).publishPercentiles(0.5, 0.99).distributionStatisticExpiry(WINDOW)
            .register(registry)
            .record(Duration.ofNanos(nanos));
    }

    /** A record arrived: its size, and how long it took from the producer's send (by the envelope's clock). */
    public void received(String topic, int bytes, long hopMicros) {
        Counter.builder("ikd.messages.in").tags("service", service, "topic", topic).register(registry).increment();
        Counter.builder("ikd.bytes.in").baseUnit("bytes").tags("service", service, "topic", topic).register(registry).increment(bytes);
        if (hopMicros >= 0) {
            hopTimer(topic).record(Duration.ofNanos(hopMicros * 1_000));
        }
    }

    /** Per-hop latency on {@code topic}, producer send to consumer receive, p50/p99 published. */
    public Timer hopTimer(String topic) {
        return Timer.builder("ikd.hop.latency").description("Send-to-receive time of one record")
            .tags("service", service, "topic", topic).publishPercentiles(0.5, 0.99).distributionStatisticExpiry(WINDOW)
            .register(registry);
    }

    public void sent(String topic, int bytes) {
        Counter.builder("ikd.messages.out").tags("service", service, "topic", topic).register(registry).increment();
        Counter.builder("ikd.bytes.out").baseUnit("bytes").tags("service", service, "topic", topic).register(registry).increment(bytes);
    }

    public void deadLettered(String topic) {
        deadLetters(topic).increment();
    }

    /** Shows the dead letters from {@code topic} as 0 until there is one. */
    public void watchDeadLetters(String topic) {
        deadLetters(topic);
    }

    private Counter deadLetters(String topic) {
        return Counter.builder("ikd.dead.letters").description("Records sent to ikd.dead-letter, by the topic they came from")
            .tags("service", service, "topic", topic).register(registry);
    }

    /** A partition's queue reached its bound: the consumer paused it until it drains. */
    public void paused(String topic) {
        Counter.builder("ikd.consumer.pauses").description("Times a partition was paused because its queue was full")
            .tags("service", service, "topic", topic).register(registry).increment();
    }

    /** How long making one record's state durable took (checkpoint written and fsync'd, or journaled). */
    public void checkpointed(long nanos) {
        Timer.builder("ikd.checkpoint").description("Time to make one record's state durable")
            .tags("service", service).publishPercentiles(0.5, 0.99).distributionStatisticExpiry(WINDOW).register(registry)
            .record(Duration.ofNanos(nanos));
    }

    /** A valid record that is not this service's to handle (another run, another student). */
    public void skipped(String topic, String reason) {
        Counter.builder("ikd.messages.skipped").tags("service", service, "topic", topic, "reason", reason)
            .register(registry).increment();
    }

    /** With several teachers: teacher {@code teacher}'s mean weight in student {@code student}'s latest step (0: it went without). */
    public void teacherWeight(String student, String teacher, double weight) {
        AtomicLong bits = gauges.computeIfAbsent(List.of("teacher_weight", student, teacher), k -> {
            AtomicLong b = new AtomicLong(Double.doubleToLongBits(Double.NaN));
            Gauge.builder("ikd.teacher.weight", b, x -> Double.longBitsToDouble(x.get()))
                .tags("service", service, "student", student, "teacher", teacher).register(registry);
            return b;
        });
        bits.set(Double.doubleToLongBits(weight));
    }

    /** A step of {@code student} went ahead without {@code teacher}: its soft targets were not in by the deadline. */
    public void stepWithout(String student, String teacher) {
        Counter.builder("ikd.steps.without.teacher").tags("service", service, "student", student, "teacher", teacher)
            .register(registry).increment();
    }

    /** The latest value of a per-student quantity: course_loss, exam_loss, exam_accuracy, teacher_loss, step. */
    public void latest(String name, String student, double value) {
        AtomicLong bits = gauges.computeIfAbsent(List.of(name, student), k -> {
            AtomicLong b = new AtomicLong(Double.doubleToLongBits(Double.NaN));
            Gauge.builder("ikd." + name, b, x -> Double.longBitsToDouble(x.get()))
                .tags("service", service, "student", student).register(registry);
            return b;
        });
        bits.set(Double.doubleToLongBits(value));
    }
}
