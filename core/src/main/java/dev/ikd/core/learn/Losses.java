package dev.ikd.core.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.model.Tensors;

/**
 * The losses of docs/architecture.md §2, batch-averaged over B. Constants enter as {@link Tensors#scalar}s, never
 * as {@code NDArray.op(Number)} (see there why).
 */
public final class Losses {

    private Losses() {
    }

    /** p = softmax(logits / T), row by row. */
    public static NDArray softTargets(NDArray logits, double temperature) {
        return logits.div(Tensors.scalar(logits, temperature)).softmax(1);
    }

    /** (1/B) Σ_i KL(p_i ‖ softmax(z_i / T)). */
    public static NDArray distillation(NDArray z, NDArray p, double temperature) {
        long b = z.getShape().get(0);
        NDArray logQ = z.div(Tensors.scalar(z, temperature)).logSoftmax(1);
        NDArray logP = p.maximum(Tensors.scalar(p, 1e-30)).log(); // p·log p is 0 where p is 0
        return p.mul(logP.sub(logQ)).sum().div(Tensors.scalar(z, b));
    }

    /** (1/B) Σ_i w_i CE(y_i, z_i), with w the one-hot labels times the sample's label weight (0 if unlabelled). */
    public static NDArray crossEntropy(NDArray z, NDArray weightedOneHot) {
        long b = z.getShape().get(0);
        return z.logSoftmax(1).mul(weightedOneHot).sum().div(Tensors.scalar(z, -b));
    }

    /** L_c = α T² KD + (1 − α) CE (docs/architecture.md §2). */
    public static NDArray course(NDArray z, NDArray p, NDArray weightedOneHot, double temperature, double alpha) {
        return courseTerms(z, p, weightedOneHot, temperature, alpha)[0];
    }

    /**
     * {L_c, KD}: the course loss and its distillation term KD before the weight α T² (null when α is
     * 0 and the loss has no such term), by the same operations as {@link #course}.
     */
    public static NDArray[] courseTerms(NDArray z, NDArray p, NDArray weightedOneHot, double temperature, double alpha) {
        NDArray ce = crossEntropy(z, weightedOneHot);
        if (alpha == 0) {
            return new NDArray[] {ce, null};
        }
        NDArray kd = distillation(z, p, temperature);
        return new NDArray[] {kd.mul(Tensors.scalar(z, alpha * temperature * temperature)).add(ce.mul(Tensors.scalar(z, 1 - alpha))),
            kd};
    }

    /** One-hot rows for {@code labels}; rows whose {@code labeled} flag is false are all zeros. */
    public static NDArray oneHot(NDManager manager, int[] labels, boolean[] labeled, int classes, DataType type) {
        double[] w = new double[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            if (labeled == null || labeled[i]) {
                w[i * classes + labels[i]] = 1;
            }
        }
        return Tensors.of(manager, w, new Shape(labels.length, classes), type);
    }

    public static double accuracy(NDArray logits, int[] labels) {
        long[] predicted = logits.argMax(1).toLongArray();
        int right = 0;
        for (int i = 0; i < labels.length; i++) {
            if (predicted[i] == labels[i]) {
                right++;
            }
        }
        return labels.length == 0 ? 0 : (double) right / labels.length;
    }
}
