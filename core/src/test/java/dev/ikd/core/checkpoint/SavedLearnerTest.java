package dev.ikd.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedLearnerTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsBitExactlyWithStepSeedAndMetadata() {
        try (NDManager m = NDManager.newBaseManager()) {
            var digits = Datasets.digits();
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                Params p = Network.build(ModelSpec.parse("mlp:8:16"), digits).init(4, type, m);
                Params v = p.map((k, a) -> a.mul(0.5));
                Path file = dir.resolve("student-" + type + ".ckpt");
                new SavedLearner(42, 7, Map.of("spec", "mlp:8:16"), Map.of("theta", p, "velocity", v)).write(file);
                SavedLearner back = SavedLearner.read(file, m);
                assertThat(back.step()).isEqualTo(42);
                assertThat(back.seed()).isEqualTo(7);
                assertThat(back.metadata()).containsEntry("spec", "mlp:8:16");
                assertThat(back.parameterHash("theta")).isEqualTo(p.sha256());
                assertThat(back.parameterHash("velocity")).isEqualTo(v.sha256());
                SavedLearner.requireSameLayout(file, back.group("theta"), p);
            }
            assertThat(dir.toFile().list()).allMatch(n -> n.endsWith(".ckpt")); // no temp file left behind
        }
    }

    @Test
    void aCorruptedOrTruncatedOrForeignCheckpointIsRefusedWithTheReason() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            var digits = Datasets.digits();
            Params p = Network.build(ModelSpec.parse("mlp:8:16"), digits).init(4, DataType.FLOAT32, m);
            Path file = dir.resolve("t.ckpt");
            new SavedLearner(1, 1, Map.of(), Map.of("theta", p)).write(file);

            Path flipped = Files.copy(file, dir.resolve("flipped.ckpt"));
            try (var raf = new RandomAccessFile(flipped.toFile(), "rw")) {
                raf.seek(200);
                int b = raf.read();
                raf.seek(200);
                raf.write(b ^ 0x01);
            }
            assertThatThrownBy(() -> SavedLearner.read(flipped, m)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("is corrupted");

            Path cut = dir.resolve("cut.ckpt");
            Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(file), 20));
            assertThatThrownBy(() -> SavedLearner.read(cut, m)).hasMessageContaining("truncated");

            Params other = Network.build(ModelSpec.parse("mlp:8:32"), digits).init(4, DataType.FLOAT32, m);
            SavedLearner back = SavedLearner.read(file, m);
            assertThatThrownBy(() -> SavedLearner.requireSameLayout(file, back.group("theta"), other))
                .hasMessageContaining("different model").hasMessageContaining("stage1.w1");
            assertThatThrownBy(() -> SavedLearner.read(dir.resolve("missing.ckpt"), m)).hasMessageContaining("cannot read");
        }
    }
}
