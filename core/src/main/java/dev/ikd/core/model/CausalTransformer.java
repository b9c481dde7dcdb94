package dev.ikd.core.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;

/**
 * A causal transformer language model, {@code gpt:LAYERS:WIDTH:HEADS:CONTEXT} (groundwork for
 * distilling language models; not yet a model family of a run). Tokens [N, T] (T ≤ CONTEXT) →
 * next-token logits [N, T, VOCAB]: token embeddings plus learned positions; LAYERS pre-LayerNorm
 * blocks, each causal multi-head self-attention and a two-layer MLP (4·WIDTH, tanh-approximated GELU),
 * each added back to the residual stream; a final LayerNorm; logits through the token embeddings
 * (tied). Every piece is smooth, as the exam feedback's central difference wants (§2). Position t's
 * logits depend on tokens 0..t only. Like the other networks it is stateless: parameters come in.
 *
 * <p>A LayerNorm's gain is 1 + g with g starting at 0, so every parameter starts as ikd's others do
 * (uniform or zero, seeded by its name).
 */
public final class CausalTransformer {

    private static final Pattern SPEC = Pattern.compile("gpt:(\\d+):(\\d+):(\\d+):(\\d+)");
    private static final double EPS = 1e-5;

    private final int layers;
    private final int width;
    private final int heads;
    private final int context;
    private final int vocabulary;

    public CausalTransformer(int layers, int width, int heads, int context, int vocabulary) {
        if (layers < 1 || width < 1 || heads < 1 || context < 1 || vocabulary < 2) {
            throw new IllegalArgumentException("gpt:" + layers + ":" + width + ":" + heads + ":" + context + " over " + vocabulary
                + " tokens: every size must be at least 1 (the vocabulary at least 2)");
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("gpt: the width " + width + " must split evenly into " + heads + " heads");
        }
        this.layers = layers;
        this.width = width;
        this.heads = heads;
        this.context = context;
        this.vocabulary = vocabulary;
    }

    /** {@code gpt:LAYERS:WIDTH:HEADS:CONTEXT} over {@code vocabulary} tokens, or a one-line refusal. */
    public static CausalTransformer parse(String spec, int vocabulary) {
        Matcher m = SPEC.matcher(spec.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("a causal transformer is gpt:LAYERS:WIDTH:HEADS:CONTEXT, e.g. gpt:2:64:4:128, got '"
                + spec + "'");
        }
        return new CausalTransformer(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
            Integer.parseInt(m.group(4)), vocabulary);
    }

    /** Every parameter, by name, with its shape and initial scale. */
    public Map<String, Stage.ParamDef> parameters() {
        Map<String, Stage.ParamDef> p = new LinkedHashMap<>();
        p.put("gpt.wte", new Stage.ParamDef(new Shape(vocabulary, width), 0.02 * Math.sqrt(3)));
        p.put("gpt.wpe", new Stage.ParamDef(new Shape(context, width), 0.01 * Math.sqrt(3)));
        for (int l = 0; l < layers; l++) {
            String b = "gpt.l" + l + ".";
            p.put(b + "ln1.g", Stage.ParamDef.zeros(width));
            p.put(b + "ln1.b", Stage.ParamDef.zeros(width));
            p.put(b + "qkv.w", Stage.ParamDef.glorot(width, 3L * width, width, 3L * width));
            p.put(b + "qkv.b", Stage.ParamDef.zeros(3L * width));
            p.put(b + "proj.w", Stage.ParamDef.glorot(width, width, width, width));
            p.put(b + "proj.b", Stage.ParamDef.zeros(width));
            p.put(b + "ln2.g", Stage.ParamDef.zeros(width));
            p.put(b + "ln2.b", Stage.ParamDef.zeros(width));
            p.put(b + "fc.w", Stage.ParamDef.glorot(width, 4L * width, width, 4L * width));
            p.put(b + "fc.b", Stage.ParamDef.zeros(4L * width));
            p.put(b + "out.w", Stage.ParamDef.glorot(4L * width, width, 4L * width, width));
            p.put(b + "out.b", Stage.ParamDef.zeros(width));
        }
        p.put("gpt.lnf.g", Stage.ParamDef.zeros(width));
        p.put("gpt.lnf.b", Stage.ParamDef.zeros(width));
        return p;
    }

