package dev.ikd.core.train;

import ai.djl.ndarray.types.DataType;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;

/**
 * One distillation run: the same record drives the in-process trainer and (later) the services.
 *
 * @param labelFraction share of the training pool whose labels the students may use (low-label: ~0.05)
 * @param quizFraction  share of the labelled samples held out as the quiz split
 * @param studentAlone  no teacher at all: the student trains on its labelled course samples with CE only
 */
public record TrainConfig(ModelSpec teacher, ModelSpec student, TeacherMode mode, int students, long steps, long seed,
                          StudentConfig studentConfig, TeacherConfig teacherConfig, int batchSize, int examBatchSize,
                          SwapSchedule swap, double labelFraction, double quizFraction, PretrainConfig pretrain,
                          DataType type, boolean studentAlone, TeacherSet teachers) {

    /** One teacher, {@code teacher}. */
    public TrainConfig(ModelSpec teacher, ModelSpec student, TeacherMode mode, int students, long steps, long seed,
                       StudentConfig studentConfig, TeacherConfig teacherConfig, int batchSize, int examBatchSize,
                       SwapSchedule swap, double labelFraction, double quizFraction, PretrainConfig pretrain,
                       DataType type, boolean studentAlone) {
        this(teacher, student, mode, students, steps, seed, studentConfig, teacherConfig, batchSize, examBatchSize, swap,
            labelFraction, quizFraction, pretrain, type, studentAlone, TeacherSet.one(teacher));
    }

    public TrainConfig {
        if (!teachers.models().get(0).equals(teacher)) {
            throw new IllegalArgumentException("the first of the teachers is the run's teacher: " + teachers.models().get(0) + " is not "
                + teacher);
        }
        if (teachers.count() > 1 && swap.enabled()) {
            throw new IllegalArgumentException("--swap swaps in one teacher's stages; a run of " + teachers.count() + " teachers "
                + "does not swap");
        }
        if (students < 1) {
            throw new IllegalArgumentException("students must be at least 1, got " + students);
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        }
        if (batchSize < 1 || examBatchSize < 1) {
            throw new IllegalArgumentException("batch sizes must be at least 1, got " + batchSize + " and " + examBatchSize);
        }
        if (swap.enabled() && !student.swappableWith(teacher)) {
            throw new IllegalArgumentException("--swap needs student stages that fit the teacher's: student " + student
                + " and teacher " + teacher + " differ in family, boundary or stage count");
        }
    }

    /** The student's course settings; alone, it learns from its labels only (α = 0). */
    public StudentConfig effectiveStudentConfig() {
        return studentAlone
            ? new StudentConfig(studentConfig.learningRate(), studentConfig.momentum(), studentConfig.temperature(), 0)
            : studentConfig;
    }

    /**
     * Student {@code i}'s id as the learning names it ({@code student-i}); the wire's
     * {@code Envelopes.studentId} makes the same one (a test in wiring holds them together).
     */
    public static String studentId(int i) {
        if (i < 0) {
            throw new IllegalArgumentException("a student index is >= 0, got " + i);
        }
        return "student-" + i;
    }

    /** Student {@code i}'s seed for parameters, batches, swaps and adapter: distinct, and fixed by the run seed. */
    public long studentSeed(int i) {
        return seed * 1_000_003L + 17L * (i + 1);
    }

    public TrainConfig with(TeacherMode m, SwapSchedule s, boolean alone) {
        return new TrainConfig(teacher, student, m, students, steps, seed, studentConfig, teacherConfig, batchSize,
            examBatchSize, s, labelFraction, quizFraction, pretrain, type, alone, teachers);
    }

    /** The same run with these teachers (the first of them the run's teacher). */
    public TrainConfig withTeachers(TeacherSet t) {
        return new TrainConfig(t.models().get(0), student, mode, students, steps, seed, studentConfig, teacherConfig, batchSize,
            examBatchSize, swap, labelFraction, quizFraction, pretrain, type, studentAlone, t);
    }

    /**
     * The run as teacher {@code k} alone sees it, to pretrain it: its model, and its own seed (the
     * run itself for its only teacher, or for the first of several).
     */
    public TrainConfig ofTeacher(int k) {
        return teachers.count() == 1 ? this
            : withTeachers(TeacherSet.one(teachers.models().get(k))).withSeed(TeacherSet.pretrainSeed(seed, k));
    }

    public TrainConfig withStudent(ModelSpec spec) {
        return new TrainConfig(teacher, spec, mode, students, steps, seed, studentConfig, teacherConfig, batchSize,
            examBatchSize, swap, labelFraction, quizFraction, pretrain, type, studentAlone, teachers);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(teacher, student, mode, students, steps, s, studentConfig, teacherConfig, batchSize,
            examBatchSize, swap, labelFraction, quizFraction, pretrain, type, studentAlone, teachers);
    }

    public TrainConfig withLabelFraction(double f) {
        return new TrainConfig(teacher, student, mode, students, steps, seed, studentConfig, teacherConfig, batchSize,
            examBatchSize, swap, f, quizFraction, pretrain, type, studentAlone, teachers);
    }

    public TrainConfig withTeacherConfig(TeacherConfig t) {
        return new TrainConfig(teacher, student, mode, students, steps, seed, studentConfig, t, batchSize,
            examBatchSize, swap, labelFraction, quizFraction, pretrain, type, studentAlone, teachers);
    }

    public TrainConfig withSteps(long n) {
        return new TrainConfig(teacher, student, mode, students, n, seed, studentConfig, teacherConfig, batchSize,
            examBatchSize, swap, labelFraction, quizFraction, pretrain, type, studentAlone, teachers);
    }

    public TrainConfig withStudents(int n) {
        return new TrainConfig(teacher, student, mode, n, steps, seed, studentConfig, teacherConfig, batchSize,
            examBatchSize, swap, labelFraction, quizFraction, pretrain, type, studentAlone, teachers);
    }

    /** Teacher pretraining: CE on every training label. */
    public record PretrainConfig(long steps, int batchSize, double learningRate, double momentum) {
        public PretrainConfig {
            if (steps < 1) {
                throw new IllegalArgumentException("pretraining steps must be at least 1, got " + steps);
            }
        }
    }
}
