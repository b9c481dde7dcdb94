package dev.ikd.core.train;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Plan;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.FeatureCache;
import dev.ikd.core.learn.Student;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;

/**
 * The whole protocol in one process, step by step in the order the services follow (docs/architecture.md §5):
 * soft targets → course step + exam → feedback → teacher exam step. Soft targets and feedback pass
 * through float32 exactly as on the wire, so a distributed run can be compared bit for bit.
 */
public final class ReferenceTrainer {

    private ReferenceTrainer() {
    }

    public static TrainResult run(TrainConfig c, Dataset data, Params pretrainedTeacher, NDManager parent,
                                  StepListener listener) {
        long t0 = System.nanoTime();
        DataType type = c.type();
        Network teacherNet = Network.build(c.teacher(), data);
        Network studentNet = Network.build(c.student(), data);
        Splits splits = Splits.of(data.trainSize(), c.labelFraction(), c.quizFraction(), c.seed());
        try (NDManager run = parent.newSubManager()) {
            List<Student> students = new ArrayList<>();
            List<Teacher> teachers = new ArrayList<>();
            List<Plan> plans = new ArrayList<>();
            // One cache of the frozen backbone for all students, as the teacher service keeps it.
            FeatureCache cache = c.mode() == TeacherMode.IKD || c.studentAlone() ? null
                : new FeatureCache(teacherNet, pretrainedTeacher, data, type, data.trainSize(), run);
            for (int i = 0; i < c.students(); i++) {
                Plan plan = Plan.of(splits, c.batchSize(), c.examBatchSize(), c.studentSeed(i), c.studentAlone());
                plans.add(plan);
                students.add(Student.fresh(studentNet, c.effectiveStudentConfig(), plan.seed(), type, run));
                teachers.add(c.studentAlone() ? null
                    : Teacher.enroll(teacherNet, pretrainedTeacher, c.mode(), c.teacherConfig(),
                        c.studentConfig().temperature(), plan.seed() + 3, cache, run));
            }
            for (long k = 0; k < c.steps(); k++) {
                for (int i = 0; i < c.students(); i++) {
                    step(c, data, k, i, plans.get(i), students.get(i), teachers.get(i), teacherNet, pretrainedTeacher, listener, run);
                }
            }
            List<TrainResult.StudentResult> results = new ArrayList<>();
            for (int i = 0; i < c.students(); i++) {
                Student s = students.get(i);
                var result = new TrainResult.StudentResult(TrainConfig.studentId(i), s.stepsDone(),
                    Evaluation.testAccuracy(studentNet, s.parameters(), data, run), s.parameterHash(),
                    Evaluation.testHalves(studentNet, s.parameters(), data, run));
                listener.onFinished(new StepListener.StudentFinished(result.id(), result.steps(), result.testAccuracy(),
                    result.paramSha256()));
                results.add(result);
            }
            return new TrainResult(data.sha256(), results, (System.nanoTime() - t0) / 1e9);
        }
    }

    private static void step(TrainConfig c, Dataset data, long k, int i, Plan plan, Student student, Teacher teacher,
                             Network teacherNet, Params frozenTeacher, StepListener listener, NDManager run) {
        DataType type = c.type();
        String id = TrainConfig.studentId(i);
        int[] ids = plan.course().batch(k);
        float[] p;
        if (teacher == null) {
            p = new float[ids.length * data.classes()];
        } else {
            long t0 = System.nanoTime();
            long cpu0 = StepListener.cpuNanos();
            p = WireSteps.softTargets(teacher, data, ids, type, run);
            String soft = Divergence.ofMatrix("a soft target", p, data.classes());
            if (soft != null) {
                throw new DivergedException("the teacher of " + DivergedException.line(id, k, soft));
            }
            listener.onSoftTargets(new StepListener.SoftTargetsServed(id, k, System.nanoTime() - t0,
                StepListener.cpuNanos() - cpu0));
        }
        Swap swap = c.swap().enabled()
            ? new Swap(teacherNet, frozenTeacher, c.swap().mask(plan.seed(), k, c.steps(), teacherNet.stageCount() - 1))
            : Swap.NONE;
        long t0 = System.nanoTime();
        Student.StepResult r = WireSteps.learn(student, data, ids, plan.labeledMask(ids), plan.exam().batch(k), p, swap,
            teacher == null ? TeacherMode.FROZEN : c.mode(), type, run);
        listener.onStudentStep(new StepListener.StudentStepped(id, k, c.steps(), r.courseLoss(), r.examLoss(), r.examAccuracy(),
            r.paramSha256(), System.nanoTime() - t0));
        String diverged = Divergence.ofStudentStep(r, data.classes());
        if (diverged != null) {
            throw new DivergedException(DivergedException.line(id, k, diverged));
        }
        if (teacher != null) {
            long t1 = System.nanoTime();
            long cpu1 = StepListener.cpuNanos();
            Teacher.Update u = WireSteps.teach(teacher, data, ids, plan.exam().batch(k), k, c.steps(), r.feedback(), r.courseLogits(),
                type, run);
            String teacherDiverged = Divergence.ofLoss("the teacher's loss", u.loss());
            if (teacherDiverged != null) {
                throw new DivergedException("the teacher of " + DivergedException.line(id, k, teacherDiverged));
            }
            listener.onTeacherStep(new StepListener.TeacherStepped(id, k, u.loss(), u.version(), u.driftKl(), u.examAccuracy(),
                System.nanoTime() - t1, StepListener.cpuNanos() - cpu1));
        }
    }
}
