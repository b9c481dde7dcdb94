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
    /** The φ this student's teacher started from (shared, not owned): where the leash's trust region is centred. */
    private final Params initial;
    private Params backbone;
    private Params trainable;
    private Params velocity;
    /** With the leash's every > 1: the gradients gathered since the last update, and how many steps they span. */
    private Params gathered;
    private int gatheredSteps;
    private long version;

    private Teacher(Network net, TeacherMode mode, TeacherConfig config, double temperature, NDManager manager,
                    Params initial, Params backbone, Params trainable, long version, SharedBackbone cache) {
        this.cache = mode == TeacherMode.IKD ? null : cache;
        this.initial = initial;
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
            case FROZEN -> new Teacher(net, mode, config, temperature, manager, pretrained, pretrained, null, 0, cache);
            case IKD -> {
                Params own = pretrained.copy(manager);
                yield new Teacher(net, mode, config, temperature, manager, pretrained, own, own, 0, null);
            }
            case IKD_ADAPTER, PESF -> new Teacher(net, mode, config, temperature, manager, pretrained, pretrained,
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
     * Where an exam step stands in its run, for the leash's schedule, and the exam batch (its ids,
     * features unless the teacher reads a cache, and labels) on which the teacher's drift from where it
     * started and its accuracy are measured after the update (null: not measured).
     */
    public record At(long step, long steps, Batch exam, int[] examLabels) {
        /** A lone exam step, with nothing measured: the leash sees step 0 of 1. */
        public static final At ALONE = new At(0, 1, null, null);
    }

    /**
     * The exam step. ikd and ikd-adapter minimise Σ_i ⟨d_i, p_i(φ)⟩ + β CE(y, logits); pesf
     * minimises CE(y, a) + T² KL(softmax(z_s/T) ‖ softmax(a/T)) for the adapted logits a and the
     * student's course logits z_s. Frozen teachers report the ikd objective and do not move.
     */
    public Update learn(NDArray x, int[] y, NDArray d, NDArray studentLogits) {
        return learn(new Batch(null, x, null), y, d, studentLogits, At.ALONE);
    }

    /** The exam step on a course batch given by ids (and x, unless the teacher reads a cache). */
    public Update learn(Batch course, int[] y, NDArray d, NDArray studentLogits) {
        return learn(course, y, d, studentLogits, At.ALONE);
    }

    /**
     * The exam step at {@code at}, on the leash of the teacher's config: d clipped to its norm, a
     * trust region to the starting teacher, the learning rate's warm-up and decay, gradients applied
     * every k steps (docs/architecture.md §2).
     */
    public Update learn(Batch course, int[] y, NDArray d, NDArray studentLogits, At at) {
        try (NDManager step = manager.newSubManager()) {
            Batch batch = new Batch(course.ids(), course.x(), step);
            NDArray oneHot = Losses.oneHot(step, y, null, net.classes(), d.getDataType());
            double t = temperature;
            Leash leash = config.leash();
            if (mode == TeacherMode.FROZEN) {
                NDArray p = softTargets(batch, step);
                NDArray ce = Losses.crossEntropy(logits(batch, backbone, null), oneHot);
                NDArray loss = p.mul(d).sum().add(ce.mul(Tensors.scalar(ce, config.beta())));
                return measured(new Update(loss.toType(DataType.FLOAT64, false).getDouble(), version, 0, Double.NaN), at, step);
            }
            NDArray feedback = clipped(d, leash.clip());
            NDArray start = leash.kl() > 0 && mode != TeacherMode.PESF ? initialSoftTargets(batch) : null;
            // In adapter modes the backbone is frozen: its forward needs no gradient.
            Autograd.Gradient grad = Autograd.of(trainable, step, w -> {
                NDArray u = mode == TeacherMode.IKD ? logits(batch, w, null) : logits(batch, backbone, w);
                if (mode == TeacherMode.PESF) {
                    NDArray target = Losses.softTargets(studentLogits, t);
                    return Losses.crossEntropy(u, oneHot)
                        .add(Losses.distillation(u, target, t).mul(Tensors.scalar(u, t * t)));
                }
                NDArray objective = Losses.softTargets(u, t).mul(feedback).sum();
                if (config.beta() > 0) {
                    NDArray ce = Losses.crossEntropy(u, oneHot);
                    objective = objective.add(ce.mul(Tensors.scalar(ce, config.beta())));
                }
                if (start != null) {
                    objective = objective.add(Losses.distillation(u, start, t).mul(Tensors.scalar(u, leash.kl() * t * t)));
                }
                return objective;
            });
            Params g = gather(grad.gradient(), at);
            if (g != null) {
                double rate = config.learningRate() * leash.rateFactor(at.step(), at.steps());
                try (g) {
                    Params v = g.map((name, gi) -> {
                        NDArray n = gi.add(Tensors.scaled(velocity.get(name), config.momentum(), step));
                        n.attach(manager);
                        return n;
                    });
                    Params next = trainable.map((name, w) -> {
                        NDArray n = w.sub(Tensors.scaled(v.get(name), rate, step));
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
            }
            version++;
            return measured(new Update(grad.value(), version, 0, Double.NaN), at, step);
        }
    }

    /** d, scaled down to Frobenius norm {@code max} when it is longer (0: as it is). */
    public static NDArray clipped(NDArray d, double max) {
        if (max <= 0) {
            return d;
        }
        double norm;
        try (NDArray sq = d.mul(d).sum(); NDArray f64 = sq.toType(DataType.FLOAT64, true)) {
            norm = Math.sqrt(f64.getDouble());
        }
        return norm <= max ? d : d.mul(Tensors.scalar(d, max / norm));
    }

    /**
     * With the leash's every = 1, the step's gradient; otherwise the gradients gathered so far with
     * this one, their mean when this step applies them (null when it does not: nothing moves).
     */
    private Params gather(Params g, At at) {
        int every = config.leash().every();
        if (every == 1) {
            return g;
        }
        Params sum = gathered == null ? g.copy(manager) : gathered.map((name, a) -> {
            NDArray n = a.add(g.get(name));
            n.attach(manager);
            return n;
        });
        g.close();
        if (gathered != null) {
            gathered.close();
        }
        gathered = sum;
        gatheredSteps++;
        if (!config.leash().updatesAt(at.step(), at.steps())) {
            return null;
        }
        int n = gatheredSteps;
        Params mean = gathered.map((name, a) -> Tensors.scaled(a, 1.0 / n, manager));
        gathered.close();
        gathered = null;
        gatheredSteps = 0;
        return mean;
    }

    /** The soft targets of the teacher this student's started from (its φ before any update; no adapter). */
    private NDArray initialSoftTargets(Batch batch) {
        NDManager scope = batch.x() != null ? batch.x().getManager() : batch.scope();
        Network.Forward f = cache != null ? cache.forward(batch.ids(), scope)
            : net.forward(initial, batch.x(), dev.ikd.core.model.Swap.NONE);
        return Losses.softTargets(f.logits(), temperature);
    }

    /**
     * The update with what it did to the teacher measured on the exam batch: KL(p0 ‖ p) from the
     * teacher it started from, mean over the batch, and its accuracy on the batch's labels.
     */
    private Update measured(Update u, At at, NDManager step) {
        if (at.exam() == null) {
            return u;
        }
        Batch exam = new Batch(at.exam().ids(), at.exam().x(), step);
        NDArray now = logits(exam, backbone, trainable);
        NDArray p = Losses.softTargets(now, temperature);
        NDArray p0 = initialSoftTargets(exam);
        double drift;
        try (NDArray kl = p0.mul(p0.maximum(Tensors.scalar(p0, 1e-30)).log().sub(p.maximum(Tensors.scalar(p, 1e-30)).log()))
            .sum().div(Tensors.scalar(p, at.examLabels().length)); NDArray f64 = kl.toType(DataType.FLOAT64, true)) {
            drift = f64.getDouble();
        }
        return new Update(u.loss(), u.version(), drift, Losses.accuracy(now, at.examLabels()));
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

    /** The gradients gathered and not yet applied (the leash's every > 1), or null; and how many steps they span. */
    public Params gathered() {
        return gathered;
    }

    public int gatheredSteps() {
        return gatheredSteps;
    }

    /**
     * Puts back a checkpointed state (trainable parameters, velocity, version, gradients gathered
     * and not yet applied) in place of this freshly enrolled one; the shared backbone of the adapter
     * modes is left alone.
     */
    public void restore(Params savedTrainable, Params savedVelocity, long savedVersion, Params savedGathered, int savedGatheredSteps) {
        if (savedGathered != null && savedGatheredSteps > 0) {
            gathered = savedGathered.copy(manager);
            gatheredSteps = savedGatheredSteps;
        }
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

    /**
     * The teacher's exam-step objective before the update, the version that now includes it, and
     * what the update did, measured on the step's exam batch when asked for (0 and NaN otherwise):
     * the teacher's KL divergence from the teacher it started from, and its accuracy.
     */
    public record Update(double loss, long version, double driftKl, double examAccuracy) {
    }
}
