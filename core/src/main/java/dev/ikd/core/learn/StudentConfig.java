package dev.ikd.core.learn;

/**
 * A student's course hyper-parameters (docs/architecture.md §2).
 *
 * @param learningRate η
 * @param momentum     μ of SGD with momentum (0 = plain SGD); the exam feedback stays exact with it
 * @param temperature  T
 * @param alpha        α, the weight of the distillation term
 */
public record StudentConfig(double learningRate, double momentum, double temperature, double alpha) {

    public StudentConfig {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
    }
}
