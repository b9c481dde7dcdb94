package dev.ikd.core.train;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.BatchSchedule;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Losses;
import dev.ikd.core.learn.Student;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import dev.ikd.core.model.Tensors;

/**
 * The whole protocol in one process, step by step in the order the services follow (DESIGN §5):
 * soft targets → course step + exam → feedback → teacher exam step. Soft targets and feedback pass
 * through float32 exactly as on the wire, so a distributed run can be compared bit for bit.
 */
public final class ReferenceTrainer {

    private ReferenceTrainer() {
    }

    /** One student's fixed plan: which samples each step uses (set at admission). */
    public record Plan(BatchSchedule course, BatchSchedule exam, boolean[] labeled, long seed) {

        public static Plan of(TrainConfig c, Splits splits, int student) {
            long seed = c.studentSeed(student);
            int[] pool = c.studentAlone() ? splits.labeledCourse() : splits.course();
            return new Plan(new BatchSchedule(pool, c.batchSize(), seed + 1), new BatchSchedule(splits.quiz(), c.examBatchSize(), seed + 2),
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

    public static TrainResult run(TrainConfig c, Dataset data, Params pretrainedTeacher, NDManager parent,
                                  TrainingListener listener) {
        long t0 = System.nanoTime();
        DataType type = c.type();
        Network teacherNet = Network.build(c.teacher(), data);
        Network studentNet = Network.build(c.student(), data);
        Splits splits = Splits.of(data.trainSize(), c.labelFraction(), c.quizFraction(), c.seed());
        try (NDManager run = parent.newSubManager()) {
            List<Student> students = new ArrayList<>();
            List<Teacher> teachers = new ArrayList<>();
            List<Plan> plans = new ArrayList<>();
            for (int i = 0; i < c.students(); i++) {
                Plan plan = Plan.of(c, splits, i);
                plans.add(plan);
                students.add(Student.fresh(studentNet, c.effectiveStudentConfig(), plan.seed(), type, run));
                teachers.add(c.studentAlone() ? null
                    : Teacher.enroll(teacherNet, pretrainedTeacher, c.mode(), c.teacherConfig(),
                        c.studentConfig().temperature(), plan.seed() + 3, run));
            }
            for (long k = 0; k < c.steps(); k++) {
                for (int i = 0; i < c.students(); i++) {
                    step(c, data, k, i, plans.get(i), students.get(i), teachers.get(i), teacherNet, pretrainedTeacher, listener, run);
                }
            }
            List<TrainResult.StudentResult> results = new ArrayList<>();
            for (int i = 0; i < c.students(); i++) {
                Student s = students.get(i);
                results.add(new TrainResult.StudentResult("student-" + i, s.stepsDone(),
                    Evaluation.testAccuracy(studentNet, s.parameters(), data, run), s.parameterHash()));
            }
            return new TrainResult(data.sha256(), results, (System.nanoTime() - t0) / 1e9);
        }
    }

    private static void step(TrainConfig c, Dataset data, long k, int i, Plan plan, Student student, Teacher teacher,
                             Network teacherNet, Params frozenTeacher, TrainingListener listener, NDManager run) {
        DataType type = c.type();
        try (NDManager s = run.newSubManager()) {
            int[] ids = plan.course().batch(k);
            int[] examIds = plan.exam().batch(k);
            int[] y = data.trainLabels(ids);
            NDArray x = data.trainFeatures(s, ids, type);
            NDArray oneHot = Losses.oneHot(s, y, plan.labeledMask(ids), data.classes(), type);
            NDArray examX = data.trainFeatures(s, examIds, type);
            NDArray p = teacher == null
                ? s.zeros(new ai.djl.ndarray.types.Shape(ids.length, data.classes()), type)
                : wire(teacher.softTargets(x, s), s);
            Swap swap = c.swap().enabled()
                ? new Swap(teacherNet, frozenTeacher, c.swap().mask(plan.seed(), k, c.steps(), teacherNet.stageCount() - 1))
                : Swap.NONE;
            Student.StepResult r = student.learn(x, oneHot, p, examX, data.trainLabels(examIds), swap);
            double teacherLoss = Double.NaN;
            long version = 0;
            if (teacher != null) {
                NDArray d = fromWire(r.feedback(), ids.length, data.classes(), type, s);
                NDArray logits = fromWire(r.courseLogits(), ids.length, data.classes(), type, s);
                Teacher.Update u = teacher.learn(x, y, d, logits);
                teacherLoss = u.loss();
                version = u.version();
            }
            listener.onStep(new TrainingListener.StepEvent(i, k, c.steps(), r.courseLoss(), r.examLoss(), r.examAccuracy(),
                teacherLoss, version, r.paramSha256()));
        }
    }

    /** What the wire does to soft targets: float32. */
    static NDArray wire(NDArray a, NDManager m) {
        if (a.getDataType() == DataType.FLOAT32) {
            return a;
        }
        NDArray back = a.toType(DataType.FLOAT32, false).toType(a.getDataType(), false);
        back.attach(m);
        return back;
    }

    static NDArray fromWire(float[] values, int rows, int cols, DataType type, NDManager m) {
        return Tensors.of(m, values, new ai.djl.ndarray.types.Shape(rows, cols), type);
    }
}
