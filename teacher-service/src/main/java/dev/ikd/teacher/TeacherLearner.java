package dev.ikd.teacher;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Plan;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.FeatureCache;
import dev.ikd.core.learn.SharedBackbone;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.WireSteps;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.state.ParamGroup;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Measured;
import dev.ikd.teacher.protocol.Teaching;

/**
 * One student's teacher on DJL, behind the machine's {@link Teaching} port: its φ copy or adapter
 * over the shared backbone, the batches the student's plan fixes, the steps of {@link WireSteps}
 * (the same ones the in-process trainer takes), and the measuring — the CPU a step took goes to the
 * listener and to the envelope's {@code measured}, outside what the student learns from.
 */
final class TeacherLearner implements Teaching {

    /** What every student's teacher shares: the settings, the frozen backbone, where tensors live, who hears the steps. */
    record Shared(TeacherService.Settings settings, SharedBackbone backbone, NDManager manager, StepListener listener)
        implements Teaching.School {

        @Override
        public Teaching enroll(String studentId, Enrollment enrollment) {
            return new TeacherLearner(this, studentId, enrollment);
        }

        @Override
        public Teaching restore(String studentId, Enrollment enrollment, PupilState saved) {
            TeacherLearner l = new TeacherLearner(this, studentId, enrollment);
            try {
                l.restore(saved);
                return l;
            } catch (RuntimeException e) {
                l.close();
                throw e;
            }
        }
    }

    private final Shared shared;
    private final String studentId;
    private final Plan plan;
    private final Teacher teacher;

    private TeacherLearner(Shared shared, String studentId, Enrollment enrollment) {
        this.shared = shared;
        this.studentId = studentId;
        var hp = enrollment.getHyperParameters();
        var d = enrollment.getDataset();
        TeacherService.Settings s = shared.settings();
        this.plan = Plan.of(Splits.of(d.getTrainSize(), d.getLabelFraction(), d.getQuizFraction(), d.getSplitSeed()),
            hp.getBatchSize(), hp.getExamBatchSize(), hp.getSeed(), false);
        this.teacher = Teacher.enroll(s.net(), s.pretrained(), s.mode(), s.config(), hp.getTemperature(), hp.getSeed() + 3,
            shared.backbone(), shared.manager());
    }

    private void restore(PupilState saved) {
        if (teacher.trainable() == null) {
            teacher.restore(null, null, saved.getVersion(), null, 0);
            return;
        }
        try (NDManager scope = shared.manager().newSubManager()) {
            Params trainable = ParamsCodec.params(saved.getTrainable(), scope);
            String difference = trainable.layoutDifference(teacher.trainable());
            if (difference != null) {
                throw new CheckpointException("the saved teacher of " + studentId + " is another model: " + difference);
            }
            teacher.restore(trainable, ParamsCodec.params(saved.getVelocity(), scope), saved.getVersion(),
                saved.hasGathered() ? ParamsCodec.params(saved.getGathered(), scope) : null, saved.getGatheredSteps());
        }
    }

    @Override
    public long version() {
        return teacher.version();
    }

    @Override
    public Served serve(long k) {
        int[] ids = plan.course().batch(k);
        TeacherService.Settings s = shared.settings();
        long t0 = System.nanoTime();
        long cpu0 = StepListener.cpuNanos();
        float[] probs = WireSteps.softTargets(teacher, s.data(), ids, s.type(), shared.manager());
        String diverged = Divergence.ofMatrix("a soft target", probs, s.data().classes());
        long cpu = StepListener.cpuNanos() - cpu0;
        if (diverged == null) {
            shared.listener().onSoftTargets(new StepListener.SoftTargetsServed(studentId, k, System.nanoTime() - t0, cpu));
        }
        Measured.Builder measured = Measured.newBuilder().setBusyUs(cpu / 1000);
        if (shared.backbone() instanceof FeatureCache cache) {
            measured.setCacheHitRatio(cache.hitRate());
        }
        return new Served(probs, teacher.temperature(), measured.build(), diverged);
    }

    @Override
    public Update teach(long k, long steps, float[] d, float[] courseLogits) {
        TeacherService.Settings s = shared.settings();
        long t0 = System.nanoTime();
        long cpu0 = StepListener.cpuNanos();
        Teacher.Update u = WireSteps.teach(teacher, s.data(), plan.course().batch(k), plan.exam().batch(k), k, steps, d,
            courseLogits, s.type(), shared.manager());
        long cpu = StepListener.cpuNanos() - cpu0;
        shared.listener().onTeacherStep(new StepListener.TeacherStepped(studentId, k, u.loss(), u.version(), u.driftKl(),
            u.examAccuracy(), System.nanoTime() - t0, cpu));
        return new Update(u.loss(), u.version(), u.driftKl(), u.examAccuracy(), Measured.newBuilder().setBusyUs(cpu / 1000).build(),
            Divergence.ofLoss("the teacher's loss", u.loss()));
    }

    @Override
    public void saveTo(PupilState.Builder state) {
        if (teacher.trainable() != null) {
            state.setTrainable(ParamsCodec.group(teacher.trainable())).setVelocity(ParamsCodec.group(teacher.velocity()));
            if (teacher.gathered() != null) {
                state.setGathered(ParamsCodec.group(teacher.gathered())).setGatheredSteps(teacher.gatheredSteps());
            }
        }
    }

    @Override
    public ParamGroup learned() {
        return teacher.trainable() == null ? null : ParamsCodec.group(teacher.trainable());
    }

    @Override
    public void close() {
        teacher.close();
    }
}
