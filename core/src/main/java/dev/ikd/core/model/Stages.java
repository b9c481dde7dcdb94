package dev.ikd.core.model;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
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
            NDArray h = convolve(x, p.get(name + ".w1"), p.get(name + ".b1"), 1).tanh();
            h = convolve(h, p.get(name + ".w2"), p.get(name + ".b2"), 1).tanh();
            return Pool.avgPool2d(h, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false, true);
        }
    }

    /** Channel counts are rounded up to this before a convolution: the widest channel block oneDNN's CPU kernels use. */
    static final int CHANNEL_BLOCK = 16;

    /**
     * A stride-1 convolution of x [N, C, ...] with w [O, C, k...] and b [O], {@code padding} zeros on
     * every side of each spatial axis, with input and output channels zero-padded to a multiple of
     * {@link #CHANNEL_BLOCK} and the output sliced back to O channels. PyTorch's CPU convolution
     * (oneDNN) lays channels out in blocks of 8 or 16 and, where a count is not a multiple of the
     * block, reads the block's padding without initialising it: one gradient in a hundred came out
     * different or NaN on a 4-channel network, one in three with oneDNN's primitive cache off
     * (docs/architecture.md §10). Zero channels are real zeros to every kernel, so the result is
     * the same convolution, now a function of its inputs alone.
     */
    private static NDArray owned(NDArray a, NDArray by) {
        a.attach(by.getManager());
        return a;
    }

    static NDArray convolve(NDArray x, NDArray w, NDArray b, int padding) {
        long out = w.getShape().get(0);
        long in = w.getShape().get(1);
        int spatial = w.getShape().dimension() - 2;
        long extraIn = roundUp(in) - in;
        long extraOut = roundUp(out) - out;
        NDArray input = extraIn == 0 ? x : x.pad(channelPadding(spatial, extraIn), 0);
        // A padded copy of a parameter would belong to the parameters' manager (DJL attaches an op's result to its
        // first operand's), one per forward pass of a long-lived model: the batch's manager owns them instead.
        NDArray weight = extraIn == 0 && extraOut == 0 ? w : owned(w.pad(weightPadding(spatial, extraIn, extraOut), 0), x);
        NDArray bias = extraOut == 0 ? b : owned(b.pad(new Shape(0, extraOut), 0), x);
        long[] pad = new long[spatial];
        long[] one = new long[spatial];
        java.util.Arrays.fill(pad, padding);
        java.util.Arrays.fill(one, 1);
        NDArray y = input.getNDArrayInternal().convolution(input, weight, bias, new Shape(one), new Shape(pad), new Shape(one), 1)
            .head();
        return extraOut == 0 ? y : y.get(new ai.djl.ndarray.index.NDIndex(":, 0:{}", out));
    }

    private static long roundUp(long channels) {
        return (channels + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK * CHANNEL_BLOCK;
    }

    /** torch's pad order, last axis first: nothing on the spatial axes, {@code extra} after the channels. */
    private static Shape channelPadding(int spatial, long extra) {
        long[] p = new long[2 * spatial + 2];
        p[2 * spatial + 1] = extra;
        return new Shape(p);
    }

    private static Shape weightPadding(int spatial, long extraIn, long extraOut) {
        long[] p = new long[2 * spatial + 4];
        p[2 * spatial + 1] = extraIn;
        p[2 * spatial + 3] = extraOut;
        return new Shape(p);
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
            NDArray h = convolve(x, p.get(name + ".w1"), p.get(name + ".b1"), 1).tanh();
            return convolve(h, p.get(name + ".w2"), p.get(name + ".b2"), 0).tanh();
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
