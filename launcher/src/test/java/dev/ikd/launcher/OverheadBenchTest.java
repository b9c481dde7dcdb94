package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import dev.ikd.bench.OverheadReport;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ikd bench overhead}, small: one teacher mode in threads and in JVMs of their own, twice. The
 * results file holds the schema, every run ends on the in-process hashes, an IKD step waits
 * for exactly two hops, and {@code --json} prints the summary.
 */
class OverheadBenchTest {

    static final Set<String> RUN_FIELDS = Set.of("dataset", "teacher_mode", "isolation", "variant", "repeat",
        "inprocess_ms_per_step", "distributed_ms_per_step", "added_ms_per_step", "ratio", "hops_per_step", "hop_p50_ms",
        "hop_p99_ms", "same_hashes");
    static final Set<String> SUMMARY_FIELDS = Set.of("dataset", "teacher_mode", "isolation", "variant", "median_ratio",
        "median_added_ms_per_step", "median_hop_p50_ms", "hops_per_step");

    @TempDir
    Path dir;

    @Test
    void aSmallBenchRecordsEveryRunAndItsSummary() throws Exception {
        IkdCommandLineTest.Run r = IkdCommandLineTest.ikd("bench", "overhead", "--datasets", "digits", "--teacher-modes", "ikd",
            "--isolation", "thread,process", "--variants", "default,secure", "--repeats", "2", "--steps", "40", "--warmup-steps", "10",
            "--pretrain-steps", "50", "--results", dir.resolve("results").toString(), "--benchmarks-md",
            dir.resolve("BENCHMARKS.md").toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonObject file = JsonParser.parseString(Files.readString(dir.resolve("results/overhead.json"))).getAsJsonObject();
        assertThat(file.getAsJsonArray("runs")).hasSize(8);
        for (JsonElement e : file.getAsJsonArray("runs")) {
            JsonObject run = e.getAsJsonObject();
            assertThat(run.keySet()).containsAll(RUN_FIELDS);
            assertThat(run.get("same_hashes").getAsBoolean()).as(run.toString()).isTrue();
            assertThat(run.get("hops_per_step").getAsDouble()).as(run.toString()).isEqualTo(2.0);
            assertThat(run.get("ratio").getAsDouble()).isEqualTo(
                run.get("distributed_ms_per_step").getAsDouble() / run.get("inprocess_ms_per_step").getAsDouble());
        }
        // Secure runs too end on the in-process hashes: TLS, logins and signatures change no number.
        assertThat(file.getAsJsonArray("summary")).hasSize(4).allSatisfy(e -> {
            JsonObject s = e.getAsJsonObject();
            assertThat(s.keySet()).containsAll(SUMMARY_FIELDS);
            assertThat(s.get("median_ratio").getAsDouble()).isBetween(s.get("min_ratio").getAsDouble(),
                s.get("max_ratio").getAsDouble());
        });
        assertThat(file.getAsJsonArray("student_step_summary")).extracting(e -> e.getAsJsonObject().get("method").getAsString())
            .containsExactlyInAnyOrder("alone", "kd", "ikd");
        JsonObject printed = JsonParser.parseString(r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow())
            .getAsJsonObject();
        assertThat(printed.getAsJsonArray("summary")).isEqualTo(file.getAsJsonArray("summary"));
        assertThat(Files.readString(dir.resolve("BENCHMARKS.md"))).contains("### Distributed overhead", "| digits | ikd | process |", "| secure |");
        assertThat(dir.resolve("results/overhead.png")).exists();
    }

    @Test
    void aSettingWhoseDistributedHashesDifferFailsTheBenchNamingIt() {
        var same = new com.google.gson.JsonObject();
        same.addProperty("dataset", "digits");
        same.addProperty("teacher_mode", "ikd");
        same.addProperty("isolation", "thread");
        same.addProperty("variant", "default");
        same.addProperty("same_hashes", true);
        var differs = same.deepCopy();
        differs.addProperty("isolation", "process");
        differs.addProperty("same_hashes", false);
        var summary = new com.google.gson.JsonArray();
        summary.add(same);
        OverheadReport.requireSameHashes(summary);
        summary.add(differs);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OverheadReport.requireSameHashes(summary))
            .isInstanceOf(dev.ikd.runtime.RunFailedException.class)
            .hasMessage("distributed runs ended on other hashes than the in-process run: digits ikd process default");
    }
}
