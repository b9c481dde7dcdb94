package dev.ikd.runlog;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.ikd.embeddedkafka.BrokerSecurity;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.proto.kafka.KafkaAccess;
import picocli.CommandLine.Option;

/**
 * Where a command reads a run's log: a Kafka cluster ({@code --bootstrap}, {@code --kafka-config}),
 * or the data directory an {@code ikd local --data-dir} run left, whose broker is started for the
 * command (secure again, read as its admin, when the run was secure).
 */
public final class LogAccess {

    /** The two places a log can be: exactly one of them. */
    public static final class Source {
        @Option(names = "--bootstrap", description = "Kafka cluster that holds the run's log.")
        String bootstrap;

        @Option(names = "--data-dir", description = "Directory an 'ikd local --data-dir' run left: its broker is started here.")
        public Path dataDir;
    }

    /** A command's options for where the log is: the source, and a login with --bootstrap. */
    public static final class Options {
        @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        Source source;

        @Option(names = "--kafka-config", paramLabel = "FILE", description = "With --bootstrap: Kafka client properties to log in "
            + "with (a principal that may read every ikd topic, e.g. admin).")
        Path kafkaConfig;

        /** The data directory, if the log is an 'ikd local' run's; else null. */
        public Path dataDir() {
            return source.dataDir;
        }

        public <T> T open(Use<T> use) throws Exception {
            return LogAccess.open(source, kafkaConfig, use);
        }
    }

    /** What a command does with the log. */
    @FunctionalInterface
    public interface Use<T> {
        T with(KafkaAccess access) throws Exception;
    }

    private LogAccess() {
    }

    /** Who reads an embedded broker's whole log: its admin when the broker is secure, anyone when it is not. */
    public static KafkaAccess reader(EmbeddedKafka broker) {
        return broker.security() == null ? KafkaAccess.plain(broker.bootstrapServers())
            : KafkaAccess.withConfig(broker.bootstrapServers(), broker.security().clientConfig(BrokerSecurity.ADMIN));
    }

    static <T> T open(Source source, Path kafkaConfig, Use<T> use) throws Exception {
        if (source.dataDir != null) {
            Path kafka = source.dataDir.resolve("kafka");
            if (!Files.isDirectory(kafka)) {
                throw new IllegalArgumentException("--data-dir " + source.dataDir + " holds no broker log (no " + kafka + ")");
            }
            boolean secure = Files.isDirectory(kafka.resolve("credentials"));
            BrokerSettings settings = BrokerSettings.loopback(kafka);
            try (EmbeddedKafka broker = EmbeddedKafka.start(secure ? settings.secure(List.of()) : settings)) {
                return use.with(reader(broker));
            }
        }
        if (kafkaConfig != null && source.bootstrap == null) {
            throw new IllegalArgumentException("--kafka-config goes with --bootstrap");
        }
        return use.with(KafkaAccess.withConfig(source.bootstrap, kafkaConfig));
    }
}
