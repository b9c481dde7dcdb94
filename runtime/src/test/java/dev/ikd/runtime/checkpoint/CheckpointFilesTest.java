package dev.ikd.runtime.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;
import dev.ikd.proto.state.Checkpoint;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointFilesTest {

    @TempDir
    Path dir;

    static Checkpoint checkpoint(long records) {
        return Checkpoint.newBuilder().setFormat(CheckpointFiles.FORMAT).setRunId("r").setService("student-0").setKey("student-0")
            .setRecords(records).putPositions("ikd.control/0", records).setState(Any.pack(Int64Value.of(records))).build();
    }

    static List<String> names(Path keyDir) throws IOException {
        try (Stream<Path> s = Files.list(keyDir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theNewestCheckpointAndTheOneBeforeItAreKept() throws IOException {
        CheckpointFiles files = CheckpointFiles.of(dir, "r", "student-0");
        for (long n = 1; n <= 5; n++) {
            files.write("student-0", checkpoint(n));
        }
        assertThat(names(files.path().resolve("student-0"))).containsExactly("0000000000000000004.ckpt", "0000000000000000005.ckpt");
        assertThat(files.keys()).containsExactly("student-0");
        var loaded = files.load("student-0").orElseThrow();
        assertThat(loaded.checkpoint()).isEqualTo(checkpoint(5));
        assertThat(files.load("student-9")).isEmpty();
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToTheOneBeforeIt() throws IOException {
        CheckpointFiles files = CheckpointFiles.of(dir, "r", "student-0");
        files.write("student-0", checkpoint(1));
        files.write("student-0", checkpoint(2));
        Path newest = files.path().resolve("student-0/0000000000000000002.ckpt");
        flipAByte(newest);
        var loaded = files.load("student-0").orElseThrow();
        assertThat(loaded.file().getFileName().toString()).isEqualTo("0000000000000000001.ckpt");
        assertThat(loaded.checkpoint().getRecords()).isEqualTo(1);

        // Resumed from the one before, the next write replaces the damaged file.
        files.write("student-0", checkpoint(2));
        assertThat(files.load("student-0").orElseThrow().checkpoint()).isEqualTo(checkpoint(2));
    }

    /** A service whose machines refuse to resume from a state of value {@code refused} (say, a checkpoint of another model). */
    record Refusing(long refused) implements dev.ikd.runtime.processor.Service<dev.ikd.runtime.processor.Machine> {
        @Override
        public String skip(dev.ikd.proto.v1.Envelope e) {
            return null;
        }

        @Override
        public String keyOf(dev.ikd.proto.v1.Envelope e) {
            return e.getStudentId();
        }

        @Override
        public dev.ikd.runtime.processor.Machine fresh(String key) {
            throw new UnsupportedOperationException("only restored here");
        }

        @Override
        public dev.ikd.runtime.processor.Machine restore(String key, Any state) {
            long value;
            try {
                value = state.unpack(Int64Value.class).getValue();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
            if (value == refused) {
                throw new IllegalArgumentException("the saved student is another model");
            }
            return new dev.ikd.runtime.processor.Machine() {
                @Override
                public List<dev.ikd.proto.v1.Envelope> apply(dev.ikd.runtime.processor.Input input) {
                    return List.of();
                }

                @Override
                public com.google.protobuf.Message state() {
                    return Int64Value.of(value);
                }
            };
        }
    }

    @Test
    void anIntactNewestCheckpointThatCannotBeResumedFromFallsBackToTheOneBeforeIt() throws IOException {
        CheckpointFiles files = CheckpointFiles.of(dir, "r", "student-0");
        files.write("student-0", checkpoint(1));
        files.write("student-0", checkpoint(2));
        var recovered = files.recover(new Refusing(2), k -> true).get("student-0");
        assertThat(recovered.machine().state()).isEqualTo(Int64Value.of(1));
        assertThat(recovered.covered().records()).isEqualTo(1);

        // Neither serves: the service is told which files, and why.
        files.write("student-0", checkpoint(2));
        Path older = files.path().resolve("student-0/0000000000000000001.ckpt");
        flipAByte(older);
        assertThatThrownBy(() -> files.recover(new Refusing(2), k -> true)).isInstanceOf(UnusableCheckpointException.class)
            .hasMessageContaining("0000000000000000002.ckpt cannot be resumed from (the saved student is another model)")
            .hasMessageContaining(", and the one before it is damaged, 0000000000000000001.ckpt (");
    }

    @Test
    void whenNothingUsableIsLeftTheServiceIsToldWhichFilesAndWhy() throws IOException {
        CheckpointFiles files = CheckpointFiles.of(dir, "r", "student-0");
        files.write("student-0", checkpoint(1));
        Path only = files.path().resolve("student-0/0000000000000000001.ckpt");
        Files.write(only, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> files.load("student-0")).isInstanceOf(UnusableCheckpointException.class)
            .hasMessageStartingWith("checkpoint " + only + " is damaged (not a checkpoint")
            .hasMessageEndingWith("and there is no earlier one to fall back to");

        files.write("student-0", checkpoint(2));
        files.write("student-0", checkpoint(3));
        flipAByte(files.path().resolve("student-0/0000000000000000003.ckpt"));
        flipAByte(files.path().resolve("student-0/0000000000000000002.ckpt"));
        assertThatThrownBy(() -> files.load("student-0")).isInstanceOf(UnusableCheckpointException.class)
            .hasMessageContaining("0000000000000000003.ckpt is damaged (")
            .hasMessageContaining("and so is the one before it, 0000000000000000002.ckpt (");
    }

    @Test
    void anotherRunsOrServicesCheckpointIsRefusedNotFallenBackFrom() throws IOException {
        CheckpointFiles mine = CheckpointFiles.of(dir, "r", "student-0");
        mine.write("student-0", checkpoint(1).toBuilder().setRunId("other").build());
        assertThatThrownBy(() -> mine.load("student-0")).isInstanceOf(UnusableCheckpointException.class)
            .hasMessageEndingWith("is of student-0/student-0 in run other, not of student-0/student-0 in run r");
    }

    @Test
    void keysAndServicesMustBeSafeFileNames() {
        for (String bad : new String[] {"../x", "..", ".", ".hidden", "a..b", "a/b", ""}) {
            assertThatThrownBy(() -> CheckpointFiles.of(dir, "r", bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("service id '" + bad + "' cannot name a checkpoint: use letters, digits, '_', '-' and single dots, not first");
            assertThatThrownBy(() -> CheckpointFiles.of(dir, bad, "s")).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(CheckpointFiles.of(dir, "run-1.b", "student-0")).isNotNull();
    }

    /**
     * What survives a power loss is decided by the order of the system calls, so this test watches
     * them with strace: the temporary file is fsync'd before it is renamed over the checkpoint, and
     * the directory is fsync'd after the rename (and after it gained the new key's directory).
     */
    @Test
    void aCheckpointIsFsyncedThenRenamedThenItsDirectoryFsynced() throws Exception {
        Assumptions.assumeTrue(onPath("strace") || "true".equals(System.getenv("CI")),
            "strace is not installed (.ci/run installs it)");
        Path trace = dir.resolve("trace.txt");
        List<String> command = new ArrayList<>(List.of("strace", "-f", "-y", "-o", trace.toString(), "-e",
            "trace=fsync,fdatasync,rename,renameat,renameat2",
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
            WriteOneCheckpoint.class.getName(), dir.resolve("state").toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();

        Path keyDir = dir.resolve("state/run-1/student-0/student-0").toRealPath();
        String file = keyDir.resolve("0000000000000000007.ckpt").toString();
        List<String> calls = new ArrayList<>();
        Pattern call = Pattern.compile("(fsync|fdatasync)\\(\\d+<([^>]+)>\\)|(rename\\w*)\\(.*\"([^\"]+)\", .*\"([^\"]+)\"\\)");
        for (String line : Files.readAllLines(trace)) {
            Matcher m = call.matcher(line);
            if (m.find() && line.contains(dir.toRealPath().toString())) {
                calls.add(m.group(1) != null ? "fsync " + m.group(2) : "rename " + m.group(4) + " -> " + m.group(5));
            }
        }
        int fileSynced = calls.indexOf("fsync " + file + ".tmp");
        int renamed = calls.indexOf("rename " + file + ".tmp -> " + file);
        int dirSynced = calls.lastIndexOf("fsync " + keyDir);
        assertThat(fileSynced).as("the new file is fsync'd: %s", calls).isGreaterThanOrEqualTo(0);
        assertThat(renamed).as("then renamed over the checkpoint: %s", calls).isGreaterThan(fileSynced);
        assertThat(dirSynced).as("then its directory is fsync'd: %s", calls).isGreaterThan(renamed);
        assertThat(calls).as("the new key's directory entry is made durable in its parent")
            .contains("fsync " + keyDir.getParent());
    }

    /** Run under strace by the test above: writes one checkpoint into a fresh directory. */
    static final class WriteOneCheckpoint {
        public static void main(String[] args) {
            CheckpointFiles.of(Path.of(args[0]), "run-1", "student-0").write("student-0", checkpoint(7).toBuilder()
                .setRunId("run-1").build());
        }
    }

    private static boolean onPath(String tool) {
        return Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    private static void flipAByte(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
    }
}
