package dev.ikd.runtime;

import java.util.HashMap;
import java.util.Map;

import dev.ikd.proto.envelope.EnvelopeDeserializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The client settings that decide a hop's latency ({@code ikd bench overhead} measures them).
 *
 * @param lingerMs       how long a producer waits to fill a batch (0: send at once)
 * @param acks           "all" (every in-sync replica has the record) or "1" (the leader has it)
 * @param fetchMaxWaitMs how long the broker holds a fetch that has no new records
 * @param maxMessageBytes a record larger than this is not decoded but dead-lettered as oversize
 */
public record KafkaTuning(int lingerMs, String acks, int fetchMaxWaitMs, int maxMessageBytes) {

    public static final int DEFAULT_LINGER_MS = 0;
    public static final String DEFAULT_ACKS = "all";
    public static final int DEFAULT_FETCH_MAX_WAIT_MS = 500;

    public KafkaTuning(int lingerMs, String acks, int fetchMaxWaitMs) {
        this(lingerMs, acks, fetchMaxWaitMs, EnvelopeDeserializer.DEFAULT_MAX_MESSAGE_BYTES);
    }

    public KafkaTuning {
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
        return new KafkaTuning(lingerMs, acks, fetchMaxWaitMs, bytes);
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
