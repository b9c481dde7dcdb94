package dev.ikd.core.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.ikd.core.learn.Autograd;
import dev.ikd.core.learn.Leash;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;

/**
 * A language-model teacher that learns from its student's exams (IKD on positions), in process and
 * behind the teacher service's port: the student computes the feedback ({@link #feedback(CausalTransformer,
 * Params, LmKd.Step, NDArray, LmKd.Targets, NDArray, StudentConfig, NDManager)}), the teacher learns from
 * it ({@link #learn}). After the student's course step θ → θ' it takes an
 * exam, next-token CE on a quiz batch, with gradient g at θ'. What the teacher wants is the derivative
 * of that loss with respect to every number it sent; per position, with w = D_g z the directional
 * derivative of the student's course logits along g at θ (a central difference, as §2) and
 * s = η α T² / positions:
 * <ul>
 *   <li>{@code dense}: {@code d_c = s (w_c − Σ_c' q_c' w_c')/T} for every token, [positions, V];</li>
 *   <li>{@code topk:K}: the same on the support, and {@code d_t = −Σ_S q_j d_j / r} for the tail
 *   (r the student's mass off the support), [positions, K + 1]: exactly what {@code SparseTargets.feedback}
 *   computes in double, here on DJL.</li>
 * </ul>
 * The teacher minimises {@code Σ ⟨stopgrad(d), sent(φ)⟩} (for top-K, Σ_S (d_j − d_t) p_j(φ), the tail
 * being 1 − Σ_S p_j; the support's choice carries no gradient) plus β · its own next-token CE on the
 * course batch and the leash's KL to where it started, by SGD with momentum, under the leash's rate
 * schedule, feedback clip and update period (§2, "a teacher on a leash").
 *
 * <p>{@code fp16} and {@code sample:N} are refused: what they send is not a differentiable function of
 * the teacher's logits (a rounding, random counts), so there is no exact feedback for the teacher to
 * follow.
 */
public final class LmIkd {

    private final CausalTransformer teacher;
    private final LmKd.Encoding encoding;
    private final TeacherConfig config;
    private final StudentConfig student;
    private final long steps;
    private final NDManager manager;
    private final Params start;
    private Params phi;
    private Params velocity;
    private Params gathered;
    private int gatheredCount;

    public LmIkd(CausalTransformer teacher, Params teacherParams, LmKd.Encoding encoding, TeacherConfig config, StudentConfig student,
          long steps, NDManager manager) {
        check(encoding);
        this.teacher = teacher;
        this.encoding = encoding;
        this.config = config;
        this.student = student;
        this.steps = steps;
        this.manager = manager;
        this.start = teacherParams;
        this.phi = teacherParams.copy(manager);
        this.velocity = phi.map((name, a) -> manager.zeros(a.getShape(), a.getDataType()));
    }

    /** Refuses, in one line, an encoding the teacher cannot learn through (and a teacher with nothing sent). */
    public static void check(LmKd.Encoding encoding) {
        if (encoding == null) {
            throw new IllegalArgumentException("a learning teacher needs soft targets to send: name an encoding");
        }
        switch (encoding.kind()) {
            case "dense", "topk" -> {
            }
            case "sample" -> throw new IllegalArgumentException("IKD cannot learn through " + encoding + ": it sends counts of random "
                + "draws, not a differentiable function of the teacher's logits, so there is no exact feedback; use topk:K or dense");
            default -> throw new IllegalArgumentException("IKD cannot learn through " + encoding + ": half-precision rounding has no "
                + "useful derivative; use dense or topk:K");
        }
    }

    /** The teacher as it is now. */
    public Params teacher() {
        return phi;
    }

    /** Its momentum. */
    public Params velocity() {
        return velocity;
    }

    /** The exam steps' gradients gathered since its last update (null: none), and how many. */
    public Params gathered() {
        return gathered;
    }

    public int gatheredCount() {
        return gatheredCount;
    }

