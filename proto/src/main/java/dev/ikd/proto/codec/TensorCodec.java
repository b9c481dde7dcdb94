package dev.ikd.proto.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.protobuf.ByteString;
import dev.ikd.proto.v1.Tensor;

/**
 * The one place that turns tensors into bytes and back (DESIGN §4): float32, little-endian, plus a
 * shape. Decoding checks everything a sender could get wrong and says which part is wrong.
 */
public final class TensorCodec {

    /** Whether NaN and infinities may pass: soft targets and feedback must be finite. */
    public enum Finite { REQUIRED, ALLOWED }

    private static final int MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

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
        return build(shape, ByteString.copyFrom(bytes.array()));
    }

    /** Encodes an array of any floating type as float32; the array itself is not changed. */
    public static Tensor encode(NDArray array) {
        long[] shape = array.getShape().getShape();
        elementCount(shape);
        byte[] bytes;
        if (array.getDataType() == DataType.FLOAT32) {
            bytes = array.toByteArray();
        } else {
            try (NDArray f32 = array.toType(DataType.FLOAT32, true)) {
                bytes = f32.toByteArray();
            }
        }
        // NDArray.toByteArray is little-endian on every engine DJL ships (shared/RECIPES.md).
        return build(shape, ByteString.copyFrom(bytes));
    }

    public static long[] shape(Tensor tensor) {
        long[] shape = tensor.getShapeList().stream().mapToLong(Long::longValue).toArray();
        long count = checkedCount(shape);
        long needed = count * Float.BYTES;
        if (tensor.getData().size() != needed) {
            throw new MalformedMessageException("tensor data has " + tensor.getData().size() + " bytes but shape "
                + Arrays.toString(shape) + " needs " + needed);
        }
        return shape;
    }

    public static float[] toFloats(Tensor tensor, Finite finite) {
        long[] shape = shape(tensor);
        float[] values = new float[(int) checkedCount(shape)];
        tensor.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        if (finite == Finite.REQUIRED) {
            requireFinite(values, shape);
        }
        return values;
    }

    /** Decodes into a float32 array owned by {@code manager}. */
    public static NDArray toNDArray(Tensor tensor, NDManager manager, Finite finite) {
        float[] values = toFloats(tensor, finite);
        return manager.create(values, new Shape(shape(tensor)));
    }

    private static Tensor build(long[] shape, ByteString data) {
        var builder = Tensor.newBuilder().setData(data);
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

    private static void requireFinite(float[] values, long[] shape) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new MalformedMessageException("tensor element " + Arrays.toString(unravel(i, shape)) + " is "
                    + values[i] + "; finite values required");
            }
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
