package dev.ikd.launcher.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd topics create|describe}: ikd's topics on any Kafka cluster. */
@Command(name = "topics", mixinStandardHelpOptions = true, description = "Create or describe ikd's topics on any Kafka cluster.",
    subcommands = {TopicsCommand.Create.class, TopicsCommand.Describe.class})
public final class TopicsCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (create, describe)");
    }

    /** Where the cluster is and how to log in to it. */
    static final class Cluster {
        @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers, host:port[,host:port...].")
        String bootstrap;

        @Option(names = "--kafka-config", paramLabel = "FILE", description = "Kafka client properties to connect with "
            + "(security.protocol, sasl.*, ssl.*); the login needs the right to create and describe topics.")
        Path kafkaConfig;

        Admin admin() {
            return Admin.create(KafkaClients.adminConfig(KafkaAccess.withConfig(bootstrap, kafkaConfig)));
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
        description = "Create ikd's topics that are missing (those that exist are left as they are), then describe them.")
    static final class Create implements Callable<Integer> {
        @Mixin
        Cluster cluster;

        @Mixin
        ConfigFile.Flag config;

        @Mixin
        TopicOptions topics;

        @Override
        public Integer call() throws Exception {
            var settings = topics.settings();
            try (Admin admin = cluster.admin()) {
                Topics.ensure(admin, settings, Duration.ofSeconds(60));
                System.out.print(describe(admin));
            }
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
        description = "Each ikd topic's partitions, replicas, min.insync.replicas and retention, and each partition's leader and "
            + "in-sync replicas.")
    static final class Describe implements Callable<Integer> {
        @Mixin
        Cluster cluster;

        @Mixin
        ConfigFile.Flag config;

        @Option(names = "--json", description = "Print one JSON object on stdout: each topic's settings and partitions (null: missing).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = cluster.admin()) {
                System.out.print(json ? describeJson(admin) + "\n" : describe(admin));
            }
            return 0;
        }
    }

    /** Each of ikd's topics (null where missing): partitions, replicas, settings, and each partition's leader and replicas. */
    public static JsonObject describeJson(Admin admin) throws InterruptedException, ExecutionException, TimeoutException {
        var out = new JsonObject();
        var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        var present = Topics.ALL.stream().filter(existing::contains).toList();
        Map<String, TopicDescription> described = admin.describeTopics(present).allTopicNames().get(30, TimeUnit.SECONDS);
        Map<ConfigResource, Config> configs = admin.describeConfigs(present.stream()
            .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all().get(30, TimeUnit.SECONDS);
        for (String topic : Topics.ALL) {
            TopicDescription d = described.get(topic);
            if (d == null) {
                out.add(topic, JsonNull.INSTANCE);
                continue;
            }
            Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic));
            var t = new JsonObject();
            t.addProperty("partitions", d.partitions().size());
            t.addProperty("replicas", d.partitions().get(0).replicas().size());
            for (String key : new String[] {TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, TopicConfig.RETENTION_MS_CONFIG,
                TopicConfig.CLEANUP_POLICY_CONFIG}) {
                t.addProperty(key, c.get(key).value());
            }
            var parts = new JsonArray();
            d.partitions().stream().sorted(java.util.Comparator.comparingInt(p -> p.partition())).forEach(p -> {
                var o = new JsonObject();
                o.addProperty("partition", p.partition());
                o.addProperty("leader", p.leader() == null || p.leader().isEmpty() ? null : p.leader().idString());
                o.addProperty("replicas", ids(p.replicas()));
                o.addProperty("in_sync", ids(p.isr()));
                parts.add(o);
            });
            t.add("partition_leaders", parts);
            out.add(topic, t);
        }
        return out;
    }

    /** One line per topic, one indented line per partition; a missing topic says so. */
    public static String describe(Admin admin) throws InterruptedException, ExecutionException, TimeoutException {
        StringBuilder out = new StringBuilder();
        describeJson(admin).entrySet().forEach(e -> {
            if (e.getValue().isJsonNull()) {
                out.append(e.getKey()).append(": missing\n");
                return;
            }
            var t = e.getValue().getAsJsonObject();
            out.append(String.format("%s: partitions %d, replicas %d, min.insync.replicas %s, retention.ms %s, cleanup.policy %s%n",
                e.getKey(), t.get("partitions").getAsInt(), t.get("replicas").getAsInt(),
                t.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).getAsString(), t.get(TopicConfig.RETENTION_MS_CONFIG).getAsString(),
                t.get(TopicConfig.CLEANUP_POLICY_CONFIG).getAsString()));
            for (var p : t.getAsJsonArray("partition_leaders")) {
                var o = p.getAsJsonObject();
                out.append(String.format("  partition %d: leader %s, replicas %s, in sync %s%n", o.get("partition").getAsInt(),
                    o.get("leader").isJsonNull() ? "none" : o.get("leader").getAsString(), o.get("replicas").getAsString(),
                    o.get("in_sync").getAsString()));
            }
        });
        return out.toString();
    }

    private static String ids(java.util.List<Node> nodes) {
        return nodes.stream().map(Node::idString).collect(Collectors.joining(",", "[", "]"));
    }
}
