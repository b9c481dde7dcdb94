package dev.ikd.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A benchmark whose defaults differ from a run's keeps what the user gave, even when it is the run's default. */
class BenchDefaultsTest {

    @TempDir
    Path dir;

    @Test
    void theMemoryBenchmarkRunsTheStepsItIsGivenAndItsOwnLongRunOtherwise() throws Exception {
        int code = new CommandLine(new BenchCommand()).execute("memory", "--dataset", "digits", "--steps", "200", "--every", "100",
            "--pretrain-steps", "50", "--results", dir.resolve("results").toString(), "--benchmarks-md", dir.resolve("B.md").toString());
        assertThat(code).isZero();
        var json = JsonParser.parseString(Files.readString(dir.resolve("results").resolve("memory.json"))).getAsJsonObject();
        assertThat(json.get("steps").getAsLong()).as("--steps 200, the run's default, given on purpose").isEqualTo(200);

        var bench = new MemoryBench();
        var cli = new CommandLine(bench);
        cli.parseArgs("--dataset", "digits");
        assertThat(BenchOutput.given(bench.spec, "--steps")).isFalse();
        cli.parseArgs("--dataset", "digits", "--steps=200");
        assertThat(BenchOutput.given(bench.spec, "--steps")).isTrue();
    }
}
