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

    /** The stamp names the commit the code was built from (git.properties, written by the build), which a copied jar keeps. */
    @Test
    void theStampIsTheCommitTheBuildWasMadeFrom() throws Exception {
        var built = new java.util.Properties();
        try (var in = BenchOutput.class.getResourceAsStream("git.properties")) {
            org.junit.jupiter.api.Assumptions.assumeTrue(in != null, "built outside a git checkout: no git.properties");
            built.load(in);
        }
        assertThat(built.getProperty("git.commit.id.abbrev")).matches("[0-9a-f]{10}");
        assertThat(BenchOutput.commit()).isEqualTo(built.getProperty("git.commit.id.abbrev")
            + ("true".equals(built.getProperty("git.dirty")) ? "+changes" : ""));
    }
}
