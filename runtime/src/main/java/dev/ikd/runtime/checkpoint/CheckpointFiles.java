package dev.ikd.runtime.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.ikd.proto.state.Checkpoint;
import dev.ikd.proto.state.StoredCheckpoint;
import dev.ikd.runtime.processor.Durability;
import dev.ikd.runtime.processor.Machine;
import dev.ikd.runtime.processor.Positions;
import dev.ikd.runtime.processor.Service;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoint files: {@code base/run/service/KEY/NNN.ckpt}, one directory per key (per student), one
 * file per progress count (the records that state has applied). A checkpoint is a typed protobuf
 * {@link Checkpoint} with its SHA-256, written to a temporary file that is fsync'd, renamed over
 * and followed by an fsync of the directory, so that after a power loss the file is either the old
 * one or the whole new one. The file before the newest is kept: if the newest is damaged, loading
 * falls back to it, with one log line naming the damaged file.
 */
public final class CheckpointFiles implements Durability {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointFiles.class);
    /** Bumped when a checkpoint changes in a way older builds cannot read. */
    public static final int FORMAT = 2;
    /** A name that stays one folder deep: no separators, and no "." or ".." anywhere that could lead out. */
    private static final Pattern SAFE = Pattern.compile("(?!.*\\.\\.)[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
    private static final String SUFFIX = ".ckpt";
    private static final String TEMPORARY = ".tmp";

    private final Path dir;
    private final String runId;
    private final String service;

    private CheckpointFiles(Path base, String runId, String service) {
        this.runId = runId;
        this.service = service;
        this.dir = base.resolve(safe(runId, "run id")).resolve(safe(service, "service id"));
    }

    /** Where {@code service} of {@code runId} keeps its checkpoints under {@code base}. */
    public static CheckpointFiles of(Path base, String runId, String service) {
        return new CheckpointFiles(base, runId, service);
    }

    public Path path() {
        return dir;
    }

    /** A saved checkpoint and the file it came from. */
    public record Loaded(Path file, Checkpoint checkpoint) {
    }

    @Override
    public <M extends Machine> Map<String, Recovered<M>> recover(Service<M> machines, Predicate<String> belongs) {
        Map<String, Recovered<M>> out = new HashMap<>();
        for (String key : keys()) {
            if (!belongs.test(key)) {
                continue;
            }
            Recovered<M> r = resume(key, machines);
            if (r != null) {
                out.put(key, r);
            }
        }
        return out;
    }

    /**
     * {@code key}'s machine from its newest checkpoint, or from the one before when the newest is
     * damaged or intact but cannot be resumed from (another model, a state its machine refuses),
     * with one line naming the file passed over; when neither serves, the service stops naming both.
     */
    private <M extends Machine> Recovered<M> resume(String key, Service<M> machines) {
        List<Path> files = files(key);
        if (files.isEmpty()) {
            return null;
        }
        String first = null;
        String second = null;
        boolean firstDamaged = false;
        for (int i = files.size() - 1; i >= Math.max(0, files.size() - 2); i--) {
            Path file = files.get(i);
            boolean newest = i == files.size() - 1;
            Checkpoint c;
            M m;
            try {
                c = read(file, key);
                m = machines.restore(key, c.getState());
            } catch (DamagedException e) {
                if (newest) {
                    first = "checkpoint " + file + " is damaged (" + e.getMessage() + ")";
                    firstDamaged = true;
                } else {
                    second = (firstDamaged ? "so is the one before it, " : "the one before it is damaged, ") + file.getFileName()
                        + " (" + e.getMessage() + ")";
                }
                continue;
            } catch (RuntimeException e) {
                if (newest) {
                    first = "checkpoint " + file + " cannot be resumed from (" + e.getMessage() + ")";
                } else {
                    second = "the one before it, " + file.getFileName() + ", cannot be resumed from (" + e.getMessage() + ")";
                }
                continue;
            }
            if (first != null) {
                LOG.warn("{}: {}; falling back to {}", service, first, file.getFileName());
            }
            return new Recovered<>(m, new Positions(c.getPositionsMap(), c.getRecords()), c.getOutboxList());
        }
        throw new UnusableCheckpointException(first + (second != null ? ", and " + second
            : " and there is no earlier one to fall back to"));
    }

    @Override
    public void record(Handled h) {
        Message state = h.machine().state();
        if (state == null) {
            return; // nothing to keep yet (an input for a student never admitted here)
        }
        write(h.key(), Checkpoint.newBuilder().setFormat(FORMAT).setRunId(runId).setService(service).setKey(h.key())
            .setRecords(h.covered().records()).putAllPositions(h.covered().asMap()).addAllOutbox(h.outbox())
            .setState(Any.pack(state)).build());
    }

    /** The keys that have a checkpoint here, sorted. */
    public List<String> keys() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                .filter(k -> !files(k).isEmpty()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The newest usable checkpoint of {@code key}, or empty if it has none. A damaged newest file
     * falls back to the one before it; when nothing is usable, the service cannot resume and is told why.
     */
    public Optional<Loaded> load(String key) {
        List<Path> files = files(key);
        if (files.isEmpty()) {
            return Optional.empty();
        }
        Path newest = files.get(files.size() - 1);
        String damage;
        try {
            return Optional.of(new Loaded(newest, read(newest, key)));
        } catch (DamagedException e) {
            damage = e.getMessage();
        }
        if (files.size() < 2) {
            throw new UnusableCheckpointException("checkpoint " + newest + " is damaged (" + damage + ") and there is no "
                + "earlier one to fall back to");
        }
        Path previous = files.get(files.size() - 2);
        LOG.warn("{}: checkpoint {} is damaged ({}); falling back to {}", service, newest, damage, previous.getFileName());
        try {
            return Optional.of(new Loaded(previous, read(previous, key)));
        } catch (DamagedException e) {
            throw new UnusableCheckpointException("checkpoint " + newest + " is damaged (" + damage + "), and so is the one "
                + "before it, " + previous.getFileName() + " (" + e.getMessage() + ")");
        }
    }

    /** Writes {@code key}'s checkpoint durably (file and directory fsync'd), then removes all but it and the one before. */
    public void write(String key, Checkpoint c) {
        Path keyDir = dir.resolve(safe(key, "key"));
        Path file = keyDir.resolve(String.format("%019d", c.getRecords()) + SUFFIX);
        byte[] body = c.toByteArray();
        byte[] stored = StoredCheckpoint.newBuilder().setCheckpoint(ByteString.copyFrom(body))
            .setSha256(ByteString.copyFrom(sha256(body))).build().toByteArray();
        try {
            createDurably(keyDir);
            Path tmp = keyDir.resolve(file.getFileName() + TEMPORARY);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(stored);
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(keyDir);
            prune(key, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e, e);
        }
    }

    private void prune(String key, Path written) throws IOException {
        List<Path> files = files(key);
        int keep = files.indexOf(written);
        // Everything older than the one before the newest goes; so do temporary files a crash left.
        for (int i = 0; i < keep - 1; i++) {
            Files.deleteIfExists(files.get(i));
        }
        try (Stream<Path> entries = Files.list(written.getParent())) {
            for (Path p : entries.filter(p -> p.getFileName().toString().endsWith(TEMPORARY)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Creates {@code target} and any missing parent up to the base, fsyncing each parent that gained an entry. */
    private void createDurably(Path target) throws IOException {
        if (Files.isDirectory(target)) {
            return;
        }
        List<Path> missing = new ArrayList<>();
        for (Path p = target; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path p : missing) {
            Files.createDirectories(p);
            if (p.getParent() != null) {
                fsyncDirectory(p.getParent());
            }
        }
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private Checkpoint read(Path file, String key) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DamagedException("cannot read it: " + e.getMessage());
        }
        StoredCheckpoint stored;
        try {
            stored = StoredCheckpoint.parseFrom(all);
        } catch (InvalidProtocolBufferException e) {
            throw new DamagedException("not a checkpoint: " + e.getMessage());
        }
        byte[] body = stored.getCheckpoint().toByteArray();
        if (!Arrays.equals(sha256(body), stored.getSha256().toByteArray())) {
            throw new DamagedException(all.length + " bytes whose SHA-256 does not match their content");
        }
        Checkpoint c;
        try {
            c = Checkpoint.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            throw new DamagedException("not a checkpoint: " + e.getMessage());
        }
        if (c.getFormat() != FORMAT) {
            throw new UnusableCheckpointException("checkpoint " + file + " has format " + c.getFormat() + "; this build reads "
                + FORMAT);
        }
        if (!runId.equals(c.getRunId()) || !service.equals(c.getService()) || !key.equals(c.getKey())) {
            throw new UnusableCheckpointException("checkpoint " + file + " is of " + c.getService() + "/" + c.getKey() + " in run "
                + c.getRunId() + ", not of " + service + "/" + key + " in run " + runId);
        }
        return c;
    }

    private List<Path> files(String key) {
        Path keyDir = dir.resolve(safe(key, "key"));
        if (!Files.isDirectory(keyDir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(keyDir)) {
            return entries.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + keyDir + ": " + e.getMessage(), e);
        }
    }

    private static String safe(String name, String what) {
        if (!SAFE.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name.replaceAll("[^\\x20-\\x7e]", "?") + "' cannot name a checkpoint: "
                + "use letters, digits, '_', '-' and single dots, not first");
        }
        return name;
    }

    private static byte[] sha256(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A file that is not a whole checkpoint: torn, truncated, flipped bits. */
    private static final class DamagedException extends RuntimeException {
        DamagedException(String message) {
            super(message);
        }
    }
}
