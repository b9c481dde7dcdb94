package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** The repository, and the real tools (Debian's packages) that tests check its files with. */
final class Tools {

    private Tools() {
    }

    /** The folder that holds launcher/pom.xml. */
    static Path projectRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("launcher").resolve("pom.xml"))) {
            p = p.getParent();
        }
        assertThat(p).as("the project root above " + Path.of("").toAbsolutePath()).isNotNull();
        return p;
    }

    /**
     * The path of {@code tool} from Debian's {@code debianPackage}. A developer without it sees the
     * test skipped and why; on CI ({@code CI=true}, where .ci/run installs it) its absence fails.
     */
    static Path require(String tool, String debianPackage) {
        Path path = onPath(tool);
        boolean present = path != null;
        Assumptions.assumeTrue(present || "true".equals(System.getenv("CI")),
            tool + " is not installed (apt-get install " + debianPackage + "; .ci/run does)");
        assertThat(present).as(tool + " must be installed on CI (.ci/run installs " + debianPackage + ")").isTrue();
        return path;
    }

    /** Where {@code tool} is on the PATH, as the shell's {@code command -v} finds it (.ci/run checks the same way); null if nowhere. */
    static Path onPath(String tool) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "" : path).split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * Debian's python3 when it can import {@code module} (from {@code debianPackage}): skipped
     * without it on a developer's machine, a failure on CI, where .ci/run installs it.
     */
    static Path requirePython(String module, String debianPackage) throws IOException, InterruptedException {
        // Debian's modules are Debian's python3's, whichever python3 comes first on the PATH (.ci/run asks /usr/bin/python3 too).
        Path debian = Path.of("/usr/bin/python3");
        Path python = Files.isExecutable(debian) ? debian : require("python3", "python3");
        boolean present = run(Path.of("."), 120, List.of(python.toString(), "-c", "import " + module)).code() == 0;
        Assumptions.assumeTrue(present || "true".equals(System.getenv("CI")),
            "python3 cannot import " + module + " (apt-get install " + debianPackage + "; .ci/run does)");
        assertThat(present).as("python3 must import " + module + " on CI (.ci/run installs " + debianPackage + ")").isTrue();
        return python;
    }

    /** A finished command: its exit code, its stdout and its stderr. */
    record Result(int code, String output, String errors) {
        @Override
        public String toString() {
            return "exit " + code + "\n" + output + "\n" + errors;
        }
    }

    /** Runs {@code command} in {@code dir} and waits up to {@code seconds} for it. */
    static Result run(Path dir, long seconds, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("ikd-tool", ".out");
        Path err = Files.createTempFile("ikd-tool", ".err");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " still running after " + seconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
