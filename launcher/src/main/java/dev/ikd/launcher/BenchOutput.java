package dev.ikd.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import picocli.CommandLine.Option;

/** Where a benchmark records its results: a JSON file under bench/results and a section of BENCHMARKS.md. */
final class BenchOutput {

    @Option(names = "--results", defaultValue = "bench/results", description = "Where the JSON goes. Default: ${DEFAULT-VALUE}")
    Path results;

    @Option(names = "--benchmarks-md", defaultValue = "BENCHMARKS.md",
        description = "Markdown file the summary goes into. Default: ${DEFAULT-VALUE}")
    Path benchmarksMd;

    void record(String name, JsonObject json, String markdown) {
        try {
            Files.createDirectories(results);
            Path file = results.resolve(name + ".json");
            Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n", StandardCharsets.UTF_8);
            Markdown.replaceSection(benchmarksMd, name, markdown);
            System.out.println("wrote " + file + " and the '" + name + "' section of " + benchmarksMd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
