package dev.ikd.runtime;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.envelope.DeadLetters;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One service's wiring to Kafka (STYLE: handlers are small and take decoded messages; the wiring is
 * here, once). Records from the subscribed topics are decoded; a malformed one, or one the handler
 * refuses with {@link RejectedMessageException}, goes to {@code ikd.dead-letter} with its reason; a
 * valid one that belongs to another run or student is skipped and counted. Whatever the handler
 * answers is sent, in order, to the topic of its kind, keyed by student.
 */
public final class EnvelopeBus {

    private static final Logger LOG = LoggerFactory.getLogger(EnvelopeBus.class);

    /**
     * @param serviceId producer id on every envelope this service writes, and the Kafka client id
     * @param groupId   consumer group: replicas of one service share it
     */
    public record Settings(String bootstrapServers, String runId, String serviceId, String groupId, KafkaTuning tuning) {
    }

    /** Handles one decoded envelope; the future's value is what to send in answer (possibly nothing). */
    @FunctionalInterface
    public interface Handler {
        Future<List<Envelope>> handle(Envelope envelope);
    }

    private final Context context;
    private final Settings settings;
    private final ServiceMetrics metrics;
    private final Producer<String, Envelope> producer;
    private final DeadLetters deadLetters;
    private final Clock clock;
    private KafkaConsumer<String, Decoded> consumer;
    private KafkaClientMetrics consumerMetrics;

    private EnvelopeBus(Vertx vertx, Settings settings, ServiceMetrics metrics, Clock clock) {
        this.context = vertx.getOrCreateContext();
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
        this.producer = new KafkaProducer<>(
            settings.tuning().producer(KafkaClients.producerConfig(settings.bootstrapServers(), settings.serviceId())),
            new StringSerializer(), new EnvelopeSerializer());
        this.deadLetters = new DeadLetters(producer, settings.serviceId(), clock);
    }

    /** A bus that only sends (nothing subscribed yet). */
    public static EnvelopeBus sender(Vertx vertx, Settings settings, ServiceMetrics metrics) {
        return new EnvelopeBus(vertx, settings, metrics, Clock.systemUTC());
    }

    /**
     * Subscribes to {@code topics}; each record of this run that {@code skip} does not set aside
     * (it names the reason, or returns null) goes to {@code handler}.
     */
    public Future<Void> subscribe(Vertx vertx, Set<String> topics, Function<Envelope, String> skip, Handler handler) {
        var plainConsumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            settings.tuning().consumer(KafkaClients.consumerConfig(settings.bootstrapServers(), settings.groupId(), settings.serviceId())),
            new StringDeserializer(), new EnvelopeDeserializer());
        // Consumer lag and fetch latency, read from the client's own metrics.
        consumerMetrics = new KafkaClientMetrics(plainConsumer, List.of(Tag.of("service", metrics.service())));
        consumerMetrics.bindTo(metrics.registry());
        consumer = KafkaConsumer.create(vertx, plainConsumer);
        consumer.exceptionHandler(e -> LOG.error("{}: Kafka consumer failed: {}", settings.serviceId(), e.getMessage(), e));
        consumer.handler(r -> receive(r.record(), skip, handler));
        return consumer.subscribe(topics);
    }

    private void receive(ConsumerRecord<String, Decoded> record, Function<Envelope, String> skip, Handler handler) {
        Decoded decoded = record.value();
        if (decoded == null || decoded instanceof Decoded.Malformed) {
            metrics.received(record.topic(), Math.max(0, record.serializedValueSize()), -1);
            String reason = decoded == null ? "record has no value" : ((Decoded.Malformed) decoded).reason();
            deadLetter(record, decoded == null ? null : ((Decoded.Malformed) decoded).raw(), reason);
            return;
        }
        Envelope e = ((Decoded.Valid) decoded).envelope();
        if (!settings.runId().equals(e.getRunId())) {
            metrics.received(record.topic(), record.serializedValueSize(), -1);
            metrics.skipped(record.topic(), "other_run");
            return;
        }
        long hop = e.getEventTimeUs() > 0 ? Envelopes.micros(clock) - e.getEventTimeUs() : -1;
        metrics.received(record.topic(), record.serializedValueSize(), e, hop);
        String reason = skip.apply(e);
        if (reason != null) {
            metrics.skipped(record.topic(), reason);
            return;
        }
        Future<List<Envelope>> answer;
        try {
            answer = handler.handle(e);
        } catch (RuntimeException ex) {
            answer = Future.failedFuture(ex);
        }
        answer.onComplete(done -> {
            if (done.succeeded()) {
                done.result().forEach(this::send);
                return;
            }
            Throwable cause = done.cause();
            if (cause instanceof RejectedMessageException || cause instanceof MalformedMessageException) {
                deadLetter(record, Envelopes.encode(e), cause.getMessage());
            } else {
                LOG.error("{}: handling {} failed: {}", settings.serviceId(), e.getIdempotencyKey(), cause.toString(), cause);
                deadLetter(record, Envelopes.encode(e), "handler failed: " + cause);
            }
        });
    }

    private void deadLetter(ConsumerRecord<String, ?> record, byte[] raw, String reason) {
        LOG.warn("{}: dead-lettering {}/{}@{}: {}", settings.serviceId(), record.topic(), record.partition(), record.offset(), reason);
        metrics.deadLettered(record.topic());
        deadLetters.publish(record, raw, reason);
    }

    /** Sends one envelope to the topic of its kind; the future completes on this service's context. */
    public Future<Void> send(Envelope envelope) {
        String topic = Topics.topicOf(envelope.getKind());
        Promise<Void> sent = Promise.promise();
        producer.send(new ProducerRecord<>(topic, Topics.keyOf(envelope), envelope), (meta, error) -> context.runOnContext(v -> {
            if (error != null) {
                LOG.error("{}: cannot send {} to {}: {}", settings.serviceId(), envelope.getIdempotencyKey(), topic, error.toString());
                sent.fail(error);
            } else {
                metrics.sent(topic, meta.serializedValueSize());
                sent.complete();
            }
        }));
        return sent.future();
    }

    public Future<Void> sendAll(List<Envelope> envelopes) {
        List<Future<Void>> all = new ArrayList<>();
        envelopes.forEach(e -> all.add(send(e)));
        return Future.all(all).mapEmpty();
    }

    public String serviceId() {
        return settings.serviceId();
    }

    public String runId() {
        return settings.runId();
    }

    /** Stops reading, flushes what was sent and closes both clients. */
    public Future<Void> close(Vertx vertx) {
        if (consumerMetrics != null) {
            consumerMetrics.close();
        }
        Future<Void> stopped = consumer == null ? Future.succeededFuture() : consumer.close();
        return stopped.transform(ignored -> vertx.executeBlocking(() -> {
            producer.close(Duration.ofSeconds(10));
            return null;
        }));
    }
}
