package dev.ikd.core.learn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;

/**
 * The frozen backbone's logits and penultimate features per training sample id (docs/architecture.md §3), shared
 * by every student's teacher in the modes whose backbone does not learn (frozen, ikd-adapter,
 * pesf): a soft-target request then costs an adapter forward on cached rows, not a backbone
 * forward. Rows are computed in fixed chunks of {@link #CHUNK} consecutive ids, one batched forward
 * per chunk, so a row's bits depend on its chunk only, never on which student asked first or what
 * was evicted before. At most {@code capacity} samples are held (least recently used chunks go).
 */
public final class FeatureCache implements SharedBackbone, AutoCloseable {

    /** Samples per chunk: the batch every cached row is computed in. */
    public static final int CHUNK = 256;

    private final Network net;
    private final Params backbone;
    private final Dataset data;
    private final DataType type;
    private final int maxChunks;
    private final NDManager manager;
    private final Map<Integer, Chunk> chunks;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();

    private record Chunk(byte[] logits, byte[] features, int rows) {
    }

    /** @param capacity most samples held at once (rounded up to whole chunks, at least one) */
    public FeatureCache(Network net, Params backbone, Dataset data, DataType type, long capacity, NDManager parent) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the feature cache must hold at least 1 sample, got " + capacity);
        }
        this.net = net;
        this.backbone = backbone;
        this.data = data;
        this.type = type;
        this.maxChunks = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (capacity + CHUNK - 1) / CHUNK));
        this.manager = parent.newSubManager();
        this.chunks = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Chunk> eldest) {
                return size() > maxChunks;
            }
        };
    }

    @Override
    public Network.Forward forward(int[] ids, NDManager out) {
        int c = data.classes();
        int f = net.featureSize();
        int width = type.getNumOfBytes();
        ByteBuffer logits = ByteBuffer.allocateDirect(ids.length * c * width).order(ByteOrder.nativeOrder());
        ByteBuffer features = ByteBuffer.allocateDirect(ids.length * f * width).order(ByteOrder.nativeOrder());
        for (int id : ids) {
            if (id < 0 || id >= data.trainSize()) {
                throw new IllegalArgumentException("sample id " + id + " is outside the training set of " + data.trainSize());
            }
            Chunk chunk = chunk(id / CHUNK);
            int row = id % CHUNK;
            logits.put(chunk.logits(), row * c * width, c * width);
            features.put(chunk.features(), row * f * width, f * width);
        }
        logits.flip();
        features.flip();
        return new Network.Forward(out.create(logits, new Shape(ids.length, c), type),
            out.create(features, new Shape(ids.length, f), type));
    }

    /** Computes every chunk of the training set now (those that fit); the counters are left as they were. */
    public void fill() {
        int n = (data.trainSize() + CHUNK - 1) / CHUNK;
        for (int c = 0; c < Math.min(n, maxChunks); c++) {
            synchronized (chunks) {
                if (!chunks.containsKey(c)) {
                    chunks.put(c, compute(c));
                }
            }
        }
    }

    private Chunk chunk(int index) {
        synchronized (chunks) {
            Chunk hit = chunks.get(index);
            if (hit != null) {
                hits.incrementAndGet();
                return hit;
            }
            misses.incrementAndGet();
            Chunk computed = compute(index);
            chunks.put(index, computed);
            return computed;
        }
    }

    private Chunk compute(int index) {
        int from = index * CHUNK;
        int rows = Math.min(CHUNK, data.trainSize() - from);
        int[] ids = new int[rows];
        for (int i = 0; i < rows; i++) {
            ids[i] = from + i;
        }
        try (NDManager scope = manager.newSubManager()) {
            Network.Forward fw = net.forward(backbone, data.trainFeatures(scope, ids, type), Swap.NONE);
            return new Chunk(bytes(fw.logits()), bytes(fw.features()), rows);
        }
    }

    private static byte[] bytes(NDArray a) {
        ByteBuffer b = a.toByteBuffer().order(ByteOrder.nativeOrder());
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** Row lookups served from a chunk already held. */
    public long hits() {
        return hits.get();
    }

    /** Row lookups that had to compute their chunk. */
    public long misses() {
        return misses.get();
    }

    public double hitRate() {
        long h = hits.get();
        long total = h + misses.get();
        return total == 0 ? 0 : (double) h / total;
    }

    /** Bytes of cached rows held now. */
    public long bytes() {
        synchronized (chunks) {
            return chunks.values().stream().mapToLong(ch -> ch.logits().length + ch.features().length).sum();
        }
    }

    @Override
    public void close() {
        synchronized (chunks) {
            chunks.clear();
        }
        manager.close();
    }
}
