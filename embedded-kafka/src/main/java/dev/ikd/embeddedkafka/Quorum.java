package dev.ikd.embeddedkafka;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.kafka.common.Uuid;

/**
 * This node's place in a KRaft cluster of several nodes, each broker and controller at once.
 *
 * @param nodeId    this node's id, one of the voters
 * @param voters    every controller of the cluster: id, host and controller port
 * @param clusterId the id every node formats its log with; nodes with different ids refuse each other
 */
public record Quorum(int nodeId, List<Voter> voters, String clusterId) {

    /** One controller of the quorum. */
    public record Voter(int id, String host, int port) {
        @Override
        public String toString() {
            return id + "@" + host + ":" + port;
        }
    }

    private static final Pattern VOTER = Pattern.compile("(\\d{1,9})@([^:@,\\s]+):(\\d{1,5})");

    public Quorum {
        voters = List.copyOf(voters);
        if (voters.stream().noneMatch(v -> v.id() == nodeId)) {
            throw new IllegalArgumentException("node id " + nodeId + " is not one of the controller quorum's voters " + text(voters));
        }
        if (voters.stream().map(Voter::id).distinct().count() != voters.size()) {
            throw new IllegalArgumentException("the controller quorum names a node id twice: " + text(voters));
        }
    }

    /**
     * Parses {@code id@host:port,...} (Kafka's {@code controller.quorum.voters}). Without a cluster id
     * the id is derived from the voters, so every node given the same quorum formats alike.
     */
    public static Quorum parse(int nodeId, String voters, String clusterId) {
        List<Voter> list = new ArrayList<>();
        for (String part : voters.split(",")) {
            Matcher m = VOTER.matcher(part.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("controller quorum entry '" + part.strip() + "' is not id@host:port");
            }
            int port = Integer.parseInt(m.group(3));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("controller quorum entry '" + part.strip() + "': port must be 1 to 65535");
            }
            list.add(new Voter(Integer.parseInt(m.group(1)), m.group(2), port));
        }
        if (clusterId != null) {
            try {
                Uuid.fromString(clusterId);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cluster id '" + clusterId + "' is not a Kafka cluster id (22 base64 characters, "
                    + "as 'kafka-storage random-uuid' prints)");
            }
        }
        return new Quorum(nodeId, list, clusterId == null ? derivedClusterId(list) : clusterId);
    }

    /** A cluster id that is a function of the voters alone. */
    static String derivedClusterId(List<Voter> voters) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text(voters).getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.wrap(digest);
            return new Uuid(b.getLong(), b.getLong()).toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Voter self() {
        return voters.stream().filter(v -> v.id() == nodeId).findFirst().orElseThrow();
    }

    /** The quorum as Kafka's {@code controller.quorum.voters} value. */
    public String votersText() {
        return text(voters);
    }

    /** Replicas of Kafka's internal topics: three where there are three nodes. */
    public int internalReplicas() {
        return Math.min(3, voters.size());
    }

    private static String text(List<Voter> voters) {
        return voters.stream().map(Voter::toString).collect(Collectors.joining(","));
    }
}
