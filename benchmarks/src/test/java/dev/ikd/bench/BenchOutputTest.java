package dev.ikd.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A benchmark's results and its section of BENCHMARKS.md say which commit and which CPU made them. */
class BenchOutputTest {

    @TempDir
    Path dir;

    @Test
    void everyRecordedSectionAndItsJsonNameTheCommitAndTheCpu() throws Exception {
        BenchOutput out = new BenchOutput();
        out.results = dir.resolve("results");
        out.benchmarksMd = dir.resolve("BENCHMARKS.md");
        Files.writeString(out.benchmarksMd, "# Benchmarks\n");
        out.record("thing", new JsonObject(), "### A thing\n\n| a | b |\n");
        String md = Files.readString(out.benchmarksMd);
        String commit = BenchOutput.commit();
        String cpu = BenchOutput.cpu();
        assertThat(cpu).endsWith(Runtime.getRuntime().availableProcessors() + " cores");
        assertThat(md).contains("<!-- bench:thing -->\n### A thing\n\n_Made by the benchmark at commit " + commit + " on " + cpu + "._\n");
        JsonObject json = JsonParser.parseString(Files.readString(out.results.resolve("thing.json"))).getAsJsonObject();
        assertThat(json.get("commit").getAsString()).isEqualTo(commit);
        assertThat(json.get("cpu").getAsString()).isEqualTo(cpu);
    }
}
