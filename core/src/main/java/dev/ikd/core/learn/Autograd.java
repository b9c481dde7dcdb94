package dev.ikd.core.learn;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.ikd.core.model.Params;

/**
 * Gradients of a scalar objective. DJL's PyTorch engine allows one collecting GradientCollector per
 * JVM (docs/architecture.md §10), so every gradient section in a process takes this one lock: teacher and
 * students sharing a JVM ({@code ikd local}) then never collide. Forward-only work needs no lock.
 */
public final class Autograd {

    private static final ReentrantLock COLLECTOR = new ReentrantLock();

    private Autograd() {
    }

    /** The objective's value at {@code at} and its gradient, as new arrays in {@code manager}. */
    public static Gradient of(Params at, NDManager manager, Function<Params, NDArray> objective) {
        COLLECTOR.lock();
        try (NDManager scope = manager.newSubManager()) {
            Params leaves = at.requiringGradient(scope);
            NDArray loss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                loss = objective.apply(leaves);
                try {
                    collector.backward(loss);
                } catch (EngineException e) {
                    if (!String.valueOf(e.getMessage()).contains("does not require grad")) {
                        throw e;
                    }
                    // The objective does not depend on these parameters (IAKD swapped every stage): zero gradient.
                    return new Gradient(scalar(loss), at.map((k, v) -> manager.zeros(v.getShape(), v.getDataType())));
                }
            }
            // Values are read once the graph is done with, from a detached copy.
            return new Gradient(scalar(loss), leaves.gradients(manager));
        } finally {
            COLLECTOR.unlock();
        }
    }

    private static double scalar(NDArray a) {
        try (NDArray detached = a.stopGradient(); NDArray f64 = detached.toType(DataType.FLOAT64, true)) {
            return f64.toDoubleArray()[0];
        }
    }

    /** An objective's value and its gradient with respect to each parameter. */
    public record Gradient(double value, Params gradient) {
    }
}
