package dev.ikd.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.ikd.broker.BrokerSecurity;
import dev.ikd.broker.BrokerSettings;
import dev.ikd.broker.EmbeddedKafka;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ikd broker}: a standalone single-node KRaft broker other machines can use. */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run a single-node Kafka broker (KRaft, from Kafka's own jars) with ikd's topics.")
final class BrokerCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "9092", description = "Client port (0 = a free one). Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--data-dir", required = true, description = "Log directory; formatted on first start, reused after.")
    Path dataDir;

    @Option(names = "--host", defaultValue = "127.0.0.1",
        description = "Address to listen on (0.0.0.0 for every interface). Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--advertised-host", description = "Host name clients are told to connect to (default: --host).")
    String advertisedHost;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions per ikd topic. Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(names = "--secure", description = "TLS and SCRAM-SHA-512 logins only, and an authorizer that gives each role "
        + "(coordinator, teacher, student-0 ... student-N-1) exactly its rights. Each principal's client properties and the "
        + "CA (ca.pem) are written to DATA-DIR/credentials, readable by the owner only; a restart reuses them.")
    boolean secure;

    @Option(names = "--students", defaultValue = "2", description = "With --secure: how many student principals to create. "
        + "Default: ${DEFAULT-VALUE}")
    int students;

    @Override
    public Integer call() {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
        }
        if (students < 1) {
            throw new IllegalArgumentException("--students must be at least 1, got " + students);
        }
        BrokerSettings settings = new BrokerSettings(dataDir, host, port, advertisedHost, Map.of());
        EmbeddedKafka broker = EmbeddedKafka.start(secure ? settings.secure(RunKeys.identities(students)) : settings);
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "ikd-broker-shutdown"));
        if (secure) {
            Services.secureTopics(KafkaAccess.withConfig(broker.bootstrapServers(), broker.security().clientConfig(BrokerSecurity.ADMIN)),
                partitions, Services.studentIds(students));
        } else {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                Topics.ensure(admin, TopicSettings.defaults().withPartitions(partitions), Duration.ofSeconds(30));
            }
        }
        System.out.printf("ikd broker listening on %s%s (data %s), started in %d ms; Ctrl-C stops it%n",
            broker.bootstrapServers(), secure ? " (SASL_SSL)" : "", dataDir.toAbsolutePath(), broker.startTime().toMillis());
        if (secure) {
            System.out.printf("credentials: %s (one <principal>.properties per principal for --kafka-config, and ca.pem)%n",
                broker.security().credentialsDir().toAbsolutePath());
        }
        broker.awaitShutdown();
        return 0;
    }
}
