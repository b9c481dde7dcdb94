package dev.ikd.core.text;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.learn.Autograd;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;

/**
 * A language model learning on its own (groundwork: how a teacher is pretrained on a corpus): the
 * next-token cross-entropy of token sequences ({@link LmCorpus#sequences}), Adam on it, and
 * perplexity, exp of the mean cross-entropy per predicted token.
 */
public final class LmTraining {

    private LmTraining() {
    }

    /** Mean next-token cross-entropy of sequences [N, L+1]: the model reads the first L tokens of each. */
    public static NDArray loss(CausalTransformer model, Params p, NDArray sequences) {
        long l = sequences.getShape().get(1) - 1;
        return loss(model.logits(p, sequences.get(":, 0:" + l)), sequences);
    }

    /** The same from the model's logits [N, L, V] on the first L tokens of {@code sequences}. */
    static NDArray loss(NDArray logits, NDArray sequences) {
        long n = sequences.getShape().get(0);
        long l = sequences.getShape().get(1) - 1;
        NDArray logp = logits.logSoftmax(-1);
        NDArray next = sequences.get(":, 1:").toType(DataType.INT64, false).expandDims(-1);
        return logp.gather(next, -1).neg().sum().div(Tensors.scalar(logp, (double) n * l));
    }

    /** exp of the mean next-token cross-entropy over every sequence, {@code batch} at a time. */
    public static double perplexity(CausalTransformer model, Params p, int[][] sequences, int batch, NDManager manager) {
        return evaluate(model, p, sequences, batch, manager)[0];
    }

    /**
     * {@link #perplexity} and the share of next tokens the model ranks first, in one pass over the
     * sequences, {@code batch} at a time.
     */
    public static double[] evaluate(CausalTransformer model, Params p, int[][] sequences, int batch, NDManager manager) {
        double total = 0;
        double right = 0;
        long tokens = 0;
        for (int from = 0; from < sequences.length; from += batch) {
            int[][] part = Arrays.copyOfRange(sequences, from, Math.min(sequences.length, from + batch));
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = batchOf(part, scope);
                long l = x.getShape().get(1) - 1;
                NDArray logits = model.logits(p, x.get(":, 0:" + l));
                double mean = loss(logits, x).toType(DataType.FLOAT64, false).getDouble();
                long predicted = (long) part.length * (part[0].length - 1);
                NDArray next = x.get(":, 1:").toType(DataType.INT64, false);
                right += logits.argMax(-1).toType(DataType.INT64, false).eq(next).toType(DataType.FLOAT64, false).sum().getDouble();
                total += mean * predicted;
                tokens += predicted;
            }
        }
        return new double[] {Math.exp(total / tokens), right / tokens};
    }

    /**
     * {@code steps} Adam steps (β 0.9 and 0.999) on batches of {@code batch} sequences drawn with
     * {@code seed}; the parameters learned, in {@code manager}.
     */
    public static Params adam(CausalTransformer model, Params start, int[][] sequences, long steps, int batch, double lr, long seed,
                              NDManager manager) {
        if (sequences.length == 0) {
            throw new IllegalArgumentException("no sequences to learn from: the corpus is shorter than one sequence");
        }
        SplittableRandom random = new SplittableRandom(seed);
        Params p = start.copy(manager);
        Map<String, NDArray> m = new LinkedHashMap<>();
        Map<String, NDArray> v = new LinkedHashMap<>();
        for (String name : p.names()) {
            m.put(name, manager.zeros(p.get(name).getShape(), p.get(name).getDataType()));
            v.put(name, manager.zeros(p.get(name).getShape(), p.get(name).getDataType()));
        }
        for (long step = 1; step <= steps; step++) {
            int[][] part = new int[batch][];
            for (int i = 0; i < batch; i++) {
                part[i] = sequences[random.nextInt(sequences.length)];
            }
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = batchOf(part, scope);
                Params g = Autograd.of(p, scope, th -> loss(model, th, x)).gradient();
                double c1 = 1 - Math.pow(0.9, step);
                double c2 = 1 - Math.pow(0.999, step);
                Map<String, NDArray> next = new LinkedHashMap<>();
                for (String name : p.names()) {
                    NDArray gi = g.get(name);
                    // Every new array is made in this step's scope (an op's result belongs to its first operand's
                    // manager), the three that live on moved to the run's, and the step before's closed.
                    NDArray mi = gi.mul(0.1).add(Tensors.scaled(m.get(name), 0.9, scope));
                    NDArray vi = gi.square().mul(0.001).add(Tensors.scaled(v.get(name), 0.999, scope));
                    NDArray update = mi.div(c1).div(vi.div(c2).sqrt().add(1e-8)).mul(lr);
                    NDArray moved = update.neg().add(p.get(name));
                    for (NDArray a : new NDArray[] {mi, vi, moved}) {
                        a.attach(manager);
                    }
                    m.put(name, mi).close();
                    v.put(name, vi).close();
                    next.put(name, moved);
                }
                p.close(); // a copy: the start stays the caller's
                p = new Params(next);
            }
        }
        return p;
    }

    /** Sequences as a [N, L+1] int64 array. */
    public static NDArray batchOf(int[][] sequences, NDManager manager) {
        long[] flat = new long[sequences.length * sequences[0].length];
        for (int i = 0; i < sequences.length; i++) {
            for (int j = 0; j < sequences[i].length; j++) {
                flat[i * sequences[0].length + j] = sequences[i][j];
            }
        }
        return manager.create(flat, new Shape(sequences.length, sequences[0].length));
    }
}
