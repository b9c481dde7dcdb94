package dev.ikd.runtime;

import java.util.HashMap;
import java.util.Map;

import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.Parts;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The client settings that decide a hop's latency ({@code ikd bench overhead} measures them).
 *
 * @param lingerMs       how long a producer waits to fill a batch (0: send at once)
 * @param acks           "all" (every in-sync replica has the record) or "1" (the leader has it)
 * @param fetchMaxWaitMs how long the broker holds a fetch that has no new records
 * @param maxMessageBytes a record larger than this is not decoded but dead-lettered as oversize
 * @param maxRecordBytes  an envelope larger than this goes out in parts that each fit (docs/architecture.md §4):
 *                        a topic's {@code max.message.bytes}, Kafka's default unless the cluster allows more
 */
public record KafkaTuning(int lingerMs, String acks, int fetchMaxWaitMs, int maxMessageBytes, int maxRecordBytes) {

    public static final int DEFAULT_LINGER_MS = 0;
    public static final String DEFAULT_ACKS = "all";
    public static final int DEFAULT_FETCH_MAX_WAIT_MS = 500;
    /** Kafka's default {@code max.message.bytes}: what any cluster's topics take, whoever made them. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1_048_588;

    public KafkaTuning(int lingerMs, String acks, int fetchMaxWaitMs) {
        this(lingerMs, acks, fetchMaxWaitMs, EnvelopeDeserializer.DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_RECORD_BYTES);
    }

    public KafkaTuning {
        if (maxRecordBytes <= 2 * Parts.OVERHEAD || maxRecordBytes > maxMessageBytes) {
            throw new IllegalArgumentException("the record size limit must be between " + (2 * Parts.OVERHEAD + 1)
                + " bytes (room for a part) and the message size limit, " + maxMessageBytes + ", got " + maxRecordBytes);
        }
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("the message size limit must be at least 1 byte, got " + maxMessageBytes);
        }
        if (lingerMs < 0 || fetchMaxWaitMs < 0) {
            throw new IllegalArgumentException("linger and fetch wait must be >= 0 ms, got " + lingerMs + " and " + fetchMaxWaitMs);
        }
        if (!"all".equals(acks) && !"1".equals(acks)) {
            throw new IllegalArgumentException("acks must be all or 1, got '" + acks + "'");
        }
    }

    /**
     * Lowest latency with nothing lost: send at once, wait for every replica, and let the broker hold
     * an empty fetch (a new record completes it at once). Short fetch waits measured slower: idle
     * consumers then poll every few ms and take the CPU the learning needs (BENCHMARKS.md, overhead).
     */
    public static KafkaTuning defaults() {
        return new KafkaTuning(DEFAULT_LINGER_MS, DEFAULT_ACKS, DEFAULT_FETCH_MAX_WAIT_MS);
    }

    public KafkaTuning withMaxMessageBytes(int bytes) {
        return new KafkaTuning(lingerMs, acks, fetchMaxWaitMs, bytes, Math.min(bytes, maxRecordBytes));
    }

    public KafkaTuning withMaxRecordBytes(int bytes) {
        return new KafkaTuning(lingerMs, acks, fetchMaxWaitMs, maxMessageBytes, bytes);
    }

    public Map<String, Object> producer(Map<String, Object> base) {
        Map<String, Object> c = new HashMap<>(base);
        c.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        c.put(ProducerConfig.ACKS_CONFIG, acks);
        // An idempotent producer needs acks=all; with acks=1 a retry may write a record twice.
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "all".equals(acks));
        return c;
    }

    public Map<String, Object> consumer(Map<String, Object> base) {
        Map<String, Object> c = new HashMap<>(base);
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, fetchMaxWaitMs);
        return c;
    }
}
