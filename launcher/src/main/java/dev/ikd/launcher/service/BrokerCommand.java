package dev.ikd.launcher.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.embeddedkafka.Quorum;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.topics.Topics;
import dev.ikd.runlog.LogAccess;
import dev.ikd.wiring.Services;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd broker}: a standalone KRaft broker other machines can use, alone or as one node of a cluster. */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run a Kafka broker (KRaft, from Kafka's own jars) with ikd's topics: a single node, or one node of a "
        + "cluster of several (--node-id, --controller-quorum).")
public final class BrokerCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Option(names = "--port", defaultValue = "9092", description = "Client port (0 = a free one). Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--data-dir", required = true, description = "Log directory; formatted on first start, reused after.")
    Path dataDir;

    @Option(names = "--host", defaultValue = "127.0.0.1",
        description = "Address to listen on (0.0.0.0 for every interface). Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--advertised-host", description = "Host name clients are told to connect to (default: --host).")
    String advertisedHost;

    @Mixin
    TopicOptions topics;

    @Option(names = "--node-id", paramLabel = "ID", description = "This node's id in a cluster of several: one of the ids of "
        + "--controller-quorum.")
    Integer nodeId;

    @Option(names = "--controller-quorum", paramLabel = "ID@HOST:PORT,...", description = "Every node of the cluster with "
        + "the address of its controller listener, e.g. 1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093; each node listens on "
        + "its own entry's port. Every node gets the same list.")
    String controllerQuorum;

    @Option(names = "--cluster-id", description = "The cluster id every node formats its log with (default: derived from "
        + "--controller-quorum, so nodes given the same quorum agree).")
    String clusterId;

    @Option(names = "--secure", description = "TLS and SCRAM-SHA-512 logins only, and an authorizer that gives each role "
        + "(coordinator, teacher, student-0 ... student-N-1) exactly its rights. Each principal's client properties and the "
        + "CA (ca.pem) are written to DATA-DIR/credentials, readable by the owner only; a restart reuses them. Single node only.")
    boolean secure;

    @Option(names = "--students", defaultValue = "2", description = "With --secure: how many student principals to create. "
        + "Default: ${DEFAULT-VALUE}")
    int students;

    @Option(names = "--teachers", defaultValue = "1", description = "With --secure: how many teacher principals (several: "
        + "teacher-a, teacher-b, ..., each with its own login and rights). Default: ${DEFAULT-VALUE}")
    int teachers;

    @Override
    public Integer call() {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
        }
        if (teachers < 1 || teachers > 26) {
            throw new IllegalArgumentException("--teachers must be 1 to 26, got " + teachers);
        }
        if (students < 1) {
            throw new IllegalArgumentException("--students must be at least 1, got " + students);
        }
        if ((nodeId == null) != (controllerQuorum == null)) {
            throw new IllegalArgumentException("--node-id and --controller-quorum go together: a node of a cluster needs both");
        }
        if (clusterId != null && controllerQuorum == null) {
            throw new IllegalArgumentException("--cluster-id needs --controller-quorum: a single node makes its own");
        }
        Quorum quorum = controllerQuorum == null ? null : Quorum.parse(nodeId, controllerQuorum, clusterId);
        TopicSettings topicSettings = topics.settings(quorum == null ? 1 : quorum.internalReplicas());
        BrokerSettings settings = new BrokerSettings(dataDir, host, port, advertisedHost, Map.of());
        if (quorum != null) {
            settings = settings.inCluster(quorum);
        }
        EmbeddedKafka broker = EmbeddedKafka.start(secure ? settings.secure(RunKeys.identities(students, teachers)) : settings);
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "ikd-broker-shutdown"));
        if (secure) {
            List<String> teacherIds = new java.util.ArrayList<>();
            for (int k = 0; teachers > 1 && k < teachers; k++) {
                teacherIds.add(dev.ikd.proto.envelope.Envelopes.teacherId(k, teachers));
            }
            Services.secureTopics(LogAccess.reader(broker), topicSettings, Services.studentIds(students), teacherIds);
        } else {
            try (Admin admin = Admin.create(KafkaClients.adminConfig(KafkaAccess.plain(broker.bootstrapServers())))) {
                if (quorum != null) {
                    awaitBrokers(admin, quorum.voters().size(), Duration.ofMinutes(5));
                }
                Topics.ensure(admin, topicSettings, Duration.ofSeconds(60));
            }
        }
        System.out.printf("ikd broker listening on %s%s (data %s%s), started in %d ms; Ctrl-C stops it%n",
            broker.bootstrapServers(), secure ? " (SASL_SSL)" : "", dataDir.toAbsolutePath(),
            quorum == null ? "" : ", node " + quorum.nodeId() + " of " + quorum.voters().size(), broker.startTime().toMillis());
        if (secure) {
            System.out.printf("credentials: %s (one <principal>.properties per principal for --kafka-config, and ca.pem)%n",
                broker.security().credentialsDir().toAbsolutePath());
        }
        broker.awaitShutdown();
        return 0;
    }

    /** Waits until {@code count} brokers have joined: topics with that many replicas cannot be made before. */
    private static void awaitBrokers(Admin admin, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() < count) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the other nodes of the cluster did not join in " + timeout.toSeconds() + " s");
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the cluster's nodes", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot reach the cluster: " + e.getMessage(), e);
        }
    }
}
