package dev.ikd.embeddedkafka;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to run one combined broker+controller KRaft node.
 *
 * @param dataDir        where the log lives; formatted on first start, reused after
 * @param host           address the client listener binds to (0.0.0.0 for other machines)
 * @param port           client port, 0 for a free one (remembered in the data dir for restarts)
 * @param advertisedHost host name clients are told to use; null means {@code host}
 *                       (or 127.0.0.1 when binding to every interface)
 * @param overrides      extra broker properties, applied last
 * @param secureUsers    null: a plain-text listener open to anyone; otherwise TLS, SCRAM logins for
 *                       these principals (and {@code admin}) and ACLs ({@link BrokerSecurity})
 * @param quorum         null: a single node, its own quorum; otherwise this node's place in a
 *                       cluster of several
 */
public record BrokerSettings(Path dataDir, String host, int port, String advertisedHost, Map<String, String> overrides,
                             List<String> secureUsers, Quorum quorum) {

    public BrokerSettings(Path dataDir, String host, int port, String advertisedHost, Map<String, String> overrides) {
        this(dataDir, host, port, advertisedHost, overrides, null, null);
    }

    public BrokerSettings {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        overrides = Map.copyOf(overrides == null ? Map.of() : overrides);
        secureUsers = secureUsers == null ? null : List.copyOf(secureUsers);
        if (secureUsers != null && quorum != null && quorum.voters().size() > 1) {
            throw new IllegalArgumentException("a secure broker is a single node: a cluster of several needs one CA for all "
                + "of them (use the cluster's own TLS setup and pass its client properties with --kafka-config)");
        }
    }

    /** These settings with TLS, SCRAM logins for {@code users} and an authorizer. */
    public BrokerSettings secure(List<String> users) {
        return new BrokerSettings(dataDir, host, port, advertisedHost, overrides, users, quorum);
    }

    /** These settings as one node of the cluster {@code q}. */
    public BrokerSettings inCluster(Quorum q) {
        return new BrokerSettings(dataDir, host, port, advertisedHost, overrides, secureUsers, q);
    }

    public boolean isSecure() {
        return secureUsers != null;
    }

    /** A loopback broker on a free port: what {@code ikd local} and the tests use. */
    public static BrokerSettings loopback(Path dataDir) {
        return new BrokerSettings(dataDir, "127.0.0.1", 0, null, Map.of());
    }

    String effectiveAdvertisedHost() {
        if (advertisedHost != null && !advertisedHost.isBlank()) {
            return advertisedHost;
        }
        return "0.0.0.0".equals(host) ? "127.0.0.1" : host;
    }
}
