package dev.ikd.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.proto.v1.Envelope;

/**
 * Where one service of one run keeps its checkpoints: {@code base/run/service/KEY/NNN.ckpt}, one
 * directory per key (per student) and one file per progress count, the number of records that state
 * has applied. A writer never replaces a later state: a slow former owner of a student (a teacher
 * replica that lost the student's partition) can only add an older file, and {@link #latest} reads
 * the newest. The file before the newest is kept, the rest are removed.
 */
public final class StateDir {

    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._-]+");
    private static final String SUFFIX = ".ckpt";
    private final Path dir;

    private StateDir(Path dir) {
        this.dir = dir;
    }

    public static StateDir of(Path base, String runId, String serviceId) {
        return new StateDir(base.resolve(safe(runId, "run id")).resolve(safe(serviceId, "service id")));
    }

    /** The newest checkpoint of {@code key}, or null if it has none. */
    public Path latest(String key) {
        List<Path> files = files(key);
        return files.isEmpty() ? null : files.get(files.size() - 1);
    }

    /** The checkpoint before the newest one, or null. */
    public Path previous(String key) {
        List<Path> files = files(key);
        return files.size() < 2 ? null : files.get(files.size() - 2);
    }

    /** Writes {@code key}'s state at {@code progress} with {@code writer} (atomically), then prunes older files. */
    public void write(String key, long progress, Consumer<Path> writer) {
        if (progress < 0) {
            throw new IllegalArgumentException("progress must be >= 0, got " + progress);
        }
        writer.accept(dir.resolve(safe(key, "student id")).resolve(String.format("%019d", progress) + SUFFIX));
        List<Path> files = files(key);
        for (int i = 0; i < files.size() - 2; i++) {
            try {
                Files.deleteIfExists(files.get(i));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove old checkpoint " + files.get(i) + ": " + e.getMessage(), e);
            }
        }
    }

    /** The keys that have a checkpoint here, sorted. */
    public List<String> keys() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(k -> latest(k) != null)
                .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return dir;
    }

    private List<Path> files(String key) {
        Path keyDir = dir.resolve(safe(key, "student id"));
        if (!Files.isDirectory(keyDir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(keyDir)) {
            List<Path> files = new ArrayList<>(entries.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList());
            files.sort(Comparator.comparing(p -> p.getFileName().toString()));
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + keyDir + ": " + e.getMessage(), e);
        }
    }

    private static String safe(String name, String what) {
        if (!SAFE.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name + "' cannot name a checkpoint: use letters, digits, '.', '_' or '-'");
        }
        return name;
    }

    /** An envelope as checkpoint metadata (recorded answers and held requests travel with the state). */
    public static void putEnvelope(Map<String, String> metadata, String name, Envelope e) {
        if (e != null) {
            metadata.put(name, Base64.getEncoder().encodeToString(e.toByteArray()));
        }
    }

    public static Envelope envelope(Map<String, String> metadata, String name) {
        String s = metadata.get(name);
        if (s == null) {
            return null;
        }
        try {
            return Envelope.parseFrom(Base64.getDecoder().decode(s));
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new IllegalStateException("checkpoint entry '" + name + "' is not an envelope: " + e.getMessage(), e);
        }
    }
}
