package dev.ikd.core.learn;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;

/**
 * The teacher as one student sees it: soft targets for a course batch, and the exam step that
 * learns from that student's feedback (docs/architecture.md §2–§3). In mode {@code ikd} it owns a copy of φ; in
 * the adapter modes it shares the frozen backbone and owns only its adapter.
 */
public final class Teacher implements AutoCloseable {

    private final Network net;
    private final TeacherMode mode;
    private final TeacherConfig config;
    private final double temperature;
    private final NDManager manager;
    private final SharedBackbone cache;
    private Params backbone;
    private Params trainable;
    private Params velocity;
    private long version;

    private Teacher(Network net, TeacherMode mode, TeacherConfig config, double temperature, NDManager manager,
                    Params backbone, Params trainable, long version, SharedBackbone cache) {
        this.cache = mode == TeacherMode.IKD ? null : cache;
        this.net = net;
        this.mode = mode;
        this.config = config;
        this.temperature = temperature;
        this.manager = manager;
        this.backbone = backbone;
        this.trainable = trainable;
        this.velocity = trainable == null ? null : trainable.map((k, v) -> manager.zeros(v.getShape(), v.getDataType()));
        this.version = version;
    }

    /**
     * The teacher for one newly enrolled student: copy-on-enroll of φ in mode ikd, a fresh adapter
     * (seeded; its output layer starts at zero, so it starts as the plain teacher) in adapter modes,
     * the shared φ untouched when frozen.
     */
    public static Teacher enroll(Network net, Params pretrained, TeacherMode mode, TeacherConfig config, double temperature,
                                 long adapterSeed, NDManager parent) {
        return enroll(net, pretrained, mode, config, temperature, adapterSeed, null, parent);
    }

    /**
     * As above; with a {@link SharedBackbone} (a feature cache, or a micro-batcher), the modes whose
     * backbone is frozen get its logits and features from it instead of running it themselves.
     */
    public static Teacher enroll(Network net, Params pretrained, TeacherMode mode, TeacherConfig config, double temperature,
                                 long adapterSeed, SharedBackbone cache, NDManager parent) {
        if (net.isScript() && mode == TeacherMode.IKD) {
            throw new IllegalArgumentException("a TorchScript teacher is frozen: it serves in modes frozen, pesf and ikd-adapter, "
                + "not ikd");
        }
        NDManager manager = parent.newSubManager();
        return switch (mode) {
            case FROZEN -> new Teacher(net, mode, config, temperature, manager, pretrained, null, 0, cache);
            case IKD -> {
                Params own = pretrained.copy(manager);
                yield new Teacher(net, mode, config, temperature, manager, own, own, 0, null);
            }
            case IKD_ADAPTER, PESF -> new Teacher(net, mode, config, temperature, manager, pretrained,
                adapter(net.featureSize(), config.adapterHidden(), net.classes(), adapterSeed,
                    pretrained.names().isEmpty() ? DataType.FLOAT32 : pretrained.asMap().values().iterator().next().getDataType(),
                    manager), 0, cache);
        };
    }

    /** Whether the backbone's outputs come from a shared backbone by sample id (then no input features are needed). */
    public boolean usesCache() {
        return cache != null;
    }

