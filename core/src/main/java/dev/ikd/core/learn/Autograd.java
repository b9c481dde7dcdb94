package dev.ikd.core.learn;

import java.util.function.Function;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.ikd.core.model.Params;

/**
 * Gradients of a scalar objective. DJL's {@code GradientCollector} allows one collector per JVM
 * (docs/architecture.md §10); PyTorch's grad mode, though, is per thread. So each section switches
 * grad mode on for its own thread and back-propagates directly: students, teacher and exams that
 * share a JVM take their gradients in parallel, each on its own thread and its own arrays.
 */
public final class Autograd {

    private Autograd() {
    }

    /** The objective's value at {@code at} and its gradient, as new arrays in {@code manager}. */
    public static Gradient of(Params at, NDManager manager, Function<Params, NDArray> objective) {
        return withTerms(at, manager, th -> new NDArray[] {objective.apply(th)});
    }

    /**
     * The gradient of {@code objective}'s first array, the objective; the values of the others,
     * scalar terms computed on the way (null where absent: NaN), come back in {@link Gradient#terms}.
     */
    public static Gradient withTerms(Params at, NDManager manager, Function<Params, NDArray[]> objective) {
        boolean wasOn = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try (NDManager scope = manager.newSubManager()) {
            Params leaves = at.requiringGradient(scope);
            NDArray[] all = objective.apply(leaves);
            NDArray loss = all[0];
            try (NDArray seed = scope.ones(loss.getShape(), loss.getDataType())) {
                JniUtils.backward((PtNDArray) loss, (PtNDArray) seed, false, false);
            } catch (EngineException e) {
                if (!String.valueOf(e.getMessage()).contains("does not require grad")) {
                    throw e;
                }
                // The objective does not depend on these parameters (IAKD swapped every stage): zero gradient.
                return new Gradient(scalar(loss), at.map((k, v) -> manager.zeros(v.getShape(), v.getDataType())), terms(all));
            }
            // Values are read once the graph is done with, from a detached copy.
            return new Gradient(scalar(loss), leaves.gradients(manager), terms(all));
        } finally {
            JniUtils.setGradMode(wasOn);
        }
    }

    private static double scalar(NDArray a) {
        try (NDArray detached = a.stopGradient(); NDArray f64 = detached.toType(DataType.FLOAT64, true)) {
            return f64.toDoubleArray()[0];
        }
    }

    private static double[] terms(NDArray[] all) {
        double[] terms = new double[all.length - 1];
        for (int i = 1; i < all.length; i++) {
            terms[i - 1] = all[i] == null ? Double.NaN : scalar(all[i]);
        }
        return terms;
    }

    /** An objective's value, its gradient with respect to each parameter, and the terms reported beside it. */
    public record Gradient(double value, Params gradient, double[] terms) {
    }
}
