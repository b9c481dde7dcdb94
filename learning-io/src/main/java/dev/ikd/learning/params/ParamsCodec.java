package dev.ikd.learning.params;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.state.ParamGroup;
import dev.ikd.proto.v1.DType;
import dev.ikd.proto.v1.NamedTensor;
import dev.ikd.proto.v1.Tensor;

/**
 * Parameters as protobuf tensors. In a checkpoint every array keeps its own type and comes back bit
 * for bit (checked against the learner's SHA-256); on the wire (teacher blocks) arrays travel as
 * float32, like every tensor services send each other. The bytes themselves are {@link TensorCodec}'s.
 */
public final class ParamsCodec {

    private ParamsCodec() {
    }

    /** {@code p} as a checkpoint keeps it: each array in its own type, with the SHA-256 of the whole. */
    public static ParamGroup group(Params p) {
        var g = ParamGroup.newBuilder().setSha256(p.sha256());
        p.asMap().forEach((name, a) -> g.addTensors(NamedTensor.newBuilder().setName(name).setTensor(exact(a))));
        return g.build();
    }

    /** A group back as parameters owned by {@code manager}; one that does not hash to its recorded SHA-256 is refused. */
    public static Params params(ParamGroup g, NDManager manager) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (NamedTensor t : g.getTensorsList()) {
            Tensor tensor = t.getTensor();
            arrays.put(t.getName(), array(tensor, tensor.getDtype() == DType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32,
                TensorCodec.Finite.ALLOWED, manager));
        }
        Params p = new Params(arrays);
        if (!p.sha256().equals(g.getSha256())) {
            p.close();
            throw new CheckpointException("saved parameters do not hash to their recorded SHA-256 " + g.getSha256());
        }
        return p;
    }

    /** An array as a tensor of its own type (float32 or float64), exactly. */
    public static Tensor exact(NDArray a) {
        long[] shape = a.getShape().getShape();
        return switch (a.getDataType()) {
            case FLOAT32 -> TensorCodec.encode(a.toFloatArray(), shape);
            case FLOAT64 -> TensorCodec.encode(a.toDoubleArray(), shape);
            default -> throw new IllegalArgumentException("cannot keep a " + a.getDataType() + " array; parameters are "
                + "float32 or float64");
        };
    }

    /** An array as it travels between services: float32, whatever type it has here. */
    public static Tensor float32(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return TensorCodec.encode(a.toFloatArray(), a.getShape().getShape());
        }
        try (NDArray f32 = a.toType(DataType.FLOAT32, true)) {
            return TensorCodec.encode(f32.toFloatArray(), a.getShape().getShape());
        }
    }

    /** A float32 tensor from another service as an array of {@code type} owned by {@code manager}; it must be finite. */
    public static NDArray array(Tensor t, DataType type, NDManager manager) {
        return array(t, type, TensorCodec.Finite.REQUIRED, manager);
    }

    private static NDArray array(Tensor t, DataType type, TensorCodec.Finite finite, NDManager manager) {
        Shape shape = new Shape(TensorCodec.shape(t));
        if (t.getDtype() == DType.FLOAT64) {
            return Tensors.of(manager, TensorCodec.toDoubles(t, finite), shape, type);
        }
        return Tensors.of(manager, TensorCodec.toFloats(t, finite), shape, type);
    }
}
