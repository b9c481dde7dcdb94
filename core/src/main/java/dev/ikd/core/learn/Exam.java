package dev.ikd.core.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;

/**
 * The exam and the feedback it yields (docs/architecture.md §2). The exam data and its gradient g never leave
 * the student; only d = η α T / B · J g does.
 */
public final class Exam {

    private Exam() {
    }

    /** L_e(θ') on the exam batch, its accuracy and g = ∇_θ' L_e (the student's own network, no swapping). */
    public static Outcome take(Network net, Params thetaAfter, NDArray x, int[] y, NDManager manager) {
        NDArray oneHot = Losses.oneHot(manager, y, null, net.classes(), x.getDataType());
        NDArray[] logits = new NDArray[1];
        Autograd.Gradient grad = Autograd.of(thetaAfter, manager, th -> {
            logits[0] = net.logits(th, x);
            return Losses.crossEntropy(logits[0], oneHot);
        });
        try (NDArray detached = logits[0].stopGradient()) {
            return new Outcome(grad.value(), Losses.accuracy(detached, y), grad.gradient());
        }
    }

    /**
     * L_e(θ') and its accuracy without the gradient: the exam a student takes when no teacher learns
     * from it (classic KD, a student alone). The same forward pass as {@link #take}, so the same values.
     */
    public static Outcome score(Network net, Params thetaAfter, NDArray x, int[] y, NDManager manager) {
        NDArray oneHot = Losses.oneHot(manager, y, null, net.classes(), x.getDataType());
        NDArray logits = net.logits(thetaAfter, x);
        NDArray loss = Losses.crossEntropy(logits, oneHot);
        try (NDArray f64 = loss.toType(DataType.FLOAT64, true)) {
            return new Outcome(f64.toDoubleArray()[0], Losses.accuracy(logits, y), null);
        }
    }

    /**
     * d_i = η α T / B · J_i(θ) g, the directional derivative of the course logits along g at the
     * pre-step parameters θ, by central difference with ε = 0.01 / ‖g‖. The forward passes use the
     * course step's swap, so J is the Jacobian of the very function the course step differentiated.
     */
    public static NDArray feedback(Network net, Params thetaBefore, Params g, NDArray courseX, Swap swap,
                                   StudentConfig c, NDManager manager) {
        long b = courseX.getShape().get(0);
        double norm = Math.sqrt(g.squaredNorm());
        if (norm == 0 || c.alpha() == 0) {
            return manager.zeros(new ai.djl.ndarray.types.Shape(b, net.classes()), courseX.getDataType());
        }
        double eps = 0.01 / norm;
        try (NDManager scope = manager.newSubManager()) {
            Params plus = thetaBefore.plusScaled(g, eps, scope);
            Params minus = thetaBefore.plusScaled(g, -eps, scope);
            NDArray zPlus = net.forward(plus, courseX, swap).logits();
            NDArray zMinus = net.forward(minus, courseX, swap).logits();
            NDArray d = zPlus.sub(zMinus).div(2 * eps).mul(c.learningRate() * c.alpha() * c.temperature() / b);
            d.attach(manager);
            return d;
        }
    }

    /** Exam loss, accuracy and the exam gradient g (null from {@link #score}). */
    public record Outcome(double loss, double accuracy, Params gradient) {
    }
}
