package dev.ikd.embeddedkafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) run in-process from
 * Kafka's own jars: no ZooKeeper, no Docker. It formats its data directory on first start and
 * keeps the log there, so a restart on the same directory finds every record again.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String PORTS_FILE = "ikd-broker.properties";
    private static final int NODE_ID = 1;

    private final BrokerSettings settings;
    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final Duration startTime;
    private final BrokerSecurity security;

    private EmbeddedKafka(BrokerSettings settings, KafkaRaftServer server, String bootstrapServers, Duration startTime,
                          BrokerSecurity security) {
        this.settings = settings;
        this.security = security;
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.startTime = startTime;
    }

    /** Starts a broker; returns once it accepts clients. */
    public static EmbeddedKafka start(BrokerSettings settings) {
        long t0 = System.nanoTime();
        Path dataDir = settings.dataDir().toAbsolutePath();
        Path logDir = dataDir.resolve("log");
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new BrokerException("cannot create broker data directory " + dataDir + ": " + e.getMessage(), e);
        }
        if (!settings.isSecure() && Files.isDirectory(dataDir.resolve("credentials"))) {
            // Started in plain text, a secure broker's log would be open to anyone who reaches the port.
            throw new BrokerException(dataDir + " holds a secure broker's log: start it secure again (--secure)");
        }
        Ports ports = Ports.choose(dataDir.resolve(PORTS_FILE), settings);
        BrokerSecurity security = settings.isSecure() ? BrokerSecurity.prepare(dataDir, settings.secureUsers(),
            new java.util.LinkedHashSet<>(java.util.List.of(settings.host(), settings.effectiveAdvertisedHost()))) : null;
        Map<String, String> props = brokerProperties(settings, logDir, ports, security);
        Path serverProperties = dataDir.resolve("server.properties");
        writeProperties(serverProperties, props, "written by ikd; the broker reads its settings from here");

        if (!Files.exists(logDir.resolve("meta.properties"))) {
            format(serverProperties, settings.quorum() == null ? Uuid.randomUuid().toString() : settings.quorum().clusterId(),
                security == null ? java.util.List.of() : security.formatArguments());
        }
        KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
        try {
            // In a cluster this waits for a quorum of controllers: start the other nodes too.
            server.startup();
        } catch (RuntimeException e) {
            server.shutdown();
            throw new BrokerException("broker failed to start on " + settings.host() + ":" + ports.client + ": " + e.getMessage(), e);
        }
        if (ports.client == 0) {
            // The client listener was bound to port 0: the broker chose a free one, which it now says.
            ports = new Ports(boundClientPort(server, security == null ? "PLAINTEXT" : "SASL_SSL"), ports.controller);
        }
        ports.save(dataDir.resolve(PORTS_FILE));
        String bootstrap = settings.effectiveAdvertisedHost() + ":" + ports.client;
        if (security != null) {
            try {
                security.registerUsers(bootstrap);
            } catch (RuntimeException e) {
                server.shutdown();
                throw e;
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        LOG.info("Kafka broker up at {}{} (data {}) in {} ms", bootstrap, security == null ? "" : " (TLS, SCRAM, ACLs)", dataDir,
            took.toMillis());
        return new EmbeddedKafka(settings, server, bootstrap, took, security);
    }

    /**
     * The port the broker's client listener bound. KafkaRaftServer keeps its broker private; the
     * broker answers {@code boundPort} for a listener, so the port a listener set to 0 got is read
     * there (Kafka 3.9, which ikd pins; its advertised listener carries the same port).
     */
    private static int boundClientPort(KafkaRaftServer server, String listener) {
        try {
            java.lang.reflect.Field f = KafkaRaftServer.class.getDeclaredField("broker");
            f.setAccessible(true);
            scala.Option<?> broker = (scala.Option<?>) f.get(server);
            return ((kafka.server.BrokerServer) broker.get()).boundPort(
                org.apache.kafka.common.network.ListenerName.normalised(listener));
        } catch (ReflectiveOperationException | RuntimeException e) {
            server.shutdown();
            throw new BrokerException("cannot tell which port the broker bound (give it --port): " + e, e);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Path dataDir() {
        return settings.dataDir();
    }

    /** The logins, certificates and client files of a secure broker; null for a plain-text one. */
    public BrokerSecurity security() {
        return security;
    }

    /** Wall time from {@link #start} to a broker that accepts clients, formatting included. */
    public Duration startTime() {
        return startTime;
    }

    /** Blocks until the broker is shut down (by {@link #close} from another thread). */
    public void awaitShutdown() {
        server.awaitShutdown();
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    static Map<String, String> brokerProperties(BrokerSettings settings, Path logDir, Ports ports, BrokerSecurity security) {
        String advertised = settings.effectiveAdvertisedHost();
        String client = security == null ? "PLAINTEXT" : "SASL_SSL";
        Map<String, String> p = new TreeMap<>();
        Quorum quorum = settings.quorum();
        String controllerHost = quorum == null ? "127.0.0.1" : settings.host();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(quorum == null ? NODE_ID : quorum.nodeId()));
        p.put("controller.quorum.voters", quorum == null ? NODE_ID + "@127.0.0.1:" + ports.controller : quorum.votersText());
        p.put("listeners", client + "://" + settings.host() + ":" + ports.client + ",CONTROLLER://" + controllerHost + ":"
            + ports.controller);
        p.put("advertised.listeners", client + "://" + advertised + ":" + ports.client);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", client);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        if (security != null) {
            p.putAll(security.brokerProperties(client, "CONTROLLER"));
        }
        p.put("log.dirs", logDir.toString());
        // One node: every internal topic has one replica; in a cluster, three where there are three
        // nodes, so that the consumer groups' offsets outlive a broker.
        String replicas = Integer.toString(quorum == null ? 1 : quorum.internalReplicas());
        p.put("offsets.topic.replication.factor", replicas);
        p.put("offsets.topic.num.partitions", "8");
        p.put("transaction.state.log.replication.factor", replicas);
        p.put("transaction.state.log.min.isr", quorum == null ? "1" : Integer.toString(Math.max(1, quorum.internalReplicas() - 1)));
        p.put("transaction.state.log.num.partitions", "8");
        p.put("default.replication.factor", replicas);
        p.put("min.insync.replicas", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // One node is broker and controller: after a crash its old registration is fenced once this
        // session lapses (Kafka's default 9 s), and only then does the restarted broker come up.
        p.put("broker.session.timeout.ms", "2000");
        p.put("broker.heartbeat.interval.ms", "500");
        // ikd creates its topics explicitly (dev.ikd.proto.topics.Topics); a typo must not make a new one.
        p.put("auto.create.topics.enable", "false");
        p.put("log.cleaner.backoff.ms", "250");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.putAll(settings.overrides());
        return p;
    }

    private static void format(Path serverProperties, String clusterId, java.util.List<String> extra) {
        var out = new ByteArrayOutputStream();
        int rc;
        var args = new java.util.ArrayList<>(java.util.List.of(
            // "=": a cluster id may start with '-' (1 in 64), which would read as an option of its own
            "format", "--cluster-id=" + clusterId, "-c", serverProperties.toString(), "--ignore-formatted"));
        args.addAll(extra);
        try (var print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(args.toArray(String[]::new), print);
        } catch (RuntimeException e) {
            throw new BrokerException("cannot format broker storage: " + e.getMessage(), e);
        }
        if (rc != 0) {
            throw new BrokerException("cannot format broker storage: " + out.toString(StandardCharsets.UTF_8).strip());
        }
    }

    /** Writes a properties file readable by its owner only: a secure broker's settings hold passwords. */
    static void writeProperties(Path file, Map<String, String> values, String comment) {
        var props = new Properties();
        props.putAll(values);
        var text = new java.io.StringWriter();
        try {
            props.store(text, comment);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BrokerSecurity.writeOwnerOnly(file, text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The client and controller ports; a restart reuses the last ones so clients find it again. */
    record Ports(int client, int controller) {

        /**
         * The ports to start with: the ones asked for; or, started again on its log, the last ones so
         * that clients find it again; or 0 for the client port, which the broker binds to a free port
         * itself and then says. The controller's port is named before the broker starts (the quorum
         * lists it), so it is chosen here.
         */
        static Ports choose(Path file, BrokerSettings settings) {
            Ports last = load(file);
            int client = settings.port() != 0 ? settings.port()
                : last != null && isFree(settings.host(), last.client) ? last.client
                : 0;
            if (settings.quorum() != null) {
                // A cluster's controllers find each other at the ports the quorum names.
                return new Ports(client, settings.quorum().self().port());
            }
            int controller = last != null && last.controller != last.client && isFree("127.0.0.1", last.controller)
                ? last.controller : freePort("127.0.0.1");
            return new Ports(client, controller);
        }

        static Ports load(Path file) {
            if (!Files.exists(file)) {
                return null;
            }
            var props = new Properties();
            try (var r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(r);
                return new Ports(Integer.parseInt(props.getProperty("client.port")),
                    Integer.parseInt(props.getProperty("controller.port")));
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        void save(Path file) {
            writeProperties(file, Map.of("client.port", Integer.toString(client), "controller.port", Integer.toString(controller)),
                "ports of the last start; reused when free");
        }

        private static boolean isFree(String host, int port) {
            try (var socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        private static int freePort(String host) {
            try (var socket = new ServerSocket(0, 50, InetAddress.getByName(host))) {
                return socket.getLocalPort();
            } catch (IOException e) {
                throw new BrokerException("no free port on " + host + ": " + e.getMessage(), e);
            }
        }
    }
}
