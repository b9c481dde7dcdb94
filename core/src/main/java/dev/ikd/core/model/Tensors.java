package dev.ikd.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Tensors that own their memory. {@code NDManager.create} wraps a direct buffer (from_blob) and
 * {@code toType} to the same type returns the same storage; a tensor that lives on goes through
 * here so that PyTorch owns it outright ({@code duplicate()} is torch's clone). Scalars for
 * differentiable code come from {@link #scalar}.
 */
public final class Tensors {

    private Tensors() {
    }

    public static NDArray of(NDManager manager, double[] values, Shape shape, DataType type) {
        try (NDArray wrapped = manager.create(values, shape)) {
            return owned(wrapped, type, manager);
        }
    }

    public static NDArray of(NDManager manager, float[] values, Shape shape, DataType type) {
        try (NDArray wrapped = manager.create(values, shape)) {
            return owned(wrapped, type, manager);
        }
    }

    /**
     * A 0-d tensor holding {@code value}, of {@code like}'s type, owned by PyTorch. Use it instead
     * of {@code NDArray.div(Number)} and friends in anything autograd differentiates: DJL wraps the
     * number in a tensor over a direct buffer and closes it after the op, but autograd keeps that
     * tensor for the backward pass, which then reads memory the garbage collector has freed (about
     * one gradient check in ten came out NaN; none with the collector switched off).
     */
    public static NDArray scalar(NDArray like, double value) {
        return of(like.getManager(), new double[] {value}, new Shape(), like.getDataType());
    }

    /**
     * {@code a * factor}, owned by {@code manager}. DJL attaches an op's result to its first
     * operand's manager; scaling a long-lived array (θ, a velocity) without this would leave one
     * array per step behind in that array's manager.
     */
    public static NDArray scaled(NDArray a, double factor, NDManager manager) {
        NDArray r = a.mul(factor);
        r.attach(manager);
        return r;
    }

    /** A deep copy of {@code a}, converted to {@code type}, owned by {@code manager}. */
    public static NDArray copy(NDArray a, DataType type, NDManager manager) {
        return owned(a, type, manager);
    }

    private static NDArray owned(NDArray a, DataType type, NDManager manager) {
        NDArray copy;
        if (a.getDataType() == type) {
            copy = a.duplicate();
        } else {
            copy = a.toType(type, false); // a conversion always allocates
        }
        copy.attach(manager);
        return copy;
    }
}
