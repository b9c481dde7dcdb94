package dev.ikd.core.text;

import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;

/**
 * What a language-model run's services compute at step k, as pure functions of the run's seed and k,
 * so that a student and its teacher on different machines, or either one started again from a
 * checkpoint, take the very batches and draws {@link LmKd#train} takes one after another in process.
 */
public final class LmSteps {

    /** The stream of a student's quiz batches is its seed with these bits flipped (the course batches use the seed itself). */
    public static final long QUIZ_STREAM = 0x5DEECE66DL;

    private LmSteps() {
    }

    /**
     * Step k's batch of {@code batch} sequences from the stream {@code seed}: the (k+1)-th of the
     * batches drawn one after another from {@code new SplittableRandom(seed)}.
     */
    public static int[][] batch(int[][] sequences, int batch, long seed, long k) {
        if (sequences == null || sequences.length == 0) {
            throw new IllegalArgumentException("no sequences to draw a batch from (a split shorter than one sequence)");
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < k * batch; i++) {
            random.nextInt(sequences.length);
        }
        return draw(sequences, batch, random);
    }

    static int[][] draw(int[][] sequences, int batch, SplittableRandom random) {
        if (sequences == null || sequences.length == 0) {
            throw new IllegalArgumentException("no sequences to draw a batch from (a split shorter than one sequence)");
        }
        int[][] part = new int[batch][];
        for (int i = 0; i < batch; i++) {
            part[i] = sequences[random.nextInt(sequences.length)];
        }
        return part;
    }

    /** The seed of step k's {@code sample:N} draws for the student of {@code seed}. */
    public static long sampleSeed(long seed, long k) {
        return seed * 1_000_003L + k;
    }

    /** The teacher's soft targets softmax(u/T) over its logits u on {@code input} [N, L]: [N, L, V]. */
    public static NDArray probabilities(CausalTransformer teacher, Params phi, NDArray input, double temperature) {
        NDArray u = teacher.logits(phi, input);
        return u.div(Tensors.scalar(u, temperature)).softmax(-1);
    }

    /** An exam of the model at {@code p} on {@code quiz} [N, L+1]: the mean next-token cross-entropy and the share of next tokens it ranks first. */
    public static double[] exam(CausalTransformer model, Params p, NDArray quiz) {
        long l = quiz.getShape().get(1) - 1;
        NDArray logits = model.logits(p, quiz.get(":, 0:" + l));
        return new double[] {LmTraining.loss(logits, quiz).toType(DataType.FLOAT64, false).getDouble(),
            ranked(logits, quiz).getDouble()};
    }

    /** The share of the next tokens of {@code sequences} [N, L+1] that the logits [N, L, V] on their first L tokens rank first. */
    static NDArray ranked(NDArray logits, NDArray sequences) {
        NDArray next = sequences.get(":, 1:").toType(DataType.INT64, false);
        return logits.argMax(-1).toType(DataType.INT64, false).eq(next).toType(DataType.FLOAT64, false).mean();
    }
}
