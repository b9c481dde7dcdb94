package dev.ikd.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ikd bench lm} on the bundled text: every method it is given, in the JSON and the table; IKD where it can learn. */
class LmBenchTest {

    @TempDir
    Path dir;

    private String[] args(String... more) {
        List<String> a = new ArrayList<>(List.of("lm", "--corpus", "lm:bundled", "--vocab", "300", "--context", "16", "--teacher",
            "gpt:1:16:2:16", "--student", "gpt:1:8:2:16", "--pretrain-steps", "20", "--steps", "4", "--batch", "4", "--seeds", "1",
            "--results", dir.resolve("results").toString(), "--benchmarks-md", dir.resolve("B.md").toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void everyMethodIsMeasuredAndALearningTeachersPerplexityAfterwardsIsRecorded() throws Exception {
        int code = new CommandLine(new BenchCommand()).execute(args("--encodings", "dense,topk:8,sample:8", "--ikd",
            "topk:8,dense@kl=1+clip=0.05+beta=0.5"));
        assertThat(code).isZero();
        JsonObject json = JsonParser.parseString(Files.readString(dir.resolve("results").resolve("lm.json"))).getAsJsonObject();
        List<String> methods = json.getAsJsonArray("summary").asList().stream()
            .map(s -> s.getAsJsonObject().get("method").getAsString()).toList();
        assertThat(methods).containsExactly("alone", "kd:dense", "kd:topk:8", "kd:sample:8", "ikd:topk:8",
            "ikd:dense@kl=1+clip=0.05+beta=0.5");
        for (var s : json.getAsJsonArray("summary")) {
            JsonObject o = s.getAsJsonObject();
            boolean learning = o.get("method").getAsString().startsWith("ikd:");
            assertThat(o.has("teacher_test_perplexity_after")).as(o.get("method").getAsString()).isEqualTo(learning);
            assertThat(o.get("test_perplexity").getAsDouble()).isFinite().isGreaterThan(1);
        }
        JsonObject topk = json.getAsJsonArray("summary").get(4).getAsJsonObject();
        assertThat(topk.get("soft_target_bytes_per_token").getAsDouble()).as("8 ids and probabilities and a tail").isEqualTo(68.0);
        assertThat(Files.readString(dir.resolve("B.md"))).contains("| ikd:topk:8 |", "| teacher after |",
            "![student perplexity against bytes per token](bench/results/lm.png)");
        assertThat(javax.imageio.ImageIO.read(dir.resolve("results").resolve("lm.png").toFile()).getWidth()).isPositive();
        // Seed 1's teacher and every student continue the prompt: the prompt and more, in the JSON and the table.
        JsonObject samples = json.getAsJsonObject("samples");
        assertThat(samples.keySet()).containsExactly("teacher", "alone", "kd:dense", "kd:topk:8", "kd:sample:8", "ikd:topk:8",
            "ikd:dense@kl=1+clip=0.05+beta=0.5");
        for (var text : samples.entrySet()) {
            assertThat(text.getValue().getAsString()).as(text.getKey()).startsWith("The jury said").hasSizeGreaterThan(
                "The jury said".length());
        }
        assertThat(Files.readString(dir.resolve("B.md"))).contains("continue \"The jury said\" (temperature 0.7, top-p 0.9, seed 1)",
            "| teacher | The jury said");
    }

    @Test
    void aLearningTeacherOnAnEncodingItCannotLearnThroughIsRefusedBeforeAnythingRuns() {
        LmBench bench = new LmBench();
        String[] a = args("--ikd", "sample:8");
        new CommandLine(bench).parseArgs(java.util.Arrays.copyOfRange(a, 1, a.length));
        assertThatThrownBy(bench::call).hasMessageStartingWith("IKD cannot learn through sample:8: it sends counts of random draws");
    }
}