    static Params adapter(int features, int hidden, int classes, long seed, DataType type, NDManager manager) {
        Map<String, NDArray> a = new LinkedHashMap<>();
        double scale = Math.sqrt(6.0 / (features + hidden));
        var random = new java.util.SplittableRandom(seed);
        double[] w1 = new double[features * hidden];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (random.nextDouble() * 2 - 1) * scale;
        }
        a.put("adapter.w1", Tensors.of(manager, w1, new Shape(features, hidden), type));
        a.put("adapter.b1", manager.zeros(new Shape(hidden), type));
        a.put("adapter.w2", manager.zeros(new Shape(hidden, classes), type));
        a.put("adapter.b2", manager.zeros(new Shape(classes), type));
        return new Params(a);
    }

    /**
     * Teacher logits for this student: f_t(x; φ), minus A_s(h) in the adapter modes. With a cache,
     * the frozen backbone's outputs for the sample ids come from it.
     */
    private NDArray logits(Batch batch, Params backboneParams, Params adapterParams) {
        NDManager scope = batch.x() != null ? batch.x().getManager() : batch.scope();
        Network.Forward f = cache != null ? cache.forward(batch.ids(), scope)
            : net.forward(backboneParams, batch.x(), dev.ikd.core.model.Swap.NONE);
        if (!mode.usesAdapter()) {
            return f.logits();
        }
        return f.logits().sub(adapt(adapterParams, f.features()));
    }

    /** A_s(h): what an adapter takes off the teacher's logits, given the penultimate features h. */
    public static NDArray adapt(Params a, NDArray features) {
        NDArray h = features.matMul(a.get("adapter.w1")).add(a.get("adapter.b1")).tanh();
        return h.matMul(a.get("adapter.w2")).add(a.get("adapter.b2"));
    }

    /**
     * A course batch: its sample ids and, unless the teacher reads a cache, their features x;
     * {@code scope} owns what is computed for it.
     */
    public record Batch(int[] ids, NDArray x, NDManager scope) {
    }

    /** p = softmax(logits / T) for the course batch x, in {@code out}. */
    public NDArray softTargets(NDArray x, NDManager out) {
        return softTargets(new Batch(null, x, out), out);
    }

    /** p = softmax(logits / T) for the course batch, in {@code out}. */
    public NDArray softTargets(Batch batch, NDManager out) {
        NDArray p = Losses.softTargets(logits(batch, backbone, trainable), temperature);
        p.attach(out);
        return p;
    }

    /**
     * The exam step. ikd and ikd-adapter minimise Σ_i ⟨d_i, p_i(φ)⟩ + β CE(y, logits); pesf
     * minimises CE(y, a) + T² KL(softmax(z_s/T) ‖ softmax(a/T)) for the adapted logits a and the
     * student's course logits z_s. Frozen teachers report the ikd objective and do not move.
     */
    public Update learn(NDArray x, int[] y, NDArray d, NDArray studentLogits) {
        return learn(new Batch(null, x, null), y, d, studentLogits);
    }

    /** The exam step on a course batch given by ids (and x, unless the teacher reads a cache). */
    public Update learn(Batch course, int[] y, NDArray d, NDArray studentLogits) {
        try (NDManager step = manager.newSubManager()) {
            Batch batch = new Batch(course.ids(), course.x(), step);
            NDArray oneHot = Losses.oneHot(step, y, null, net.classes(), d.getDataType());
            double t = temperature;
            if (mode == TeacherMode.FROZEN) {
                NDArray p = softTargets(batch, step);
                NDArray ce = Losses.crossEntropy(logits(batch, backbone, null), oneHot);
                NDArray loss = p.mul(d).sum().add(ce.mul(Tensors.scalar(ce, config.beta())));
                return new Update(loss.toType(DataType.FLOAT64, false).getDouble(), version);
            }
            // In adapter modes the backbone is frozen: its forward needs no gradient.
            Autograd.Gradient grad = Autograd.of(trainable, step, w -> {
                NDArray u = mode == TeacherMode.IKD ? logits(batch, w, null) : logits(batch, backbone, w);
                if (mode == TeacherMode.PESF) {
                    NDArray target = Losses.softTargets(studentLogits, t);
                    return Losses.crossEntropy(u, oneHot)
                        .add(Losses.distillation(u, target, t).mul(Tensors.scalar(u, t * t)));
                }
                NDArray objective = Losses.softTargets(u, t).mul(d).sum();
                if (config.beta() == 0) {
                    return objective;
                }
                NDArray ce = Losses.crossEntropy(u, oneHot);
                return objective.add(ce.mul(Tensors.scalar(ce, config.beta())));
            });
            try (Params g = grad.gradient()) {
                Params v = g.map((name, gi) -> {
                    NDArray n = gi.add(Tensors.scaled(velocity.get(name), config.momentum(), step));
                    n.attach(manager);
                    return n;
                });
                Params next = trainable.map((name, w) -> {
                    NDArray n = w.sub(Tensors.scaled(v.get(name), config.learningRate(), step));
                    n.attach(manager);
                    return n;
                });
                trainable.close();
                velocity.close();
                trainable = next;
                velocity = v;
                if (mode == TeacherMode.IKD) {
                    backbone = next;
                }
            }
            version++;
            return new Update(grad.value(), version);
        }
    }

    public long version() {
        return version;
    }

    /** What this student's teacher learns (its φ copy or its adapter); null when frozen. */
    public Params trainable() {
        return trainable;
    }

    public Params velocity() {
        return velocity;
    }

    /**
     * Puts back a checkpointed state (trainable parameters, velocity, version) in place of this
     * freshly enrolled one; the shared backbone of the adapter modes is left alone.
     */
    public void restore(Params savedTrainable, Params savedVelocity, long savedVersion) {
        if (trainable != null) {
            Params t = savedTrainable.copy(manager);
            Params v = savedVelocity.copy(manager);
            trainable.close();
            velocity.close();
            trainable = t;
            velocity = v;
            if (mode == TeacherMode.IKD) {
                backbone = t;
            }
        }
        version = savedVersion;
    }

    public double temperature() {
        return temperature;
    }

    public TeacherMode mode() {
        return mode;
    }

    @Override
    public void close() {
        manager.close();
    }

    /** The teacher's exam-step objective before the update, and the version that now includes it. */
    public record Update(double loss, long version) {
    }
}
