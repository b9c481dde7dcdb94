package dev.ikd.core.data;

/**
 * One student's schedule, fixed at admission: which samples each step's course batch and exam
 * batch hold. It is a function of the data splits, the batch sizes and the student's seed, which
 * the enrollment carries, so the teacher, the student and the in-process trainer all compute the
 * same batches without sending them (docs/architecture.md §5).
 *
 * @param labeled whether each training id's label may be used by the student
 */
public record Plan(BatchSchedule course, BatchSchedule exam, boolean[] labeled, long seed) {

    /** The plan of a student with this seed and these batch sizes; alone, it draws only labelled samples. */
    public static Plan of(Splits splits, int batchSize, int examBatchSize, long seed, boolean alone) {
        int[] pool = alone ? splits.labeledCourse() : splits.course();
        return new Plan(new BatchSchedule(pool, batchSize, seed + 1), new BatchSchedule(splits.quiz(), examBatchSize, seed + 2),
            splits.labeled(), seed);
    }

    public boolean[] labeledMask(int[] ids) {
        boolean[] m = new boolean[ids.length];
        for (int i = 0; i < ids.length; i++) {
            m[i] = labeled[ids[i]];
        }
        return m;
    }
}