    /** The teacher as a saved state left it: φ, momentum and what it had gathered (copied into its manager). */
    public void restore(Params savedPhi, Params savedVelocity, Params savedGathered, int count) {
        phi.close();
        velocity.close();
        if (gathered != null) {
            gathered.close();
        }
        phi = savedPhi.copy(manager);
        velocity = savedVelocity.copy(manager);
        gathered = savedGathered == null ? null : savedGathered.copy(manager);
        gatheredCount = savedGathered == null ? 0 : count;
    }

    /**
     * The teacher's exam step after the student's course step θ → θ' on {@code input} (whose targets
     * were {@code sent}): the student's exam on {@code quiz} [N, L+1], its feedback, the teacher's update.
     */
    void examStep(long k, CausalTransformer model, Params theta, LmKd.Step moved, NDArray input, NDArray next, LmKd.Targets sent,
                  NDArray quiz, NDManager scope) {
        learn(k, input, next, feedback(model, theta, moved, input, sent, quiz, student, scope).feedback(), sent.ids(), scope);
    }

    /** The student's exam at θ' (its next-token cross-entropy and the share of next tokens it ranks first) and its feedback. */
    public record Exam(NDArray feedback, double loss, double accuracy) {
    }

    /**
     * The student's side of the exam step after its course step θ → θ' ({@code moved}): its exam on
     * {@code quiz} [N, L+1] at θ', and the feedback d on what was {@code sent} for {@code input}
     * ([positions, V] dense, [positions, K + 1] top-K), unclipped. The exam's loss is the one whose
     * gradient the feedback follows; the course logits at θ are the course step's where it kept them.
     */
    public static Exam feedback(CausalTransformer model, Params theta, LmKd.Step moved, NDArray input, LmKd.Targets sent,
                                NDArray quiz, StudentConfig student, NDManager scope) {
        long positions = input.getShape().get(0) * input.getShape().get(1);
        long l = quiz.getShape().get(1) - 1;
        NDArray quizInput = quiz.get(":, 0:" + l);
        Autograd.Gradient exam = Autograd.withTerms(moved.theta(), scope, th -> {
            NDArray logits = model.logits(th, quizInput);
            return new NDArray[] {LmTraining.loss(logits, quiz), LmSteps.ranked(logits, quiz)};
        });
        NDArray w = directional(model, theta, exam.gradient(), input, STEP, scope).reshape(positions, -1);
        NDArray z = moved.logits() != null ? moved.logits() : model.logits(theta, input).reshape(positions, -1);
        double scale = student.learningRate() * student.alpha() * student.temperature() * student.temperature() / positions;
        return new Exam(feedback(w, z, sent, student.temperature(), scale), exam.value(), exam.terms()[0]);
    }

    /**
     * The teacher's side of exam step k: the feedback d on what it sent for {@code input} (the
     * support {@code ids} [positions, K] of top-K targets, null for dense), clipped by the leash,
     * gathered, and applied when the leash's period says. Returns the teacher's loss at φ before.
     */
    public double learn(long k, NDArray input, NDArray next, NDArray feedback, NDArray ids, NDManager scope) {
        long positions = input.getShape().get(0) * input.getShape().get(1);
        NDArray d = Teacher.clipped(feedback, config.leash().clip());
        NDArray e = ids == null ? d : d.get(":, 0:" + ids.getShape().get(1)).sub(d.get(":, " + ids.getShape().get(1) + ":"));
        Leash leash = config.leash();
        double t = student.temperature();
        NDArray p0 = leash.kl() > 0 ? LmSteps.probabilities(teacher, start, input, t).reshape(positions, -1) : null;
        Autograd.Gradient step = Autograd.of(phi, scope, ph -> {
            NDArray u = teacher.logits(ph, input).reshape(positions, -1);
            NDArray logp = u.div(Tensors.scalar(u, t)).logSoftmax(-1);
            NDArray loss = fed(u, e, ids, t);
            if (config.beta() > 0) {
                NDArray ce = u.logSoftmax(-1).gather(next.reshape(positions, 1), -1).neg().mean();
                loss = loss.add(ce.mul(Tensors.scalar(ce, config.beta())));
            }
            if (p0 != null) {
                NDArray kl = p0.mul(p0.maximum(Tensors.scalar(p0, Float.MIN_NORMAL)).log().sub(logp)).sum(new int[] {-1}).mean();
                loss = loss.add(kl.mul(Tensors.scalar(kl, leash.kl() * t * t)));
            }
            return loss;
        });
        Params grad = step.gradient();
        Params sum = gathered == null ? grad.copy(manager) : gathered.plusScaled(grad, 1, manager);
        grad.close();
        if (gathered != null) {
            gathered.close();
        }
        gathered = sum;
        gatheredCount++;
        if (!leash.updatesAt(k, steps)) {
            return step.value();
        }
        int count = gatheredCount;
        Params v = velocity.map((name, a) -> {
            try (NDArray kept = a.mul(config.momentum()); NDArray mean = sum.get(name).div(count)) {
                NDArray r = kept.add(mean);
                r.attach(manager);
                return r;
            }
        });
        Params moved = phi.plusScaled(v, -config.learningRate() * leash.rateFactor(k, steps), manager);
        velocity.close();
        gathered.close();
        gathered = null;
        gatheredCount = 0;
        phi.close();
        velocity = v;
        phi = moved;
        return step.value();
    }

