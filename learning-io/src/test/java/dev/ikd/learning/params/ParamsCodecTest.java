package dev.ikd.learning.params;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.model.Params;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.state.ParamGroup;
import dev.ikd.proto.v1.DType;
import org.junit.jupiter.api.Test;

class ParamsCodecTest {

    @Test
    void aGroupComesBackBitForBitInEachArraysOwnType() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            arrays.put("stage0.w", m.randomNormal(new Shape(5, 3)));
            arrays.put("stage0.b", m.randomNormal(new Shape(3)).toType(DataType.FLOAT64, false));
            arrays.put("stage1.w", m.create(new float[] {Float.NaN, 1e-38f, -0f}, new Shape(3)));
            Params p = new Params(arrays);
            ParamGroup g = ParamsCodec.group(p);
            assertThat(g.getTensors(1).getTensor().getDtype()).isEqualTo(DType.FLOAT64);
            Params back = ParamsCodec.params(g, m);
            assertThat(back.names()).containsExactly("stage0.w", "stage0.b", "stage1.w");
            assertThat(back.get("stage0.b").getDataType()).isEqualTo(DataType.FLOAT64);
            assertThat(back.sha256()).isEqualTo(p.sha256());
        }
    }

    @Test
    void aGroupThatDoesNotHashToItsRecordedSumIsRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = new Params(Map.of("w", m.create(new float[] {1, 2, 3}, new Shape(3))));
            ParamGroup g = ParamsCodec.group(p);
            ParamGroup changed = g.toBuilder().setTensors(0, g.getTensors(0).toBuilder()
                .setTensor(TensorCodec.encode(new float[] {1, 2, 4}, 3))).build();
            assertThatThrownBy(() -> ParamsCodec.params(changed, m)).isInstanceOf(CheckpointException.class)
                .hasMessage("saved parameters do not hash to their recorded SHA-256 " + g.getSha256());
        }
    }

    @Test
    void onTheWireArraysTravelAsFloat32AndMustBeFinite() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray d = m.create(new double[] {0.1, 0.2}, new Shape(2));
            var t = ParamsCodec.float32(d);
            assertThat(t.getDtype()).isEqualTo(DType.FLOAT32);
            assertThat(ParamsCodec.array(t, DataType.FLOAT64, m).toDoubleArray()).containsExactly((double) 0.1f, (double) 0.2f);
            assertThatThrownBy(() -> ParamsCodec.array(TensorCodec.encode(new float[] {Float.NaN}, 1), DataType.FLOAT32, m))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining("is NaN");
        }
    }
}
