package dev.ikd.proto.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How one principal reaches a Kafka cluster: the bootstrap servers and the client properties it
 * connects with ({@code security.protocol}, {@code sasl.*}, {@code ssl.*}), from a
 * {@code --kafka-config} file. Those properties may hold a password, so {@link #toString} names
 * only the servers and the protocol.
 */
public final class KafkaAccess {

    /** Settings ikd decides itself: a record's format, who commits, what a consumer sees. */
    private static final Set<String> RESERVED = Set.of(
        CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
        ConsumerConfig.GROUP_ID_CONFIG, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ProducerConfig.TRANSACTIONAL_ID_CONFIG);

    /**
     * Settings the services take as options of their own, applied after this file: set here they
     * would be silently overridden, so the file may not name them.
     */
    private static final Map<String, String> AS_OPTIONS = Map.of(ProducerConfig.LINGER_MS_CONFIG, "--kafka-linger-ms",
        ProducerConfig.ACKS_CONFIG, "--kafka-acks", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "--kafka-fetch-max-wait-ms");

    private final String bootstrapServers;
    private final Map<String, String> client;

    private KafkaAccess(String bootstrapServers, Map<String, String> client) {
        this.bootstrapServers = bootstrapServers;
        this.client = Map.copyOf(client);
    }

    /** A cluster reached in plain text, with no credentials. */
    public static KafkaAccess plain(String bootstrapServers) {
        return new KafkaAccess(bootstrapServers, Map.of());
    }

    /** {@code bootstrapServers} with the client properties of {@code file}, checked here so a bad one stops a service at once. */
    public static KafkaAccess withConfig(String bootstrapServers, Path file) {
        if (file == null) {
            return plain(bootstrapServers);
        }
        var props = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--kafka-config " + file + ": cannot read it (" + why(e) + ")");
        }
        Map<String, String> client = new TreeMap<>();
        for (String name : props.stringPropertyNames()) {
            if (RESERVED.contains(name)) {
                throw new IllegalArgumentException("--kafka-config " + file + ": " + name + " is set by ikd and cannot be overridden");
            }
            if (AS_OPTIONS.containsKey(name)) {
                throw new IllegalArgumentException("--kafka-config " + file + ": set " + name + " with " + AS_OPTIONS.get(name)
                    + " (or its key in --config) instead");
            }
            client.put(name, props.getProperty(name).strip());
        }
        return new KafkaAccess(bootstrapServers, client);
    }

    /** What went wrong reading a file, in words for a one-line error. */
    public static String why(Exception e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file"
            : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
            : e instanceof IllegalArgumentException ? "not a properties file" : "unreadable";
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The client properties from the file (may hold secrets: never log them). */
    public Map<String, String> clientProperties() {
        return client;
    }

    /** The security protocol the clients use: PLAINTEXT unless the config says otherwise. */
    public String securityProtocol() {
        return client.getOrDefault(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
    }

    /** {@code base} with the servers and this access's client properties (which win over ikd's defaults). */
    public Map<String, Object> apply(Map<String, Object> base) {
        Map<String, Object> c = new HashMap<>(base);
        c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.putAll(client);
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KafkaAccess a && a.bootstrapServers.equals(bootstrapServers) && a.client.equals(client);
    }

    @Override
    public int hashCode() {
        return bootstrapServers.hashCode() * 31 + client.hashCode();
    }

    @Override
    public String toString() {
        return bootstrapServers + " (" + securityProtocol() + ")";
    }
}
