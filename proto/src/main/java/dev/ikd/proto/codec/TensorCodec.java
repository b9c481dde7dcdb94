package dev.ikd.proto.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import com.google.protobuf.ByteString;
import dev.ikd.proto.v1.DType;
import dev.ikd.proto.v1.Tensor;

/**
 * The one place that turns tensors into bytes and back (docs/architecture.md §4): little-endian
 * values plus a shape; float32 between services, float64 too in checkpoints. Decoding checks
 * everything a sender could get wrong and says which part is wrong.
 */
public final class TensorCodec {

    /** Whether NaN and infinities may pass: soft targets and feedback must be finite. */
    public enum Finite { REQUIRED, ALLOWED }

    private static final int MAX_ELEMENTS = Integer.MAX_VALUE / Double.BYTES;

    private TensorCodec() {
    }

    public static Tensor encode(float[] values, long... shape) {
        long count = elementCount(shape);
        if (count != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                + " elements, got " + values.length);
        }
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return build(shape, ByteString.copyFrom(bytes.array()), DType.FLOAT32);
    }

    /** A float64 tensor: for state that must come back bit for bit in the type it was kept in. */
    public static Tensor encode(double[] values, long... shape) {
        long count = elementCount(shape);
        if (count != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                + " elements, got " + values.length);
        }
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asDoubleBuffer().put(values);
        return build(shape, ByteString.copyFrom(bytes.array()), DType.FLOAT64);
    }

    /** The shape, once the data is checked to hold exactly that many elements of the tensor's type. */
    public static long[] shape(Tensor tensor) {
        long[] shape = tensor.getShapeList().stream().mapToLong(Long::longValue).toArray();
        long count = checkedCount(shape);
        int width = switch (tensor.getDtype()) {
            case FLOAT32 -> Float.BYTES;
            case FLOAT64 -> Double.BYTES;
            case UNRECOGNIZED -> throw new MalformedMessageException("tensor has an unknown element type ("
                + tensor.getDtypeValue() + ")");
        };
        long needed = count * width;
        if (tensor.getData().size() != needed) {
            throw new MalformedMessageException("tensor data has " + tensor.getData().size() + " bytes but shape "
                + Arrays.toString(shape) + " needs " + needed);
        }
        return shape;
    }

    /** A float32 tensor's values; anything else is refused (what services send each other is float32). */
    public static float[] toFloats(Tensor tensor, Finite finite) {
        long[] shape = shape(tensor);
        if (tensor.getDtype() != DType.FLOAT32) {
            throw new MalformedMessageException("tensor is " + tensor.getDtype() + "; FLOAT32 expected");
        }
        float[] values = new float[(int) checkedCount(shape)];
        tensor.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        if (finite == Finite.REQUIRED) {
            for (int i = 0; i < values.length; i++) {
                requireFinite(values[i], i, shape);
            }
        }
        return values;
    }

    /** A float64 tensor's values; anything else is refused. */
    public static double[] toDoubles(Tensor tensor, Finite finite) {
        long[] shape = shape(tensor);
        if (tensor.getDtype() != DType.FLOAT64) {
            throw new MalformedMessageException("tensor is " + tensor.getDtype() + "; FLOAT64 expected");
        }
        double[] values = new double[(int) checkedCount(shape)];
        tensor.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(values);
        if (finite == Finite.REQUIRED) {
            for (int i = 0; i < values.length; i++) {
                requireFinite(values[i], i, shape);
            }
        }
        return values;
    }

    private static Tensor build(long[] shape, ByteString data, DType type) {
        var builder = Tensor.newBuilder().setData(data).setDtype(type);
        for (long d : shape) {
            builder.addShape(d);
        }
        return builder.build();
    }

    private static long elementCount(long[] shape) {
        try {
            return checkedCount(shape);
        } catch (MalformedMessageException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static long checkedCount(long[] shape) {
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new MalformedMessageException("tensor dimension " + i + " is negative (" + shape[i] + ") in shape "
                    + Arrays.toString(shape));
            }
            try {
                count = Math.multiplyExact(count, shape[i]);
            } catch (ArithmeticException e) {
                throw new MalformedMessageException("tensor shape " + Arrays.toString(shape) + " overflows a 64-bit element count");
            }
        }
        if (count > MAX_ELEMENTS) {
            throw new MalformedMessageException("tensor shape " + Arrays.toString(shape) + " has " + count
                + " elements, more than the " + MAX_ELEMENTS + " a message can carry");
        }
        return count;
    }

    private static void requireFinite(double value, int i, long[] shape) {
        if (!Double.isFinite(value)) {
            throw new MalformedMessageException("tensor element " + Arrays.toString(unravel(i, shape)) + " is "
                + (Double.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity") + "; finite values required");
        }
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] index = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }
}
