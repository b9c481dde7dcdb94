package dev.ikd.launcher;

import java.nio.file.Path;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;
import picocli.CommandLine;

/**
 * A run's services in this JVM on an embedded broker, for the tests that compare them with the
 * in-process reference: the run options, its data, its pretrained teacher, the broker and the host
 * the services run in.
 */
final class BrokerRun implements AutoCloseable {

    final TrainConfig config;
    final Dataset data;
    final NDManager manager;
    final EmbeddedKafka broker;
    final ServiceHost host;
    final Params teacher;

    private BrokerRun(TrainConfig config, Dataset data, NDManager manager, EmbeddedKafka broker, ServiceHost host) {
        this.config = config;
        this.data = data;
        this.manager = manager;
        this.broker = broker;
        this.host = host;
        this.teacher = Teachers.pretrain(config, data, Network.build(config.teacher(), data), manager, false);
    }

    /** The run {@code args} (run options) describe, its broker's log under {@code dir}. */
    static BrokerRun start(Path dir, String... args) {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), args);
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        NDManager manager = NDManager.newBaseManager();
        EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")));
        return new BrokerRun(c, data, manager, broker, new ServiceHost(4));
    }

    String bootstrap() {
        return broker.bootstrapServers();
    }

    /** The final parameter hashes of the in-process run of {@code c} from this teacher. */
    List<String> referenceHashes(TrainConfig c) {
        return ReferenceTrainer.run(c, data, teacher, manager, StepListener.NONE).students().stream()
            .map(TrainResult.StudentResult::paramSha256).toList();
    }

    /** The services of the run on the broker, wired by {@code wiring}, until every student reported. */
    LocalRun.Outcome run(Services.Wiring wiring) {
        return LocalRun.run(config, data, teacher, wiring, host, manager, 300);
    }

    static List<String> hashes(LocalRun.Outcome outcome) {
        return outcome.students().stream().map(TrainResult.StudentResult::paramSha256).toList();
    }

    @Override
    public void close() {
        host.close();
        broker.close();
        manager.close();
    }
}
