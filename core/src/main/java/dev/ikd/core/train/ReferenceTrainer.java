package dev.ikd.core.train;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Plan;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.Ensemble;
import dev.ikd.core.learn.FeatureCache;
import dev.ikd.core.learn.Student;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.learn.TeacherWeighting;
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
        return run(c, data, List.of(pretrainedTeacher), parent, listener);
    }

    /**
     * @param pretrained each teacher's pretrained parameters, in the order of {@code c.teachers()}: every student learns
     *                   from all of them, combined per sample ({@link Ensemble}), and each learns from its own share of
     *                   the feedback
     */
    public static TrainResult run(TrainConfig c, Dataset data, List<Params> pretrained, NDManager parent, StepListener listener) {
        return run(c, data, pretrained, null, parent, listener);
    }

    /**
     * As above, with each teacher's frozen backbone served from {@code caches} (one per teacher, in
     * order; null: a cache of this run's own): the cached rows of a teacher depend on nothing but its
     * parameters and the data, so runs that share a teacher can share its cache (a benchmark's
     * methods), to the same bits.
     */
    public static TrainResult run(TrainConfig c, Dataset data, List<Params> pretrained, List<FeatureCache> caches, NDManager parent,
                                  StepListener listener) {
        return run(c, data, pretrained, caches, TeachersUsed.ALL, parent, listener);
    }

    /**
     * As above, each step learning from the teachers {@code used} names (a run whose steps went ahead
     * without a late teacher, as its log recorded them); a teacher a step did not use serves nothing
     * and learns nothing at that step.
     */
    public static TrainResult run(TrainConfig c, Dataset data, List<Params> pretrained, List<FeatureCache> caches, TeachersUsed used,
                                  NDManager parent, StepListener listener) {
        long t0 = System.nanoTime();
        DataType type = c.type();
        TeacherSet set = c.teachers();
        if (pretrained.size() != set.count()) {
            throw new IllegalArgumentException(pretrained.size() + " pretrained teachers for a run of " + set.count());
        }
        List<Network> teacherNets = set.models().stream().map(m -> Network.build(m, data)).toList();
        Network studentNet = Network.build(c.student(), data);
        Splits splits = Splits.of(data.trainSize(), c.labelFraction(), c.quizFraction(), c.seed());
        try (NDManager run = parent.newSubManager()) {
            List<Student> students = new ArrayList<>();
            List<List<Teacher>> teachers = new ArrayList<>();
            List<Plan> plans = new ArrayList<>();
            // One cache of each frozen backbone for all students, as each teacher service keeps it.
            List<FeatureCache> backbones = new ArrayList<>();
            for (int t = 0; t < set.count(); t++) {
                backbones.add(c.mode() == TeacherMode.IKD || c.studentAlone() ? null : caches != null ? caches.get(t)
                    : new FeatureCache(teacherNets.get(t), pretrained.get(t), data, type, data.trainSize(), run));
            }
            for (int i = 0; i < c.students(); i++) {
                Plan plan = Plan.of(splits, c.batchSize(), c.examBatchSize(), c.studentSeed(i), c.studentAlone());
                plans.add(plan);
                students.add(Student.fresh(studentNet, c.effectiveStudentConfig(), plan.seed(), type, run));
                List<Teacher> mine = new ArrayList<>();
                for (int t = 0; t < set.count() && !c.studentAlone(); t++) {
                    mine.add(Teacher.enroll(teacherNets.get(t), pretrained.get(t), c.mode(), c.teacherConfig(),
                        c.studentConfig().temperature(), plan.seed() + 3, backbones.get(t), run));
                }
                teachers.add(mine);
            }
            for (long k = 0; k < c.steps(); k++) {
                for (int i = 0; i < c.students(); i++) {
                    List<Teacher> mine = teachers.get(i);
                    int[] present = mine.isEmpty() ? new int[0] : used.at(TrainConfig.studentId(i), k, mine.size());
                    step(c, data, k, i, plans.get(i), students.get(i), mine, present, teacherNets.get(0), pretrained.get(0),
                        listener, run);
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

    /**
     * Student i's step k: the soft targets of each teacher {@code present} names, combined; the
     * student's course step, exam and feedback; each of those teachers' exam step on its share. Under
     * MetaDistil's pilot update ({@code --teacher-leash pilot=1}) the course step, exam and feedback
     * are a pilot on a copy of the student, and its real course step then learns from the soft targets
     * of the teachers as their exam steps left them, on the same batch.
     */
    private static void step(TrainConfig c, Dataset data, long k, int i, Plan plan, Student student, List<Teacher> teachers,
                             int[] present, Network teacherNet, Params frozenTeacher, StepListener listener, NDManager run) {
        DataType type = c.type();
        String id = TrainConfig.studentId(i);
        int[] ids = plan.course().batch(k);
        boolean[] labeled = plan.labeledMask(ids);
        float[][] served = new float[Math.max(1, present.length)][];
        if (teachers.isEmpty()) {
            served[0] = new float[ids.length * data.classes()];
        }
        serve(data, k, id, ids, teachers, present, served, type, listener, run);
        TeacherWeighting weighting = teachers.isEmpty() ? TeacherWeighting.EQUAL : c.teachers().weighting().among(present);
        Ensemble.Mix mix = Ensemble.mix(weighting, served, data.classes(), data.trainLabels(ids), labeled);
        float[] p = mix.targets();
        Swap swap = c.swap().enabled()
            ? new Swap(teacherNet, frozenTeacher, c.swap().mask(plan.seed(), k, c.steps(), teacherNet.stageCount() - 1))
            : Swap.NONE;
        long t0 = System.nanoTime();
        TeacherMode mode = teachers.isEmpty() ? TeacherMode.FROZEN : c.mode();
        boolean pilot = c.teacherConfig().leash().pilot() && mode.learnsFromFeedback();
        Student.StepResult r = pilot
            ? WireSteps.pilot(student, data, ids, labeled, plan.exam().batch(k), p, swap, mode, type, run)
            : WireSteps.learn(student, data, ids, labeled, plan.exam().batch(k), p, swap, mode, type, run);
        long studentNanos = System.nanoTime() - t0;
        if (!pilot) {
            // Heard before the divergence check, so a step that is not finite is reported too.
            listener.onStudentStep(new StepListener.StudentStepped(id, k, c.steps(), r.courseLoss(), r.examLoss(), r.examAccuracy(),
                r.paramSha256(), studentNanos));
        }
        String diverged = Divergence.ofStudentStep(r, data.classes());
        if (diverged != null) {
            throw new DivergedException(DivergedException.line(id, k, diverged));
        }
        float[][] shares = mix.feedback(r.feedback());
        if (teachers.size() > 1) {
            listener.onTeachersWeighed(StepListener.TeachersWeighed.of(id, k, java.util.stream.IntStream.range(0, teachers.size())
                .mapToObj(c.teachers()::id).toList(), present, mix.meanWeights()));
        }
        for (int t = 0; t < present.length; t++) {
            long t1 = System.nanoTime();
            long cpu1 = StepListener.cpuNanos();
            Teacher.Update u = WireSteps.teach(teachers.get(present[t]), data, ids, plan.exam().batch(k), k, c.steps(), shares[t],
                r.courseLogits(), type, run);
            String teacherDiverged = Divergence.ofLoss("the teacher's loss", u.loss());
            if (teacherDiverged != null) {
                throw new DivergedException("the teacher of " + DivergedException.line(id, k, teacherDiverged));
            }
            listener.onTeacherStep(new StepListener.TeacherStepped(id, k, u.loss(), u.version(), u.driftKl(), u.examAccuracy(),
                System.nanoTime() - t1, StepListener.cpuNanos() - cpu1));
        }
        if (pilot) {
            float[][] updated = new float[present.length][];
            serve(data, k, id, ids, teachers, present, updated, type, listener, run);
            float[] again = Ensemble.mix(weighting, updated, data.classes(), data.trainLabels(ids), labeled).targets();
            long t2 = System.nanoTime();
            String hash = WireSteps.courseStep(student, data, ids, labeled, again, swap, type, run);
            listener.onStudentStep(new StepListener.StudentStepped(id, k, c.steps(), r.courseLoss(), r.examLoss(), r.examAccuracy(),
                hash, studentNanos + System.nanoTime() - t2));
        }
    }

    /** The soft targets of each teacher {@code present} names for the course ids, into {@code served}; refused when not finite. */
    private static void serve(Dataset data, long k, String id, int[] ids, List<Teacher> teachers, int[] present, float[][] served,
                              DataType type, StepListener listener, NDManager run) {
        for (int t = 0; t < present.length; t++) {
            long t0 = System.nanoTime();
            long cpu0 = StepListener.cpuNanos();
            served[t] = WireSteps.softTargets(teachers.get(present[t]), data, ids, type, run);
            String soft = Divergence.ofMatrix("a soft target", served[t], data.classes());
            if (soft != null) {
                throw new DivergedException("the teacher of " + DivergedException.line(id, k, soft));
            }
            listener.onSoftTargets(new StepListener.SoftTargetsServed(id, k, System.nanoTime() - t0,
                StepListener.cpuNanos() - cpu0));
        }
    }
}
