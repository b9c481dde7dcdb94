package dev.ikd.core.model;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.pooling.Pool;

/** The stage kinds the model families are built from. */
final class Stages {

    private Stages() {
    }

    /** Two dense layers, tanh after each: [N, in] -> [N, out]. */
    record Dense(String name, int in, int hidden, int out) implements Stage {
        @Override
        public Map<String, ParamDef> parameters() {
            var p = new LinkedHashMap<String, ParamDef>();
            p.put(name + ".w1", ParamDef.glorot(in, hidden, in, hidden));
            p.put(name + ".b1", ParamDef.zeros(hidden));
            p.put(name + ".w2", ParamDef.glorot(hidden, out, hidden, out));
            p.put(name + ".b2", ParamDef.zeros(out));
            return p;
        }

        @Override
        public NDArray apply(Params p, NDArray x) {
            NDArray h = x.matMul(p.get(name + ".w1")).add(p.get(name + ".b1")).tanh();
            return h.matMul(p.get(name + ".w2")).add(p.get(name + ".b2")).tanh();
        }
    }

    /**
     * Two 3x3 convolutions with tanh, then 2x2 average pooling: [N, in, H, W] -> [N, out, H/2, W/2].
     * Every stage is smooth (no ReLU, no max): the exam feedback's central difference (docs/architecture.md §2)
     * would otherwise straddle kinks, which a gradient check measured at 4% error on a tiny ReLU CNN.
     */
    record Conv(String name, int in, int hidden, int out) implements Stage {
        @Override
        public Map<String, ParamDef> parameters() {
            var p = new LinkedHashMap<String, ParamDef>();
            p.put(name + ".w1", ParamDef.glorot(in * 9L, hidden * 9L, hidden, in, 3, 3));
            p.put(name + ".b1", ParamDef.zeros(hidden));
            p.put(name + ".w2", ParamDef.glorot(hidden * 9L, out * 9L, out, hidden, 3, 3));
            p.put(name + ".b2", ParamDef.zeros(out));
            return p;
        }

        @Override
        public NDArray apply(Params p, NDArray x) {
            Shape one = new Shape(1, 1);
            NDArray h = Conv2d.conv2d(x, p.get(name + ".w1"), p.get(name + ".b1"), one, one).head().tanh();
            h = Conv2d.conv2d(h, p.get(name + ".w2"), p.get(name + ".b2"), one, one).head().tanh();
            return Pool.avgPool2d(h, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false, true);
        }
    }

    /**
     * Word ids [N, L] -> embeddings laid out for 1-D convolution [N, dim, L]; padding positions
     * (id 0) are zero vectors. Embeddings start at unit scale (as torch's): at ±0.1 the signal
     * through the convolutions was too faint for the text models to learn at all.
     */
    record Embed(String name, int vocabulary, int dim) implements Stage {
        @Override
        public Map<String, ParamDef> parameters() {
            return Map.of(name + ".w", new ParamDef(new Shape(vocabulary, dim), Math.sqrt(3)));
        }

        @Override
        public NDArray apply(Params p, NDArray ids) {
            NDArray longIds = ids.toType(DataType.INT64, false);
            NDArray e = Embedding.embedding(longIds, p.get(name + ".w"), SparseFormat.DENSE).head();
            NDArray words = longIds.gt(Tensors.scalar(longIds, 0)).toType(e.getDataType(), false).expandDims(2);
            return e.mul(words).transpose(0, 2, 1);
        }
    }

    /** A width-3 convolution into the inner width and a width-1 one back, tanh after each: [N, c, L] -> [N, c, L]. */
    record Conv1(String name, int channels, int hidden) implements Stage {
        @Override
        public Map<String, ParamDef> parameters() {
            var p = new LinkedHashMap<String, ParamDef>();
            p.put(name + ".w1", ParamDef.glorot(channels * 3L, hidden * 3L, hidden, channels, 3));
            p.put(name + ".b1", ParamDef.zeros(hidden));
            p.put(name + ".w2", ParamDef.glorot(hidden, channels, channels, hidden, 1));
            p.put(name + ".b2", ParamDef.zeros(channels));
            return p;
        }

        @Override
        public NDArray apply(Params p, NDArray x) {
            NDArray h = Conv1d.conv1d(x, p.get(name + ".w1"), p.get(name + ".b1"), new Shape(1), new Shape(1)).head().tanh();
            return Conv1d.conv1d(h, p.get(name + ".w2"), p.get(name + ".b2"), new Shape(1), new Shape(0)).head().tanh();
        }
    }

    /**
     * How the head turns the last stage's output into the penultimate feature vector. SMOOTH_MAX is
     * (1/τ) log mean exp(τ x) over positions: like max pooling it picks the strongest words out of
     * the padding, but without kinks (see Conv on why every stage is smooth).
     */
    enum Pooling { FLATTEN, SMOOTH_MAX }

    /** τ of the smooth maximum; stage outputs are tanh values in (-1, 1), so exp(τ x) stays tame. */
    private static final double SMOOTH_MAX_SHARPNESS = 5;

    /** Pooling, then one dense layer to the class logits. */
    record Head(String name, int in, int classes, Pooling pooling) implements Stage {
        @Override
        public Map<String, ParamDef> parameters() {
            var p = new LinkedHashMap<String, ParamDef>();
            p.put(name + ".w", ParamDef.glorot(in, classes, in, classes));
            p.put(name + ".b", ParamDef.zeros(classes));
            return p;
        }

        NDArray features(NDArray x) {
            return switch (pooling) {
                case FLATTEN -> x.reshape(x.getShape().get(0), -1);
                case SMOOTH_MAX -> x.mul(Tensors.scalar(x, SMOOTH_MAX_SHARPNESS)).exp().mean(new int[] {2}).log()
                    .div(Tensors.scalar(x, SMOOTH_MAX_SHARPNESS));
            };
        }

        NDArray logits(Params p, NDArray features) {
            return features.matMul(p.get(name + ".w")).add(p.get(name + ".b"));
        }

        @Override
        public NDArray apply(Params p, NDArray x) {
            return logits(p, features(x));
        }
    }
}
