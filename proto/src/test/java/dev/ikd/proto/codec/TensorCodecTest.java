package dev.ikd.proto.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import com.google.protobuf.ByteString;
import dev.ikd.proto.codec.TensorCodec.Finite;
import dev.ikd.proto.v1.DType;
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
    void doublesRoundTripBitForBitAsFloat64() {
        var random = new Random(11);
        double[] values = new double[4 * 3];
        for (int i = 0; i < values.length; i++) {
            values[i] = Double.longBitsToDouble(random.nextLong() & 0x7fefffffffffffffL);
        }
        Tensor t = TensorCodec.encode(values, 4, 3);
        assertThat(t.getDtype()).isEqualTo(DType.FLOAT64);
        assertThat(t.getData().size()).isEqualTo(values.length * 8);
        assertThat(TensorCodec.toDoubles(t, Finite.REQUIRED)).containsExactly(values);
    }

    @Test
    void aTensorOfTheOtherTypeIsRefusedByName() {
        assertThatThrownBy(() -> TensorCodec.toFloats(TensorCodec.encode(new double[] {1}, 1), Finite.ALLOWED))
            .isInstanceOf(MalformedMessageException.class).hasMessage("tensor is FLOAT64; FLOAT32 expected");
        assertThatThrownBy(() -> TensorCodec.toDoubles(TensorCodec.encode(new float[] {1}, 1), Finite.ALLOWED))
            .isInstanceOf(MalformedMessageException.class).hasMessage("tensor is FLOAT32; FLOAT64 expected");
        Tensor unknown = TensorCodec.encode(new float[] {1}, 1).toBuilder().setDtypeValue(7).build();
        assertThatThrownBy(() -> TensorCodec.toFloats(unknown, Finite.ALLOWED))
            .isInstanceOf(MalformedMessageException.class).hasMessage("tensor has an unknown element type (7)");
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
