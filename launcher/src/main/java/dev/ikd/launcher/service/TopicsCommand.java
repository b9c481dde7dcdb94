package dev.ikd.launcher.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

import dev.ikd.launcher.ConfigFile;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.wiring.TopicReport;
import org.apache.kafka.clients.admin.Admin;
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
                System.out.print(TopicReport.text(admin));
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
                System.out.print(json ? TopicReport.json(admin) + "\n" : TopicReport.text(admin));
            }
            return 0;
        }
    }
}
