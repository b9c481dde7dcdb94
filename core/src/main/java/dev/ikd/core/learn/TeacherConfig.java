package dev.ikd.core.learn;

/**
 * How the teacher learns in its exam step. The temperature is the student's (it enrolls with it).
 *
 * @param learningRate  the teacher optimizer's step size
 * @param momentum      its momentum
 * @param beta          β: weight of the CE anchor to the labels (0 = pure IKD)
 * @param adapterHidden hidden width of the per-student adapter (adapter modes)
 * @param leash         the brakes on how far the teacher moves ({@link Leash#NONE}: none)
 */
public record TeacherConfig(double learningRate, double momentum, double beta, int adapterHidden, Leash leash) {

    public TeacherConfig(double learningRate, double momentum, double beta, int adapterHidden) {
        this(learningRate, momentum, beta, adapterHidden, Leash.NONE);
    }

    public TeacherConfig {
        if (leash == null) {
            throw new IllegalArgumentException("a teacher config needs a leash (Leash.NONE for none)");
        }
        if (!(learningRate >= 0)) {
            throw new IllegalArgumentException("teacher learning rate must be >= 0, got " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("teacher momentum must be in [0, 1), got " + momentum);
        }
        if (!(beta >= 0)) {
            throw new IllegalArgumentException("beta must be >= 0, got " + beta);
        }
        if (adapterHidden < 1) {
            throw new IllegalArgumentException("adapter hidden width must be at least 1, got " + adapterHidden);
        }
    }

    public TeacherConfig withLeash(Leash l) {
        return new TeacherConfig(learningRate, momentum, beta, adapterHidden, l);
    }
}
