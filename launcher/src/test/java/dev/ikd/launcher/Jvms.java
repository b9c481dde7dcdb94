package dev.ikd.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code ikd} commands in JVMs of their own, with stdout and stderr kept in files for the test to read. */
final class Jvms {

    private Jvms() {
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
                process.destroyForcibly();
                throw new AssertionError("still running after " + seconds + " s: " + out.getFileName() + "\n" + stderr());
            }
            return process.exitValue();
        }
    }

    /** Starts {@code ikd args} with {@code prefix} before java (e.g. ip netns exec NS), output under {@code dir/name.*}. */
    static Jvm start(Path dir, String name, List<String> prefix, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
            "-cp", System.getProperty("java.class.path"), "dev.ikd.launcher.Ikd"));
        command.addAll(List.of(args));
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new Jvm(p, out, err);
    }

    static Jvm start(Path dir, String name, String... args) throws IOException {
        return start(dir, name, List.of(), args);
    }

    /** Starts {@code ikd broker} and returns it once it prints where it listens. */
    static Broker broker(Path dir, List<String> prefix, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("broker", "--port", "0", "--data-dir", dir.resolve("kafka").toString()));
        args.addAll(List.of(extra));
        Jvm jvm = start(dir, "broker", prefix, args.toArray(String[]::new));
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
        jvm.process().destroyForcibly();
        throw new AssertionError("ikd broker did not start: " + jvm.stderr());
    }

    record Broker(Jvm jvm, String bootstrap) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            jvm.process().destroy();
            if (!jvm.process().waitFor(30, TimeUnit.SECONDS)) {
                jvm.process().destroyForcibly();
            }
        }
    }

    static String firstLine(String text) {
        try (BufferedReader r = new BufferedReader(new java.io.StringReader(text))) {
            return r.readLine();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
