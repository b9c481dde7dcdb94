package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.StepListener;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.state.StudentState;
import dev.ikd.runtime.checkpoint.CheckpointFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;

/**
 * Micro-batching over the wire keeps its stated tolerance: the same distributed run in mode frozen,
 * once served by the feature cache (bit-exact with the in-process run) and once by the teacher's
 * micro-batcher, ends with every student's parameters within 1e-5 of each other.
 */
class MicroBatchingTest {

    @TempDir
    Path dir;

    @Test
    void aMicroBatchedRunEndsWithinTheToleranceOfTheExactOne() throws Exception {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), "--dataset", "digits", "--students", "4",
            "--steps", "20", "--teacher-mode", "frozen", "--pretrain-steps", "100");
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (NDManager manager = NDManager.newBaseManager();
             EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")))) {
            Params teacher = Teachers.pretrain(c, data, Network.build(c.teacher(), data), manager, false);
            for (long window : new long[] {-1, 5}) {
                try (ServiceHost host = new ServiceHost(6)) {
                    LocalRun.run(c, data, teacher, Services.Wiring.of(broker.bootstrapServers(), "mb" + window, dir.resolve("state")),
                        host, manager, 300, window, StepListener.NONE);
                }
            }
            double max = 0;
            for (int i = 0; i < c.students(); i++) {
                String id = Services.studentId(i);
                Params exact = theta(dir.resolve("state"), "mb-1", id, manager);
                Params batched = theta(dir.resolve("state"), "mb5", id, manager);
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

    /** A student's final θ, from its newest checkpoint. */
    static Params theta(Path state, String runId, String student, NDManager manager) throws Exception {
        var saved = CheckpointFiles.of(state, runId, student).load(student).orElseThrow().checkpoint();
        return ParamsCodec.params(saved.getState().unpack(StudentState.class).getTheta(), manager);
    }
}
