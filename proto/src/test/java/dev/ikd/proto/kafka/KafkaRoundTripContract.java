package dev.ikd.proto.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.DeadLetters;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.SampleEnvelopes;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.DeadLetter;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The wire contract against a real broker: the embedded KRaft broker here, Testcontainers' Kafka
 * where Docker exists. Subclasses say where the broker is.
 */
abstract class KafkaRoundTripContract {

    protected abstract String bootstrapServers();

    protected void createTopics() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            Topics.ensure(admin, TopicSettings.defaults().withPartitions(2), Duration.ofSeconds(30));
        }
    }

    @Test
    void everyMessageKindRoundTripsThroughTheBrokerWithAnIdempotentProducer() throws Exception {
        createTopics();
        String runId = "run-" + UUID.randomUUID();
        List<Envelope> sent = SampleEnvelopes.oneOfEachKind(runId).stream()
            .filter(e -> e.getKind() != Kind.DEAD_LETTER) // a dead letter has no run id; covered below
            .toList();
        try (var producer = new KafkaProducer<String, Envelope>(KafkaClients.producerConfig(KafkaAccess.plain(bootstrapServers()), "rt"))) {
            for (Envelope e : sent) {
                producer.send(new ProducerRecord<>(Topics.topicOf(e), Topics.keyOf(e), e)).get();
            }
        }
        List<Envelope> received = new ArrayList<>();
        for (var record : consume(Topics.ALL, sent.size(), r -> r.value() instanceof Decoded.Valid v
            && v.envelope().getRunId().equals(runId))) {
            received.add(((Decoded.Valid) record.value()).envelope());
        }
        assertThat(received).containsExactlyInAnyOrderElementsOf(sent);
    }

    @Test
    void aMalformedRecordEndsOnTheDeadLetterTopicWithReasonAndOriginalOffset() throws Exception {
        createTopics();
        byte[] junk = ("not an envelope " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        RecordMetadata where;
        try (var raw = new KafkaProducer<String, byte[]>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
            where = raw.send(new ProducerRecord<>(Topics.FEEDBACK, "student-x", junk)).get();
        }
        var bad = consume(List.of(Topics.FEEDBACK), 1, r -> r.offset() == where.offset() && r.partition() == where.partition());
        List<Envelope> applied = new ArrayList<>();
        try (var producer = new KafkaProducer<String, Envelope>(KafkaClients.producerConfig(KafkaAccess.plain(bootstrapServers()), "dlq"))) {
            var deadLetters = new DeadLetters(producer, "test-consumer", SampleEnvelopes.CLOCK);
            assertThat(deadLetters.dispatch(bad.get(0), applied::add)).isFalse();
            producer.flush();
        }
        assertThat(applied).isEmpty();

        var letters = consume(List.of(Topics.DEAD_LETTER), 1, r -> r.value() instanceof Decoded.Valid v
            && v.envelope().getDeadLetter().getRawValue().toByteArray().length == junk.length
            && java.util.Arrays.equals(v.envelope().getDeadLetter().getRawValue().toByteArray(), junk));
        DeadLetter letter = ((Decoded.Valid) letters.get(0).value()).envelope().getDeadLetter();
        assertThat(letter.getTopic()).isEqualTo(Topics.FEEDBACK);
        assertThat(letter.getPartition()).isEqualTo(where.partition());
        assertThat(letter.getOffset()).isEqualTo(where.offset());
        assertThat(letter.getReason()).startsWith("not a protobuf Envelope");
        assertThat(letter.getRawKey().toStringUtf8()).isEqualTo("student-x");
        assertThat(letters.get(0).key()).isEqualTo("student-x");
    }

    @Test
    void anAbortedTransactionIsInvisibleToReadCommittedConsumers() throws Exception {
        createTopics();
        String runId = "tx-" + UUID.randomUUID();
        Envelope aborted = SampleEnvelopes.oneOfEachKind(runId).stream().filter(e -> e.getKind() == Kind.EXAM_RESULT).findFirst()
            .orElseThrow();
        Envelope committed = aborted.toBuilder().setStudentId("student-2")
            .setIdempotencyKey(runId + "/student-2/3/exam_result").build();
        Map<String, Object> config = new HashMap<>(KafkaClients.producerConfig(KafkaAccess.plain(bootstrapServers()), "tx"));
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + runId);
        try (var producer = new KafkaProducer<String, Envelope>(config)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(Topics.EXAM_RESULTS, aborted.getStudentId(), aborted));
            producer.flush(); // without it the aborted record never reaches the broker (docs/architecture.md §10)
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(Topics.EXAM_RESULTS, committed.getStudentId(), committed));
            producer.commitTransaction();
        }
        var seen = consume(List.of(Topics.EXAM_RESULTS), 1, r -> r.value() instanceof Decoded.Valid v
            && v.envelope().getRunId().equals(runId));
        assertThat(((Decoded.Valid) seen.get(0).value()).envelope()).isEqualTo(committed);
        // Nothing else of this run arrives, however long we look.
        var more = consumeFor(List.of(Topics.EXAM_RESULTS), Duration.ofSeconds(2), r -> r.value() instanceof Decoded.Valid v
            && v.envelope().getRunId().equals(runId));
        assertThat(more).hasSize(1);
    }

    /**
     * A step of soft targets over a 32K vocabulary, dense (2 sequences of 32 tokens: 8 MiB), on a topic
     * with Kafka's default record limit (max.message.bytes 1048588): one record is refused, its parts
     * each fit, and joined they are the envelope sent.
     */
    @Test
    void softTargetsOverA32KVocabularyTravelInPartsUnderKafkasDefaultRecordLimit() throws Exception {
        int limit = 1_048_588;
        String topic = "lm-parts-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 1, (short) 1)
                .configs(Map.of("max.message.bytes", Integer.toString(limit))))).all().get();
        }
        int positions = 2 * 32;
        int vocab = 32_768;
        java.nio.ByteBuffer probs = java.nio.ByteBuffer.allocate(positions * vocab * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.util.Random random = new java.util.Random(9);
        for (int i = 0; i < positions * vocab; i++) {
            probs.putFloat(random.nextFloat() / vocab);
        }
        String runId = "lm-" + UUID.randomUUID();
        Envelope whole = Envelopes.header(runId, "student-0", 5, Kind.SOFT_TARGETS, "teacher", SampleEnvelopes.CLOCK)
            .setSoftTargets(dev.ikd.proto.v1.SoftTargets.newBuilder().setTeacherVersion(5).setTemperature(2)
                .setTokens(dev.ikd.proto.v1.TokenTargets.newBuilder().setEncoding("dense").setPositions(positions).setVocab(vocab)
                    .setProbs(com.google.protobuf.ByteString.copyFrom(probs.array())))).build();
        List<Envelope> parts = dev.ikd.proto.envelope.Parts.split(whole, limit);
        assertThat(parts).hasSize(9);
        try (var producer = new KafkaProducer<String, Envelope>(KafkaClients.producerConfig(KafkaAccess.plain(bootstrapServers()), "lm"))) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(topic, "student-0", whole)).get())
                .hasCauseInstanceOf(org.apache.kafka.common.errors.RecordTooLargeException.class);
            for (Envelope p : parts) {
                producer.send(new ProducerRecord<>(topic, Topics.keyOf(p), p)).get();
            }
        }
        var back = consume(List.of(topic), parts.size(), r -> r.value() instanceof Decoded.Valid);
        var assembler = new dev.ikd.proto.envelope.Parts.Assembler(64L << 20);
        java.util.Optional<Envelope> joined = java.util.Optional.empty();
        for (var r : back) {
            assertThat(r.serializedValueSize()).isLessThanOrEqualTo(limit - dev.ikd.proto.envelope.Parts.OVERHEAD + 400);
            joined = assembler.accept(((Decoded.Valid) r.value()).envelope());
        }
        assertThat(joined).contains(whole);
    }

    /** Reads the topics from the start until {@code count} matching records arrived (or fails after 30 s). */
    protected List<ConsumerRecord<String, Decoded>> consume(List<String> topics, int count,
                                                            Predicate<ConsumerRecord<String, Decoded>> match) {
        List<ConsumerRecord<String, Decoded>> found = new ArrayList<>();
        try (var consumer = newConsumer(topics)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (found.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (match.test(r)) {
                        found.add(r);
                    }
                });
            }
        }
        assertThat(found).as("records matching on %s", topics).hasSize(count);
        return found;
    }

    protected List<ConsumerRecord<String, Decoded>> consumeFor(List<String> topics, Duration duration,
                                                               Predicate<ConsumerRecord<String, Decoded>> match) {
        List<ConsumerRecord<String, Decoded>> found = new ArrayList<>();
        try (var consumer = newConsumer(topics)) {
            long deadline = System.nanoTime() + duration.toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (match.test(r)) {
                        found.add(r);
                    }
                });
            }
        }
        return found;
    }

    private KafkaConsumer<String, Decoded> newConsumer(List<String> topics) {
        Map<String, Object> config = KafkaClients.consumerConfig(KafkaAccess.plain(bootstrapServers()), "test-" + UUID.randomUUID(), "test");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        var consumer = new KafkaConsumer<String, Decoded>(config);
        consumer.subscribe(topics);
        return consumer;
    }
}
