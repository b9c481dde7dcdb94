package dev.ikd.runtime;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;

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
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
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
 *
 * <p>The group's committed offset of a partition only ever passes records that are done: handled
 * (and so in the service's checkpoint), skipped or dead-lettered. A restarted service re-reads from
 * there; what its checkpoints already cover it skips ({@link Covered}).
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
        Future<List<Envelope>> handle(Envelope envelope, Position at);
    }

    /** Told which partitions ({@code topic/partition}) this consumer gained or lost in a rebalance of its group. */
    public interface Rebalance {
        void assigned(Set<String> partitions);

        void revoked(Set<String> partitions);
    }

    /** How often the offsets of done records are committed to the consumer group. */
    static final long COMMIT_INTERVAL_MS = 500;

    private final Context context;
    private final Settings settings;
    private final ServiceMetrics metrics;
    private final Producer<String, Envelope> producer;
    private final DeadLetters deadLetters;
    private final Clock clock;
    private KafkaConsumer<String, Decoded> consumer;
    private KafkaClientMetrics consumerMetrics;
    private final Map<TopicPartition, TreeSet<Long>> inFlight = new HashMap<>();
    private final Map<TopicPartition, Long> nextOffset = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private long commitTimer = -1;
    private Rebalance rebalance;
    private volatile boolean closing;

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
    public Future<Void> subscribe(Vertx vertx, Set<String> topics, BiFunction<Envelope, Position, String> skip, Handler handler) {
        open(vertx, skip, handler, true);
        return consumer.subscribe(topics);
    }

    /**
     * Reads only the partition that records keyed {@code key} go to, in each of {@code topics}: a
     * student reads its own records (and the run's end, which goes to every partition), not the
     * whole topic. Offsets are still committed for this service's group.
     */
    public Future<Void> subscribeToKey(Vertx vertx, Set<String> topics, String key, BiFunction<Envelope, Position, String> skip,
                                       Handler handler) {
        return vertx.executeBlocking(() -> {
            Set<TopicPartition> own = new java.util.HashSet<>();
            for (String topic : topics) {
                own.add(new TopicPartition(topic, partitionOf(topic, key)));
            }
            return own;
        }).compose(own -> {
            open(vertx, skip, handler, false);
            return consumer.assign(own);
        });
    }

    /** The consumer: in a group that assigns partitions, or alone on partitions it is given. */
    private void open(Vertx vertx, BiFunction<Envelope, Position, String> skip, Handler handler, boolean grouped) {
        Map<String, Object> config = settings.tuning().consumer(
            KafkaClients.consumerConfig(settings.bootstrapServers(), settings.groupId(), settings.serviceId()));
        if (grouped) {
            // Static membership: a service started again after a crash takes its old place in the group
            // at once, instead of waiting out the dead member's session before partitions are assigned.
            config.put(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, settings.serviceId());
        }
        // A replica that died for good hands its partitions to the others after this long (Kafka's default is 45 s).
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        // Range assignment gives a replica the same partition numbers of every topic it reads: a
        // student's control and feedback records (same key, same partition number) reach one replica.
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
            org.apache.kafka.clients.consumer.RangeAssignor.class.getName());
        var plainConsumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(config,
            new StringDeserializer(), new EnvelopeDeserializer(settings.tuning().maxMessageBytes()));
        // Consumer lag and fetch latency, read from the client's own metrics.
        consumerMetrics = new KafkaClientMetrics(plainConsumer, List.of(Tag.of("service", metrics.service())));
        consumerMetrics.bindTo(metrics.registry());
        consumer = KafkaConsumer.create(vertx, plainConsumer);
        consumer.exceptionHandler(e -> LOG.error("{}: Kafka consumer failed: {}", settings.serviceId(), e.getMessage(), e));
        consumer.handler(r -> receive(r.record(), skip, handler));
        consumer.partitionsAssignedHandler(assigned -> {
            if (rebalance != null) {
                rebalance.assigned(names(assigned));
            }
        });
        consumer.partitionsRevokedHandler(revoked -> {
            if (closing) {
                return; // the consumer revokes everything as it closes; close() has committed already
            }
            commitDone();
            for (TopicPartition tp : revoked) {
                nextOffset.remove(tp);
                inFlight.remove(tp);
                committed.remove(tp);
            }
            if (rebalance != null) {
                rebalance.revoked(names(revoked));
            }
        });
        commitTimer = vertx.setPeriodic(COMMIT_INTERVAL_MS, id -> commitDone());
    }

    /** Listens to this consumer's rebalances; set before {@link #subscribe}. */
    public void onRebalance(Rebalance listener) {
        this.rebalance = listener;
    }

    private static Set<String> names(Set<TopicPartition> partitions) {
        Set<String> out = new java.util.TreeSet<>();
        partitions.forEach(tp -> out.add(tp.getTopic() + "/" + tp.getPartition()));
        return out;
    }

    /** The partition a record with this key goes to on {@code topic}: Kafka's own murmur2 of the key. */
    public int partitionOf(String topic, String key) {
        int partitions = producer.partitionsFor(topic).size();
        return org.apache.kafka.common.utils.Utils.toPositive(
            org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
    }

    private void receive(ConsumerRecord<String, Decoded> record, BiFunction<Envelope, Position, String> skip, Handler handler) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        inFlight.computeIfAbsent(tp, t -> new TreeSet<>()).add(record.offset());
        nextOffset.put(tp, record.offset() + 1);
        Runnable done = () -> {
            TreeSet<Long> open = inFlight.get(tp);
            if (open != null) {
                open.remove(record.offset());
            }
        };
        Decoded decoded = record.value();
        if (decoded == null || decoded instanceof Decoded.Malformed) {
            metrics.received(record.topic(), Math.max(0, record.serializedValueSize()), -1);
            String reason = decoded == null ? "record has no value" : ((Decoded.Malformed) decoded).reason();
            deadLetter(record, decoded == null ? null : ((Decoded.Malformed) decoded).raw(), reason).onComplete(v -> done.run());
            return;
        }
        Envelope e = ((Decoded.Valid) decoded).envelope();
        if (!settings.runId().equals(e.getRunId())) {
            metrics.received(record.topic(), record.serializedValueSize(), -1);
            metrics.skipped(record.topic(), "other_run");
            done.run();
            return;
        }
        long hop = e.getEventTimeUs() > 0 ? Envelopes.micros(clock) - e.getEventTimeUs() : -1;
        metrics.received(record.topic(), record.serializedValueSize(), e, hop);
        Position at = new Position(record.topic(), record.partition(), record.offset());
        String reason = skip.apply(e, at);
        if (reason != null) {
            metrics.skipped(record.topic(), reason);
            done.run();
            return;
        }
        Future<List<Envelope>> answer;
        try {
            answer = handler.handle(e, at);
        } catch (RuntimeException ex) {
            answer = Future.failedFuture(ex);
        }
        answer.compose(out -> sendAll(out), cause -> {
            if (cause instanceof RejectedMessageException || cause instanceof MalformedMessageException) {
                return deadLetter(record, Envelopes.encode(e), cause.getMessage());
            }
            LOG.error("{}: handling {} failed: {}", settings.serviceId(), e.getIdempotencyKey(), cause.toString(), cause);
            return deadLetter(record, Envelopes.encode(e), "handler failed: " + cause);
        }).onComplete(v -> done.run());
    }

    private Future<Void> deadLetter(ConsumerRecord<String, ?> record, byte[] raw, String reason) {
        LOG.warn("{}: dead-lettering {}/{}@{}: {}", settings.serviceId(), record.topic(), record.partition(), record.offset(), reason);
        metrics.deadLettered(record.topic());
        Promise<Void> sent = Promise.promise();
        producer.send(deadLetters.letter(record, raw, reason), (meta, error) -> context.runOnContext(v -> {
            if (error != null) {
                LOG.error("{}: cannot dead-letter {}/{}@{}: {}", settings.serviceId(), record.topic(), record.partition(),
                    record.offset(), error.toString());
                sent.fail(error);
            } else {
                sent.complete();
            }
        }));
        return sent.future();
    }

    /** Commits, per partition, the offset below which every record is done. */
    private Future<Void> commitDone() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        nextOffset.forEach((tp, next) -> {
            TreeSet<Long> open = inFlight.get(tp);
            long safe = open == null || open.isEmpty() ? next : open.first();
            if (!Long.valueOf(safe).equals(committed.get(tp))) {
                offsets.put(tp, new OffsetAndMetadata(safe, ""));
            }
        });
        if (offsets.isEmpty() || consumer == null) {
            return Future.succeededFuture();
        }
        return consumer.commit(offsets).onSuccess(ok -> offsets.forEach((tp, o) -> committed.put(tp, o.getOffset())))
            .onFailure(e -> LOG.warn("{}: cannot commit offsets {}: {}", settings.serviceId(), offsets, e.toString()))
            .<Void>mapEmpty().recover(e -> Future.succeededFuture());
    }

    /**
     * Sends one envelope to the topic of its kind; the future completes on this service's context.
     * The end of a run (Finish with no student) goes to every partition, so that every replica of a
     * service hears it, whichever partitions it reads.
     */
    public Future<Void> send(Envelope envelope) {
        String topic = Topics.topicOf(envelope.getKind());
        if (envelope.getKind() == dev.ikd.proto.v1.Kind.FINISH && envelope.getStudentId().isEmpty()) {
            List<Future<Void>> all = new ArrayList<>();
            for (var p : producer.partitionsFor(topic)) {
                all.add(send(new ProducerRecord<>(topic, p.partition(), "", envelope), envelope));
            }
            return Future.all(all).mapEmpty();
        }
        return send(new ProducerRecord<>(topic, Topics.keyOf(envelope), envelope), envelope);
    }

    private Future<Void> send(ProducerRecord<String, Envelope> record, Envelope envelope) {
        String topic = record.topic();
        Promise<Void> sent = Promise.promise();
        producer.send(record, (meta, error) -> context.runOnContext(v -> {
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
        if (commitTimer >= 0) {
            vertx.cancelTimer(commitTimer);
        }
        Future<Void> stopped = consumer == null ? Future.succeededFuture() : commitDone().compose(v -> {
            closing = true;
            return consumer.close();
        });
        return stopped.transform(ignored -> vertx.executeBlocking(() -> {
            producer.close(Duration.ofSeconds(10));
            return null;
        }));
    }
}
