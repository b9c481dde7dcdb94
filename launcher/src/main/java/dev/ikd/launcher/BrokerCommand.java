package dev.ikd.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.ikd.broker.BrokerSettings;
import dev.ikd.broker.EmbeddedKafka;
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

    @Override
    public Integer call() {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
        }
        TopicSettings topics = TopicSettings.defaults().withPartitions(partitions);
        EmbeddedKafka broker = EmbeddedKafka.start(new BrokerSettings(dataDir, host, port, advertisedHost, Map.of()));
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "ikd-broker-shutdown"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            Topics.ensure(admin, topics, Duration.ofSeconds(30));
        }
        System.out.printf("ikd broker listening on %s (data %s), started in %d ms; Ctrl-C stops it%n",
            broker.bootstrapServers(), dataDir.toAbsolutePath(), broker.startTime().toMillis());
        broker.awaitShutdown();
        return 0;
    }
}
