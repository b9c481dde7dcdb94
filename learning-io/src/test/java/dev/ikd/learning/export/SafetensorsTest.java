package dev.ikd.learning.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void tensorsAndMetadataRoundTripInTheFormatsLayout() throws Exception {
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("stage1.w1", new Safetensors.Tensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        tensors.put("head.b", new Safetensors.Tensor(new long[] {2}, new float[] {0.25f, Float.MIN_VALUE}));
        Path file = dir.resolve("m.safetensors");
        Safetensors.write(file, tensors, Map.of("ikd.run_id", "r1"));

        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(n % 8).as("header padded to 8 bytes").isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).contains("\"stage1.w1\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}")
            .contains("\"head.b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}")
            .contains("\"__metadata__\":{\"ikd.run_id\":\"r1\"}");
        assertThat(bytes.length).isEqualTo(8 + n + 32);
        assertThat(ByteBuffer.wrap(bytes, (int) (8 + n + 20), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat()).isEqualTo(-6.5f);

        Safetensors.Contents read = Safetensors.read(file);
        assertThat(read.tensors().keySet()).containsExactly("stage1.w1", "head.b");
        assertThat(read.tensors().get("stage1.w1").values()).containsExactly(1, 2, 3, 4, 5, -6.5f);
        assertThat(read.tensors().get("head.b").shape()).containsExactly(2);
        assertThat(read.metadata()).containsEntry("ikd.run_id", "r1");
    }

    @Test
    void aFileThatIsNotFloat32SafetensorsIsRefusedWithTheReason() throws Exception {
        assertThatThrownBy(() -> Safetensors.read(Files.write(dir.resolve("short"), new byte[4])))
            .hasMessageContaining("is not a safetensors file (4 bytes)");
        assertThatThrownBy(() -> Safetensors.read(file("{\"x\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2)))
            .hasMessageContaining("tensor x is F16; ikd reads F32 tensors");
        assertThatThrownBy(() -> Safetensors.read(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)))
            .hasMessageContaining("byte range [0, 16) outside the file's 8 data bytes");
        assertThatThrownBy(() -> Safetensors.read(file("{not json", 0))).hasMessageContaining("unreadable safetensors header");
        byte[] huge = new byte[16];
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        assertThatThrownBy(() -> Safetensors.read(Files.write(dir.resolve("huge"), huge))).hasMessageContaining("header length");
        assertThatThrownBy(() -> new Safetensors.Tensor(new long[] {2, 2}, new float[3])).hasMessageContaining("needs 4 values");
    }

    @Test
    void aModelCardRoundTripsAndAnotherJsonIsRefused() throws Exception {
        ModelCard card = new ModelCard(ModelCard.FORMAT, "r", "student-0", "mlp:32:16,16", ModelCard.forward("mlp"), new long[] {3},
            List.of("a", "b", "c"), new double[] {1, 2, 3}, new double[] {0.5, 1, 2}, "csv:t.csv", Map.of("label-column", "3"),
            "abc", List.of("x", "y"), 40, "ikd", 0.9, "h", "f");
        Path file = dir.resolve("m.json");
        card.write(file);
        assertThat(Files.readString(file)).contains("\"feature_mean\"").contains("\"class_names\"").contains("\"param_sha256\"");
        ModelCard back = ModelCard.read(file);
        assertThat(back.featureStd()).containsExactly(0.5, 1, 2);
        assertThat(back.classNames()).containsExactly("x", "y");
        assertThat(ModelCard.beside(dir.resolve("student.safetensors"))).isEqualTo(dir.resolve("student.json"));
        assertThatThrownBy(() -> ModelCard.read(Files.writeString(dir.resolve("other.json"), "{\"format\":\"x\"}")))
            .hasMessageContaining("is not an ikd model card");
    }

    private Path file(String header, int dataBytes) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return Files.write(dir.resolve("f" + header.hashCode()), b.array());
    }
}