    /** Fresh parameters from {@code seed}, the same on every machine. */
    public Params init(long seed, DataType type, NDManager manager) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        parameters().forEach((name, def) -> arrays.put(name, Network.initial(seed, name, def, type, manager)));
        return new Params(arrays);
    }

    /** Next-token logits [N, T, VOCAB] of tokens [N, T]. */
    public NDArray logits(Params p, NDArray tokens) {
        long n = tokens.getShape().get(0);
        long t = tokens.getShape().get(1);
        if (t > context) {
            throw new IllegalArgumentException("a sequence of " + t + " tokens, but the model's context is " + context);
        }
        NDArray ids = tokens.toType(DataType.INT64, false);
        NDArray wte = p.get("gpt.wte");
        // DJL attaches an op's result to its first operand's manager: a view or sum made from a parameter
        // would stay in the parameters' manager, one per call, so each is handed to the tokens' manager.
        NDManager scope = tokens.getManager();
        NDArray h = Embedding.embedding(ids, wte, SparseFormat.DENSE).head().add(owned(p.get("gpt.wpe").get("0:" + t), scope));
        NDArray mask = causalMask(h, t);
        int d = width / heads;
        for (int l = 0; l < layers; l++) {
            String b = "gpt.l" + l + ".";
            NDArray a = layerNorm(h, p.get(b + "ln1.g"), p.get(b + "ln1.b"));
            NDList qkv = a.matMul(p.get(b + "qkv.w")).add(p.get(b + "qkv.b")).split(3, 2);
            NDArray q = qkv.get(0).reshape(n, t, heads, d).transpose(0, 2, 1, 3);
            NDArray k = qkv.get(1).reshape(n, t, heads, d).transpose(0, 2, 3, 1);
            NDArray v = qkv.get(2).reshape(n, t, heads, d).transpose(0, 2, 1, 3);
            NDArray attention = q.matMul(k).div(Tensors.scalar(q, Math.sqrt(d))).add(mask).softmax(-1);
            NDArray mixed = attention.matMul(v).transpose(0, 2, 1, 3).reshape(n, t, width);
            h = h.add(mixed.matMul(p.get(b + "proj.w")).add(p.get(b + "proj.b")));
            NDArray m = layerNorm(h, p.get(b + "ln2.g"), p.get(b + "ln2.b"));
            NDArray inner = gelu(m.matMul(p.get(b + "fc.w")).add(p.get(b + "fc.b")));
            h = h.add(inner.matMul(p.get(b + "out.w")).add(p.get(b + "out.b")));
        }
        return layerNorm(h, p.get("gpt.lnf.g"), p.get("gpt.lnf.b")).matMul(owned(wte.transpose(), scope));
    }

    private static NDArray owned(NDArray a, NDManager manager) {
        a.attach(manager);
        return a;
    }

    /** 0 where position i may see position j (j ≤ i), a large negative number where it may not: [T, T]. */
    private static NDArray causalMask(NDArray like, long t) {
        double[] values = new double[Math.toIntExact(t * t)];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                values[(int) (i * t + j)] = -1e9;
            }
        }
        return Tensors.of(like.getManager(), values, new Shape(t, t), like.getDataType());
    }

    /** (x − mean) / sqrt(var + ε) · (1 + g) + b over the last axis. */
    private static NDArray layerNorm(NDArray x, NDArray g, NDArray b) {
        NDArray mean = x.mean(new int[] {-1}, true);
        NDArray centred = x.sub(mean);
        NDArray var = centred.square().mean(new int[] {-1}, true);
        NDArray normed = centred.div(var.add(Tensors.scalar(x, EPS)).sqrt());
        return normed.mul(Tensors.scalar(x, 1).add(g)).add(b); // 1 + g, made in x's manager (the same sum as g + 1)
    }

    /** GELU, tanh-approximated: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). */
    private static NDArray gelu(NDArray x) {
        NDArray inner = x.add(x.pow(Tensors.scalar(x, 3)).mul(Tensors.scalar(x, 0.044715))).mul(Tensors.scalar(x,
            Math.sqrt(2 / Math.PI)));
        return x.mul(inner.tanh().add(Tensors.scalar(x, 1))).mul(Tensors.scalar(x, 0.5));
    }

    /** The spec this model was parsed from: {@code gpt:LAYERS:WIDTH:HEADS:CONTEXT}. */
    public String spec() {
        return "gpt:" + layers + ":" + width + ":" + heads + ":" + context;
    }

    public int context() {
        return context;
    }

    public int vocabulary() {
        return vocabulary;
    }
}
