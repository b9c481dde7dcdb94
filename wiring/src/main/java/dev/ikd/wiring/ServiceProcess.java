package dev.ikd.wiring;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.ikd.runtime.RunFailedException;

/** An ikd service in a JVM of its own, started from this one's Java and class path; its output in files under a directory. */
public final class ServiceProcess {

    /** The command line's main class, which lives in the launcher above this module. */
    public static final String IKD_MAIN = "dev.ikd.launcher.Ikd";

    private final String name;
    private final Process process;
    private final Path out;
    private final Path err;

    private ServiceProcess(String name, Process process, Path out, Path err) {
        this.name = name;
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /** Starts {@code ikd args} as {@code name}; stdout and stderr go to {@code dir/name.out} and {@code .err}. */
    public static ServiceProcess start(Path dir, String name, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), IKD_MAIN));
        command.addAll(args);
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new ServiceProcess(name, p, out, err);
    }

    public String name() {
        return name;
    }

    /** Waits for the process to exit 0; otherwise fails with its exit status and the end of its stderr. */
    public void awaitSuccess(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new RunFailedException(name + " did not finish within " + seconds + " s");
        }
        if (process.exitValue() != 0) {
            List<String> lines = read(err).lines().toList();
            throw new RunFailedException(name + " exited with status " + process.exitValue() + ": "
                + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())));
        }
    }

    public String stdout() {
        return read(out);
    }

    public void destroy() {
        process.destroyForcibly();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
