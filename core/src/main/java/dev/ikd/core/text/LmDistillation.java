package dev.ikd.core.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.Tensors;

/**
 * The distillation losses of a language-model student on DJL (groundwork): per position, over the
 * student's logits z [N, T, V] at temperature T, against the teacher's soft targets as they travel
 * (see {@code core/learn/SparseTargets} for the math and its reference in double).
 */
public final class LmDistillation {

    private LmDistillation() {
    }

    /**
     * Top-K with a tail bucket: {@code −Σ_S p_j log q_j − t log(1 − Σ_S q_j)}, q = softmax(z/T),
     * averaged over positions. {@code ids} [N, T, K] (int64), {@code probs} [N, T, K], {@code tail} [N, T].
     */
    public static NDArray topK(NDArray logits, NDArray ids, NDArray probs, NDArray tail, double temperature) {
        NDArray logq = logits.div(Tensors.scalar(logits, temperature)).logSoftmax(-1);
        NDArray onSupport = logq.gather(ids.toType(DataType.INT64, false), -1);
        NDArray kept = probs.mul(onSupport).sum(new int[] {-1});
        // The student's mass off the support, kept off 0 (a support of every token leaves none: its tail is 0 then).
        NDArray rest = onSupport.exp().sum(new int[] {-1}).neg().add(Tensors.scalar(logq, 1))
            .maximum(Tensors.scalar(logq, Float.MIN_NORMAL)).log();
        NDArray perPosition = kept.add(tail.mul(rest)).neg();
        return perPosition.mean();
    }

    /** Dense soft targets p [N, T, V]: {@code −Σ_c p_c log q_c} averaged over positions. */
    public static NDArray dense(NDArray logits, NDArray p, double temperature) {
        NDArray logq = logits.div(Tensors.scalar(logits, temperature)).logSoftmax(-1);
        return p.mul(logq).sum(new int[] {-1}).neg().mean();
    }
}
