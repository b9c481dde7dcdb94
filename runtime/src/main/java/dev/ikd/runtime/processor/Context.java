package dev.ikd.runtime.processor;

import java.time.Clock;
import java.util.concurrent.CompletableFuture;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.DeadLetters;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.ServiceMetrics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the parts of one {@link Processor} share: its settings and clients, and its one way to stop.
 * Crash-only: {@link #stop} ends everything at once with one line, and {@link #failure} says why.
 */
final class Context<M extends Machine> {

    private static final Logger LOG = LoggerFactory.getLogger(Processor.class);

    final Processor.Settings settings;
    final Consumer<String, Decoded> consumer;
    final Producer<String, Envelope> producer;
    final Service<M> service;
    final Durability durability;
    final ServiceMetrics metrics;
    final Clock clock;
    final Processor.Listener<M> listener;
    final DeadLetters deadLetters;
    final CompletableFuture<Void> failure = new CompletableFuture<>();
    volatile boolean running = true;

    Context(Processor.Settings settings, Consumer<String, Decoded> consumer, Producer<String, Envelope> producer, Service<M> service,
            Durability durability, ServiceMetrics metrics, Clock clock, Processor.Listener<M> listener) {
        this.settings = settings;
        this.consumer = consumer;
        this.producer = producer;
        this.service = service;
        this.durability = durability;
        this.metrics = metrics;
        this.clock = clock;
        this.listener = listener;
        this.deadLetters = new DeadLetters(producer, settings.serviceId(), settings.runId(), clock);
    }

    String serviceId() {
        return settings.serviceId();
    }

    /** Crash-only: stop everything now, with one line that says why. */
    void stop(String reason, Throwable cause) {
        if (failure.isDone()) {
            return;
        }
        LOG.error("{}: stopping: {}", settings.serviceId(), reason);
        running = false;
        failure.completeExceptionally(new ServiceStoppedException(settings.serviceId() + " stopped: " + reason
            + " (started again with the same command, it resumes from its last checkpoint)", cause));
        consumer.wakeup();
    }
}
