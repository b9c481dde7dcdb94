package dev.ikd.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Tensors that own their memory. In DJL's PyTorch engine {@code NDManager.create} wraps a direct
 * buffer (from_blob), {@code toType} to the same type returns the same storage, and {@code copyTo}
 * goes through {@code set(toByteBuffer())}, which for a direct buffer over another tensor's memory
 * is not a dependable copy: with it, about one float64 gradient check in eight run from the command
 * line read garbage (NaN or an error of 1.0). {@code duplicate()} is torch's clone: a real copy.
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
