package dev.ikd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.Losses;
import dev.ikd.core.learn.Student;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Swap;
import dev.ikd.core.model.Tensors;

/**
 * The three learning steps of one protocol step (docs/architecture.md §5), with everything that crosses the wire
 * as float32 arrays and samples as ids into the data set both sides hold. The teacher and student
 * services call exactly these, and so does {@link ReferenceTrainer}: that is why a distributed run
 * ends on the same parameter hash as the in-process one.
 */
public final class WireSteps {

    private WireSteps() {
    }

    /** The teacher's soft targets softmax(f_t(x)/T) for the course ids, B x C row-major float32. */
    public static float[] softTargets(Teacher teacher, Dataset data, int[] courseIds, DataType type, NDManager parent) {
        try (NDManager s = parent.newSubManager()) {
            return toFloats(teacher.softTargets(batch(teacher, data, courseIds, type, s), s));
        }
    }

    /** The student's course step, exam and feedback for a teacher of {@code mode} on soft targets {@code p} (B x C, as received). */
    public static Student.StepResult learn(Student student, Dataset data, int[] courseIds, boolean[] labeled, int[] examIds,
                                           float[] p, Swap swap, TeacherMode mode, DataType type, NDManager parent) {
        return step(student, data, courseIds, labeled, examIds, p, swap, mode, type, parent, true);
    }

    /** {@link #learn} as MetaDistil's pilot: the same course step, exam and feedback, on a copy of the student ({@link Student#pilot}). */
    public static Student.StepResult pilot(Student student, Dataset data, int[] courseIds, boolean[] labeled, int[] examIds,
                                           float[] p, Swap swap, TeacherMode mode, DataType type, NDManager parent) {
        return step(student, data, courseIds, labeled, examIds, p, swap, mode, type, parent, false);
    }

    private static Student.StepResult step(Student student, Dataset data, int[] courseIds, boolean[] labeled, int[] examIds,
                                           float[] p, Swap swap, TeacherMode mode, DataType type, NDManager parent, boolean commit) {
        try (NDManager s = parent.newSubManager()) {
            NDArray x = data.trainFeatures(s, courseIds, type);
            NDArray oneHot = Losses.oneHot(s, data.trainLabels(courseIds), labeled, data.classes(), type);
            NDArray examX = data.trainFeatures(s, examIds, type);
            NDArray targets = matrix(p, courseIds.length, data.classes(), type, s);
            return commit ? student.learn(x, oneHot, targets, examX, data.trainLabels(examIds), swap, mode)
                : student.pilot(x, oneHot, targets, examX, data.trainLabels(examIds), swap, mode);
        }
    }

    /** The student's course step alone on soft targets {@code p}, as {@link #learn} takes it; the SHA-256 of θ' after it. */
    public static String courseStep(Student student, Dataset data, int[] courseIds, boolean[] labeled, float[] p, Swap swap,
                                    DataType type, NDManager parent) {
        try (NDManager s = parent.newSubManager()) {
            NDArray x = data.trainFeatures(s, courseIds, type);
            NDArray oneHot = Losses.oneHot(s, data.trainLabels(courseIds), labeled, data.classes(), type);
            return student.courseStep(x, oneHot, matrix(p, courseIds.length, data.classes(), type, s), swap);
        }
    }

    /**
     * The teacher's exam step k of {@code steps} on one student's feedback {@code d} and course
     * logits (B x C each); what it did to the teacher is measured on step k's exam batch.
     */
    public static Teacher.Update teach(Teacher teacher, Dataset data, int[] courseIds, int[] examIds, long k, long steps, float[] d,
                                       float[] courseLogits, DataType type, NDManager parent) {
        try (NDManager s = parent.newSubManager()) {
            int rows = courseIds.length;
            Teacher.At at = new Teacher.At(k, steps, batch(teacher, data, examIds, type, s), data.trainLabels(examIds));
            return teacher.learn(batch(teacher, data, courseIds, type, s), data.trainLabels(courseIds),
                matrix(d, rows, data.classes(), type, s), matrix(courseLogits, rows, data.classes(), type, s), at);
        }
    }

    /** The course batch as the teacher needs it: ids, and features only when it runs its backbone. */
    private static Teacher.Batch batch(Teacher teacher, Dataset data, int[] ids, DataType type, NDManager s) {
        return new Teacher.Batch(ids, teacher.usesCache() ? null : data.trainFeatures(s, ids, type), s);
    }

    static NDArray matrix(float[] values, int rows, int cols, DataType type, NDManager m) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException("expected a " + rows + " x " + cols + " matrix, got " + values.length + " values");
        }
        return Tensors.of(m, values, new Shape(rows, cols), type);
    }

    static float[] toFloats(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
    }
}
