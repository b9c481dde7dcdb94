package dev.ikd.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.proto.v1.Envelope;

/**
 * Where one service of one run keeps its checkpoints: {@code base/run/service/KEY.ckpt}, one file per
 * key (per student). A service started again on the same directory resumes from them.
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

    public Path file(String key) {
        return dir.resolve(safe(key, "student id") + SUFFIX);
    }

    /** The keys that have a checkpoint here, sorted. */
    public List<String> keys() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<String> keys = new ArrayList<>();
            files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(SUFFIX)).sorted()
                .forEach(n -> keys.add(n.substring(0, n.length() - SUFFIX.length())));
            return keys;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return dir;
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
