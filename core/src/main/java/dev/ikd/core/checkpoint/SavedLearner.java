package dev.ikd.core.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.channels.FileChannel;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;

/**
 * A learner's saved state: named parameter groups (parameters, optimizer velocity, ...), the step
 * it covers, the seed its randomness derives from (every draw is a function of seed and step, so
 * seed + step is the whole RNG state) and free-form metadata. Written atomically (temp file fsync'd,
 * renamed, directory fsync'd), checked on load: a truncated, corrupted or mismatched file is refused with the reason.
 */
public record SavedLearner(long step, long seed, Map<String, String> metadata, Map<String, Params> groups) {

    private static final int MAGIC = 0x494B4443; // "IKDC"
    private static final int VERSION = 1;

    /** SHA-256 of group {@code name}'s parameters, as {@link Params#sha256} computes it. */
    public String parameterHash(String name) {
        return group(name).sha256();
    }

    public Params group(String name) {
        Params p = groups.get(name);
        if (p == null) {
            throw new CheckpointException("checkpoint has no '" + name + "' group; it has " + groups.keySet());
        }
        return p;
    }

    public void write(Path file) {
        try {
            var body = new ByteArrayOutputStream();
            try (var out = new DataOutputStream(body)) {
                out.writeInt(MAGIC);
                out.writeInt(VERSION);
                out.writeLong(step);
                out.writeLong(seed);
                out.writeInt(metadata.size());
                for (var e : metadata.entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeUTF(e.getValue());
                }
                out.writeInt(groups.size());
                for (var g : groups.entrySet()) {
                    out.writeUTF(g.getKey());
                    out.writeUTF(g.getValue().sha256());
                    out.writeInt(g.getValue().names().size());
                    for (var p : g.getValue().asMap().entrySet()) {
                        NDArray a = p.getValue();
                        out.writeUTF(p.getKey());
                        out.writeUTF(a.getDataType().name());
                        long[] shape = a.getShape().getShape();
                        out.writeInt(shape.length);
                        for (long d : shape) {
                            out.writeLong(d);
                        }
                        byte[] bytes = a.toByteArray();
                        out.writeInt(bytes.length);
                        out.write(bytes);
                    }
                }
            }
            byte[] content = body.toByteArray();
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer all = ByteBuffer.allocate(content.length + 32).put(content).put(sha256(content)).flip();
                while (all.hasRemaining()) {
                    ch.write(all);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // the rename itself survives a power loss
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads and verifies a checkpoint; its arrays belong to {@code manager}. */
    public static SavedLearner read(Path file, NDManager manager) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
        if (all.length < 32 + 8) {
            throw new CheckpointException("checkpoint " + file + " is truncated (" + all.length + " bytes)");
        }
        byte[] content = Arrays.copyOf(all, all.length - 32);
        if (!Arrays.equals(sha256(content), Arrays.copyOfRange(all, all.length - 32, all.length))) {
            throw new CheckpointException("checkpoint " + file + " is corrupted: its SHA-256 does not match its content");
        }
        try (var in = new DataInputStream(new java.io.ByteArrayInputStream(content))) {
            if (in.readInt() != MAGIC) {
                throw new CheckpointException(file + " is not an ikd checkpoint");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new CheckpointException("checkpoint " + file + " has format version " + version + "; this build reads " + VERSION);
            }
            long step = in.readLong();
            long seed = in.readLong();
            Map<String, String> metadata = new LinkedHashMap<>();
            int m = in.readInt();
            for (int i = 0; i < m; i++) {
                metadata.put(in.readUTF(), in.readUTF());
            }
            Map<String, Params> groups = new LinkedHashMap<>();
            int g = in.readInt();
            for (int i = 0; i < g; i++) {
                String name = in.readUTF();
                String expectedHash = in.readUTF();
                int n = in.readInt();
                Map<String, NDArray> arrays = new LinkedHashMap<>();
                for (int j = 0; j < n; j++) {
                    String pname = in.readUTF();
                    DataType type = DataType.valueOf(in.readUTF());
                    long[] shape = new long[in.readInt()];
                    for (int d = 0; d < shape.length; d++) {
                        shape[d] = in.readLong();
                    }
                    byte[] bytes = in.readNBytes(in.readInt());
                    try (NDArray wrapped = manager.create(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), new Shape(shape), type)) {
                        arrays.put(pname, Tensors.copy(wrapped, type, manager));
                    }
                }
                Params params = new Params(arrays);
                if (!params.sha256().equals(expectedHash)) {
                    throw new CheckpointException("checkpoint " + file + ": group '" + name + "' does not hash to its recorded SHA-256");
                }
                groups.put(name, params);
            }
            return new SavedLearner(step, seed, metadata, groups);
        } catch (IOException | RuntimeException e) {
            if (e instanceof CheckpointException ce) {
                throw ce;
            }
            throw new CheckpointException("checkpoint " + file + " is malformed: " + e.getMessage(), e);
        }
    }

    /** Refuses parameters that do not fit {@code expected} (another model), naming the first difference. */
    public static void requireSameLayout(Path file, Params found, Params expected) {
        String difference = found.layoutDifference(expected);
        if (difference != null) {
            throw new CheckpointException("checkpoint " + file + " is for a different model: " + difference);
        }
    }

    private static byte[] sha256(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
