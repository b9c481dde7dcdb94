package dev.ikd.core.learn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
 * Micro-batching of the shared backbone: the first request opens a window of {@code windowMs}; the
 * requests of other students that arrive in it (up to {@code maxRequests}) run with it as one
 * batched forward, and each gets its own rows back. Calls block for at most the window plus the
 * forward. A student's requests stay in its order (each waits for its own answer). Because rows
 * are computed in batches that depend on arrival times, their float rounding can differ from a
 * forward of the request alone: within 1e-6 on the soft targets and 1e-5 on the students'
 * parameters after training (MicroBatcherTest); with micro-batching off every result is bit-exact.
 */
public final class MicroBatcher implements SharedBackbone, AutoCloseable {

    private final Network net;
    private final Params backbone;
    private final Dataset data;
    private final DataType type;
    private final long windowNanos;
    private final int maxRequests;
    private final NDManager manager;
    private final Object lock = new Object();
    private final AtomicLong forwards = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private List<Request> open;

    private record Request(int[] ids, CompletableFuture<byte[][]> rows) {
    }

    public MicroBatcher(Network net, Params backbone, Dataset data, DataType type, long windowMs, int maxRequests,
                        NDManager parent) {
        if (windowMs < 0 || maxRequests < 1) {
            throw new IllegalArgumentException("micro-batch window must be >= 0 ms and hold >= 1 request, got " + windowMs
                + " ms, " + maxRequests);
        }
        this.net = net;
        this.backbone = backbone;
        this.data = data;
        this.type = type;
        this.windowNanos = windowMs * 1_000_000L;
        this.maxRequests = maxRequests;
        this.manager = parent.newSubManager();
    }

    @Override
    public Network.Forward forward(int[] ids, NDManager out) {
        Request mine = new Request(ids.clone(), new CompletableFuture<>());
        List<Request> batch = null;
        synchronized (lock) {
            if (open == null) {
                open = new ArrayList<>();
                batch = open; // this caller leads the batch
            }
            open.add(mine);
            if (open.size() >= maxRequests) {
                lock.notifyAll();
            }
        }
        requests.incrementAndGet();
        if (batch != null) {
            lead(batch);
        }
        byte[][] rows;
        try {
            rows = mine.rows().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for a micro-batch", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the micro-batch forward failed: " + e.getCause().getMessage(), e.getCause());
        }
        int c = data.classes();
        int f = net.featureSize();
        return new Network.Forward(create(out, rows[0], ids.length, c), create(out, rows[1], ids.length, f));
    }

    /** Waits out the window (or until it is full), closes the batch, runs it and hands every request its rows. */
    private void lead(List<Request> batch) {
        long deadline = System.nanoTime() + windowNanos;
        synchronized (lock) {
            long left;
            while (batch.size() < maxRequests && (left = deadline - System.nanoTime()) > 0) {
                try {
                    lock.wait(left / 1_000_000, (int) (left % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            open = null;
        }
        try {
            int total = batch.stream().mapToInt(r -> r.ids().length).sum();
            int[] all = new int[total];
            int at = 0;
            for (Request r : batch) {
                System.arraycopy(r.ids(), 0, all, at, r.ids().length);
                at += r.ids().length;
            }
            forwards.incrementAndGet();
            try (NDManager scope = manager.newSubManager()) {
                Network.Forward fw = net.forward(backbone, data.trainFeatures(scope, all, type), Swap.NONE);
                byte[] logits = bytes(fw.logits());
                byte[] features = bytes(fw.features());
                int lw = data.classes() * type.getNumOfBytes();
                int fwidth = net.featureSize() * type.getNumOfBytes();
                at = 0;
                for (Request r : batch) {
                    int n = r.ids().length;
                    byte[] l = new byte[n * lw];
                    byte[] h = new byte[n * fwidth];
                    System.arraycopy(logits, at * lw, l, 0, l.length);
                    System.arraycopy(features, at * fwidth, h, 0, h.length);
                    r.rows().complete(new byte[][] {l, h});
                    at += n;
                }
            }
        } catch (RuntimeException e) {
            batch.forEach(r -> r.rows().completeExceptionally(e));
        }
    }

    private NDArray create(NDManager out, byte[] bytes, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
        b.put(bytes).flip();
        return out.create(b, new Shape(rows, cols), type);
    }

    private static byte[] bytes(NDArray a) {
        ByteBuffer b = a.toByteBuffer().order(ByteOrder.nativeOrder());
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }

    /** Batched forwards run so far. */
    public long forwards() {
        return forwards.get();
    }

    /** Requests served so far: requests / forwards is the mean batch, in requests. */
    public long requests() {
        return requests.get();
    }
}