    /**
     * The part of the teacher's loss that follows the feedback, {@code Σ ⟨e, p(u)⟩} with p = softmax(u/T)
     * over the teacher's logits u [positions, V]: on every token ({@code ids} null, e = d), or on the
     * support ({@code ids} [positions, K], e_j = d_j − d_t).
     */
    static NDArray fed(NDArray u, NDArray e, NDArray ids, double temperature) {
        NDArray p = u.div(Tensors.scalar(u, temperature)).softmax(-1);
        return ids == null ? p.mul(e).sum() : p.gather(ids, -1).mul(e).sum();
    }

    /**
     * The length of the central difference's step along g in parameter space, ε = STEP/‖g‖. The
     * classifiers' 0.01 (§2) leaves a transformer's w 2% off (its error falls as STEP², measured in
     * LmIkdTest); 1e-3 keeps it near 2e-4 while float32's rounding, about 6e-8/STEP, stays below that.
     */
    static final double STEP = 1e-3;

    /** w = D_g z at θ: the student's logits on {@code input} along g, by a central difference with ε = step/‖g‖. */
    static NDArray directional(CausalTransformer model, Params theta, Params g, NDArray input, double step, NDManager scope) {
        double norm = Math.sqrt(g.squaredNorm());
        double eps = norm > 0 ? step / norm : 0;
        if (eps == 0) {
            return model.logits(theta, input).zerosLike();
        }
        try (Params plus = theta.plusScaled(g, eps, scope); Params minus = theta.plusScaled(g, -eps, scope)) {
            NDArray diff = model.logits(plus, input).sub(model.logits(minus, input));
            return diff.div(Tensors.scalar(diff, 2 * eps));
        }
    }

    /**
     * The feedback on what was sent, from w = D_g z and the student's logits z at θ ([positions, V]):
     * [positions, V] for dense targets, [positions, K + 1] (the support, then the tail) for top-K.
     */
    static NDArray feedback(NDArray w, NDArray z, LmKd.Targets sent, double temperature, double scale) {
        NDArray q = z.div(Tensors.scalar(z, temperature)).softmax(-1);
        NDArray mean = q.mul(w).sum(new int[] {-1}, true);
        NDArray dLogQ = w.sub(mean).div(Tensors.scalar(w, temperature));
        if (sent.ids() == null) {
            return dLogQ.mul(Tensors.scalar(dLogQ, scale));
        }
        NDArray onSupport = dLogQ.gather(sent.ids(), -1);
        NDArray qS = q.gather(sent.ids(), -1);
        NDArray rest = qS.sum(new int[] {-1}, true).neg().add(Tensors.scalar(qS, 1));
        NDArray tail = qS.mul(onSupport).sum(new int[] {-1}, true).neg().div(rest);
        return NDArrays.concat(new NDList(onSupport, tail), -1).mul(Tensors.scalar(q, scale));
    }
}
