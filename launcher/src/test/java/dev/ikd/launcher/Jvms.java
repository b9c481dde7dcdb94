package dev.ikd.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ikd} commands in JVMs of their own, with stdout and stderr kept in files for the test to
 * read. Every JVM it starts is killed when it closes, so a failing test leaves nothing running:
 * use it in try-with-resources.
 */
final class Jvms implements AutoCloseable {

    private final Path dir;
    private final List<Process> started = new CopyOnWriteArrayList<>();

    Jvms(Path dir) {
        this.dir = dir;
    }

    /** A running command and where its output goes. */
    record Jvm(Process process, Path out, Path err) {
        String stdout() throws IOException {
            return Files.readString(out, StandardCharsets.UTF_8);
        }

        String stderr() throws IOException {
            return Files.readString(err, StandardCharsets.UTF_8);
        }

        /** Waits for exit; a timeout kills the process and says so. */
        int await(long seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                Jvms.kill(process);
                throw new AssertionError("still running after " + seconds + " s: " + out.getFileName() + "\n" + stderr());
            }
            return process.exitValue();
        }

        /** SIGKILL, and wait for it to be gone. */
        void kill() throws InterruptedException {
            Jvms.kill(process);
        }
    }

    /**
     * Starts {@code ikd args} with {@code prefix} before java (e.g. ip netns exec NS) and {@code env}
     * added to its environment, working in {@code dir}; output under {@code dir/name.out} and {@code .err}.
     */
    Jvm start(String name, List<String> prefix, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
            // Log lines with their time: a test that failed can be read from the files it leaves.
            "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
            "-cp", System.getProperty("java.class.path"), "dev.ikd.launcher.Ikd"));
        command.addAll(List.of(args));
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        // Each JVM works in the test's folder: what it writes by default (runs/RUN) stays there.
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile())
            .redirectError(err.toFile());
        builder.environment().putAll(env);
        Process p = builder.start();
        started.add(p);
        return new Jvm(p, out, err);
    }

    Jvm start(String name, List<String> prefix, String... args) throws IOException {
        return start(name, prefix, Map.of(), args);
    }

    Jvm start(String name, String... args) throws IOException {
        return start(name, List.of(), Map.of(), args);
    }

    /** Starts {@code ikd broker} on {@code dir/kafka} and returns it once it prints where it listens. */
    Broker broker(List<String> prefix, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("broker", "--port", "0", "--data-dir", dir.resolve("kafka").toString()));
        args.addAll(List.of(extra));
        return awaitListening(start("broker-" + System.nanoTime(), prefix, args.toArray(String[]::new)));
    }

    /** The broker {@code jvm} once it prints where it listens (a node of a cluster: once the cluster has formed). */
    static Broker awaitListening(Jvm jvm) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        Pattern listening = Pattern.compile("listening on (\\S+) ");
        while (System.nanoTime() < deadline) {
            Matcher m = listening.matcher(jvm.stdout());
            if (m.find()) {
                return new Broker(jvm, m.group(1));
            }
            if (!jvm.process().isAlive()) {
                throw new AssertionError("ikd broker exited: " + jvm.stderr());
            }
            Thread.sleep(100);
        }
        kill(jvm.process());
        throw new AssertionError("ikd broker did not start: " + jvm.stderr());
    }

    record Broker(Jvm jvm, String bootstrap) {
    }

    /** Kills every JVM this started that still runs (and anything they started). */
    @Override
    public void close() throws InterruptedException {
        for (Process p : started) {
            kill(p);
        }
    }

    static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
    }
}
