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

    /** Every field a header can get wrong is one line naming it, never an exception from deep inside. */
    @Test
    void aHeaderWithMissingMalformedOverflowingOrOverlappingEntriesIsRefusedWithOneLine() throws Exception {
        String[][] cases = {
            {"{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor x has no dtype"},
            {"{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "tensor x has no shape"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor x has no data_offsets"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", "tensor x's shape is not an array of numbers"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "tensor x's data_offsets is not an array of 2 numbers"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "tensor x's shape holds 1.5, not a whole number"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "tensor x's shape holds -1, below 0"},
            {"{\"x\":7}", "tensor x is not a JSON object in the header"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}",
                "tensor x's data_offsets holds 99999999999999999999, not a whole number"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}",
                "tensor x has shape [4611686018427387904, 4] but 8 bytes of data"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "tensor x has shape [3] but 8 bytes of data"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[4,8]}}", "starts at byte 4, where the tensor before it still runs (they overlap)"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[0,4]}}", "start at the same byte 0"},
            {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "starts at byte 4, where byte 0 was expected (a gap)"},
            {"{\"__metadata__\":{\"a\":1}}", "metadata 'a' is not a string"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> Safetensors.read(file(c[0], 8))).as(c[0]).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(c[1]);
        }
    }

    @Test
    void aModelCardWhoseStatisticsDoNotFitItsFeaturesOrThatLacksAFieldIsRefused() throws Exception {
        java.util.function.BiFunction<double[], double[], ModelCard> withStats = (mean, std) -> new ModelCard(ModelCard.FORMAT, "r",
            "student-0", "mlp:32:16,16", ModelCard.forward("mlp"), new long[] {3}, List.of("a", "b", "c"), mean, std, "csv:t.csv",
            Map.of(), "abc", List.of("x", "y"), 40, "ikd", 0.9, "h", "f", null);
        Object[][] cases = {
            {withStats.apply(new double[] {1, 2}, new double[] {1, 2}), "has 3 feature names, 2 means and 2 standard deviations"},
            {withStats.apply(new double[] {1, 2, 3}, new double[] {1, 0, 1}), "feature 1 with mean 2.0 and standard deviation 0.0"},
            {new ModelCard(ModelCard.FORMAT, "r", "student-0", "mlp:32:16,16", ModelCard.forward("mlp"), new long[] {4}, List.of(),
                new double[] {1, 2, 3}, new double[] {1, 1, 1}, "csv:t.csv", Map.of(), "abc", List.of("x", "y"), 40, "ikd", 0.9, "h",
                "f", null), "standardises 3 features, but its input has 4"},
            {new ModelCard(ModelCard.FORMAT, "r", "teacher", "torchscript:t.pt", ModelCard.forward("torchscript"), new long[] {3},
                List.of(), new double[0], new double[0], "digits", Map.of(), "abc", List.of("x", "y"), 40, "ikd", 0.9, "h", "f",
                null), "without its script_sha256"},
            {new ModelCard(ModelCard.FORMAT, "r", "student-0", "mlp:32:16,16", ModelCard.forward("mlp"), new long[] {3}, List.of(),
                new double[0], new double[0], "digits", Map.of(), "abc", List.of("x", "y"), 40, "ikd", 0.9, null, "f", null),
                "has no param_sha256"},
        };
        for (Object[] c : cases) {
            Path file = dir.resolve("bad.json");
            ((ModelCard) c[0]).write(file);
            assertThatThrownBy(() -> ModelCard.read(file)).as((String) c[1]).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining((String) c[1]);
        }
    }

    @Test
    void aModelCardRoundTripsAndAnotherJsonIsRefused() throws Exception {
        ModelCard card = new ModelCard(ModelCard.FORMAT, "r", "student-0", "mlp:32:16,16", ModelCard.forward("mlp"), new long[] {3},
            List.of("a", "b", "c"), new double[] {1, 2, 3}, new double[] {0.5, 1, 2}, "csv:t.csv", Map.of("label-column", "3"),
            "abc", List.of("x", "y"), 40, "ikd", 0.9, "h", "f", null);
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
