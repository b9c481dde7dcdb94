package dev.ikd.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import picocli.CommandLine.Option;

/** Where a benchmark records its results: a JSON file under bench/results and a section of BENCHMARKS.md. */
public final class BenchOutput {

    @Option(names = "--results", defaultValue = "bench/results", description = "Where the JSON goes. Default: ${DEFAULT-VALUE}")
    Path results;

    @Option(names = "--benchmarks-md", defaultValue = "BENCHMARKS.md",
        description = "Markdown file the summary goes into. Default: ${DEFAULT-VALUE}")
    Path benchmarksMd;

    /**
     * Writes the results and their section of BENCHMARKS.md, both stamped with the commit and the
     * CPU that made them (a section under its heading names them in its second line).
     */
    void record(String name, JsonObject json, String markdown) {
        String commit = commit();
        String cpu = cpu();
        json.addProperty("commit", commit);
        json.addProperty("cpu", cpu);
        int heading = markdown.indexOf('\n');
        String stamped = heading < 0 ? markdown : markdown.substring(0, heading + 1) + "\n_Made by the benchmark at commit " + commit
            + " on " + cpu + "._\n" + markdown.substring(heading + 1);
        try {
            Files.createDirectories(results);
            Path file = results.resolve(name + ".json");
            Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n", StandardCharsets.UTF_8);
            Markdown.replaceSection(benchmarksMd, name, stamped);
            System.out.println("wrote " + file + " and the '" + name + "' section of " + benchmarksMd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The commit this code was built from (with "+changes" when the build's tree had uncommitted
     * ones), from the git.properties the build writes; without it, the commit the working tree is
     * at; "unknown" outside git.
     */
    static String commit() {
        try (var in = BenchOutput.class.getResourceAsStream("git.properties")) {
            if (in != null) {
                var built = new java.util.Properties();
                built.load(in);
                String id = built.getProperty("git.commit.id.abbrev", "");
                if (!id.isEmpty()) {
                    return id + ("true".equals(built.getProperty("git.dirty")) ? "+changes" : "");
                }
            }
        } catch (IOException e) {
            // fall back to the working tree
        }
        try {
            String head = run("git", "rev-parse", "--short=10", "HEAD");
            return head.isEmpty() ? "unknown" : head + (run("git", "status", "--porcelain", "--untracked-files=no").isEmpty() ? ""
                : "+changes");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The CPU's model name and how many cores this JVM sees. */
    static String cpu() {
        String model = System.getProperty("os.arch");
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the architecture says what there is to say
        }
        return model + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }

    private static String run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? out : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /**
     * Whether the user gave {@code option} to this benchmark, on its command line or in a config file:
     * a benchmark whose own default differs from the run's (a long run, many students) keeps the
     * user's value, whatever it is.
     */
    static boolean given(picocli.CommandLine.Model.CommandSpec spec, String option) {
        var parsed = spec.commandLine().getParseResult();
        if (parsed.hasMatchedOption(option)) {
            return true;
        }
        var provider = spec.defaultValueProvider();
        try {
            return provider != null && provider.defaultValue(spec.findOption(option)) != null;
        } catch (Exception e) {
            return false;
        }
    }
}
