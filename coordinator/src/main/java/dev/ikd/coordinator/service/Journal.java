package dev.ikd.coordinator.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads one run's coordinator journal from the beginning to its current end, in the order it was written. */
public final class Journal {

    private Journal() {
    }

    public static List<JournalEntry> read(String bootstrap, String runId, String clientId) {
        Map<String, Object> config = KafkaClients.consumerConfig(bootstrap, "ikd-journal-" + runId, clientId + "-journal");
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (var consumer = new KafkaConsumer<>(config, new StringDeserializer(), new EnvelopeDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.COORDINATOR_JOURNAL, Duration.ofSeconds(60)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(60));
            List<JournalEntry> entries = new ArrayList<>();
            while (partitions.stream().anyMatch(p -> consumer.position(p, Duration.ofSeconds(60)) < end.get(p))) {
                for (ConsumerRecord<String, Decoded> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() instanceof Decoded.Valid v && v.envelope().getKind() == Kind.JOURNAL_ENTRY
                        && runId.equals(v.envelope().getRunId())) {
                        entries.add(v.envelope().getJournalEntry());
                    }
                }
            }
            return entries;
        }
    }
}
