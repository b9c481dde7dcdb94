package dev.ikd.core.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.model.Tensors;

/**
 * The course step: θ' = θ − η v', v' = μ v + ∇_θ L_c(θ, p) (docs/architecture.md §2). A pure function: it
 * returns new parameters and velocity and leaves its inputs as they were.
 */
public final class CourseStep {

    private CourseStep() {
    }

    /**
     * @param x              course batch, raw samples
     * @param weightedOneHot labels, zero rows for samples whose labels the student may not use
     * @param p              the teacher's soft targets for the batch
     */
    public static Result apply(Network net, Params theta, Params velocity, NDArray x, NDArray weightedOneHot, NDArray p,
                               Swap swap, StudentConfig c, NDManager manager) {
        Autograd.Gradient grad = Autograd.withTerms(theta, manager,
            th -> Losses.courseTerms(net.forward(th, x, swap).logits(), p, weightedOneHot, c.temperature(), c.alpha()));
        try (Params g = grad.gradient()) {
            // v' = g + μ v (the same bits as μ v + g): every intermediate stays in the step's manager.
            Params v = g.map((name, gi) -> gi.add(Tensors.scaled(velocity.get(name), c.momentum(), manager)));
            Params next = theta.map((name, t) -> {
                NDArray n = t.sub(v.get(name).mul(c.learningRate()));
                n.attach(manager);
                return n;
            });
            return new Result(next, v, grad.value(), grad.terms()[0]);
        }
    }

    /**
     * θ', v', the course loss L_c(θ, p) before the step, and its distillation term KD before the
     * weight α T² (NaN when α is 0).
     */
    public record Result(Params theta, Params velocity, double loss, double distillKl) {
    }
}
