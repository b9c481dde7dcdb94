package dev.ikd.core.data;

/**
 * Which samples form the batch of step k: epochs over the pool, each a fresh seeded shuffle.
 * Any step's batch can be computed on its own, so the schedule is fixed when a student is admitted.
 */
public final class BatchSchedule {

    private final int[] pool;
    private final int batchSize;
    private final long seed;
    /** The shuffle of the epoch asked for last: steps come in order, so one epoch's shuffle serves many steps. */
    private volatile Epoch last;

    private record Epoch(long epoch, int[] order) {
    }

    public BatchSchedule(int[] pool, int batchSize, long seed) {
        if (pool.length == 0) {
            throw new IllegalArgumentException("cannot draw batches from an empty pool");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.pool = pool.clone();
        this.batchSize = batchSize;
        this.seed = seed;
    }

    public int batchSize() {
        return batchSize;
    }

    public int[] batch(long step) {
        int[] out = new int[batchSize];
        long start = step * batchSize;
        for (int i = 0; i < batchSize; i++) {
            long position = start + i;
            out[i] = pool[order(position / pool.length)[(int) (position % pool.length)]];
        }
        return out;
    }

    /** Epoch e's shuffle of the pool, computed once while steps stay in that epoch. */
    private int[] order(long epoch) {
        Epoch e = last;
        if (e == null || e.epoch() != epoch) {
            e = new Epoch(epoch, Splits.permutation(pool.length, seed * 1_000_003L + epoch));
            last = e;
        }
        return e.order();
    }
}
