package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ikd.broker.BrokerSettings;
import dev.ikd.broker.EmbeddedKafka;
import dev.ikd.core.checkpoint.Checkpoint;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.StateDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Micro-batching over the wire keeps its stated tolerance: the same distributed run in mode frozen,
 * once served by the feature cache (bit-exact with the in-process run) and once by the teacher's
 * micro-batcher, ends with every student's parameters within 1e-5 of each other.
 */
class MicroBatchingTest {

    @TempDir
    Path dir;

    @Test
    void aMicroBatchedRunEndsWithinTheToleranceOfTheExactOne() {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), "--dataset", "digits", "--students", "4",
            "--steps", "20", "--teacher-mode", "frozen", "--pretrain-steps", "100");
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (NDManager manager = NDManager.newBaseManager();
             EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")))) {
            Params teacher = Teachers.pretrain(c, data, Network.build(c.teacher(), data), manager, false);
            for (long window : new long[] {-1, 5}) {
                try (ServiceHost host = new ServiceHost(6)) {
                    LocalRun.run(c, data, teacher, broker.bootstrapServers(), "mb" + window, host, manager, 300,
                        KafkaTuning.defaults(), dir.resolve("state"), window);
                }
            }
            double max = 0;
            for (int i = 0; i < c.students(); i++) {
                String id = Services.studentId(i);
                Params exact = Checkpoint.read(StateDir.of(dir.resolve("state"), "mb-1", id).latest(id), manager).group("theta");
                Params batched = Checkpoint.read(StateDir.of(dir.resolve("state"), "mb5", id).latest(id), manager).group("theta");
                for (String name : exact.names()) {
                    try (NDArray diff = exact.get(name).sub(batched.get(name)).abs()) {
                        max = Math.max(max, diff.max().getFloat());
                    }
                }
            }
            System.out.printf("micro-batching over the wire: max |dθ| %.2e over %d students%n", max, c.students());
            assertThat(max).isLessThanOrEqualTo(1e-5);
        }
    }
}
