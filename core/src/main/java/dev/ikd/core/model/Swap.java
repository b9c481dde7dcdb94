package dev.ikd.core.model;

/**
 * IAKD stage swapping for one forward pass (docs/architecture.md §3): where {@code mask[i]} is set, stage i of
 * the student is replaced by the teacher's stage i, whose parameters are frozen; gradients still
 * flow through it into the student's own earlier stages.
 */
public record Swap(Network teacher, Params teacherParams, boolean[] mask) {

    public static final Swap NONE = new Swap(null, null, new boolean[0]);

    public boolean uses(int stage) {
        return stage < mask.length && mask[stage];
    }
}
