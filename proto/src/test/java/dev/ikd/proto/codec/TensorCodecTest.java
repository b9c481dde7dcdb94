package dev.ikd.proto.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.protobuf.ByteString;
import dev.ikd.proto.codec.TensorCodec.Finite;
import dev.ikd.proto.v1.Tensor;
import org.junit.jupiter.api.Test;

class TensorCodecTest {

    @Test
    void floatsRoundTripBitForBit() {
        var random = new Random(7);
        float[] values = new float[3 * 5];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.intBitsToFloat(random.nextInt() & 0x7f7fffff); // finite, every bit pattern class
        }
        Tensor t = TensorCodec.encode(values, 3, 5);
        assertThat(t.getShapeList()).containsExactly(3L, 5L);
        assertThat(t.getData().size()).isEqualTo(values.length * 4);
        assertThat(TensorCodec.toFloats(t, Finite.REQUIRED)).containsExactly(values);
    }

    @Test
    void bytesAreLittleEndianFloat32() {
        Tensor t = TensorCodec.encode(new float[] {1.0f, -2.5f}, 2);
        ByteBuffer expected = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.0f).putFloat(-2.5f);
        assertThat(t.getData().toByteArray()).containsExactly(expected.array());
    }

    @Test
    void ndArraysRoundTripIncludingFloat64Input() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.randomNormal(new Shape(4, 3));
            NDArray back = TensorCodec.toNDArray(TensorCodec.encode(a), manager, Finite.REQUIRED);
            assertThat(back.getShape()).isEqualTo(a.getShape());
            assertThat(back.toFloatArray()).containsExactly(a.toFloatArray());

            NDArray d = manager.create(new double[] {0.1, 0.2, 0.3}, new Shape(1, 3));
            assertThat(d.getDataType()).isEqualTo(DataType.FLOAT64);
            NDArray f = TensorCodec.toNDArray(TensorCodec.encode(d), manager, Finite.REQUIRED);
            assertThat(f.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(f.toFloatArray()).containsExactly(0.1f, 0.2f, 0.3f);
        }
    }

    @Test
    void emptyAndScalarShapesAreFine() {
        assertThat(TensorCodec.toFloats(TensorCodec.encode(new float[0], 0, 10), Finite.REQUIRED)).isEmpty();
        assertThat(TensorCodec.toFloats(TensorCodec.encode(new float[] {3f}), Finite.REQUIRED)).containsExactly(3f);
    }

    @Test
    void byteLengthNotMatchingShapeIsNamed() {
        Tensor t = Tensor.newBuilder().addShape(2).addShape(3).setData(ByteString.copyFrom(new byte[20])).build();
        assertThatThrownBy(() -> TensorCodec.toFloats(t, Finite.ALLOWED))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessage("tensor data has 20 bytes but shape [2, 3] needs 24");
    }

    @Test
    void negativeDimensionIsNamed() {
        Tensor t = Tensor.newBuilder().addShape(2).addShape(-3).build();
        assertThatThrownBy(() -> TensorCodec.toFloats(t, Finite.ALLOWED))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessage("tensor dimension 1 is negative (-3) in shape [2, -3]");
    }

    @Test
    void overflowingShapeIsNamed() {
        Tensor t = Tensor.newBuilder().addShape(1L << 40).addShape(1L << 40).build();
        assertThatThrownBy(() -> TensorCodec.toFloats(t, Finite.ALLOWED))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessageContaining("overflows");
        Tensor big = Tensor.newBuilder().addShape(1L << 20).addShape(1L << 20).build();
        assertThatThrownBy(() -> TensorCodec.toFloats(big, Finite.ALLOWED))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessageContaining("more than the");
    }

    @Test
    void nonFiniteValuesAreRefusedWhereForbiddenWithTheirIndex() {
        Tensor nan = TensorCodec.encode(new float[] {0f, 1f, 2f, Float.NaN}, 2, 2);
        assertThatThrownBy(() -> TensorCodec.toFloats(nan, Finite.REQUIRED))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessage("tensor element [1, 1] is NaN; finite values required");
        Tensor inf = TensorCodec.encode(new float[] {Float.NEGATIVE_INFINITY}, 1);
        assertThatThrownBy(() -> TensorCodec.toFloats(inf, Finite.REQUIRED))
            .hasMessage("tensor element [0] is -Infinity; finite values required");
        assertThat(TensorCodec.toFloats(nan, Finite.ALLOWED)[3]).isNaN();
    }

    @Test
    void encodingChecksTheCallersShape() {
        assertThatThrownBy(() -> TensorCodec.encode(new float[5], 2, 3))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("shape [2, 3] holds 6 elements, got 5");
    }
}
