package dev.ikd.learning.metrics;

import dev.ikd.core.train.StepListener;
import dev.ikd.runtime.ServiceMetrics;

/**
 * Step events as a service's meters: time per learning phase (wall and CPU), and the latest losses,
 * exam accuracy, step and test accuracy per student, and how far each student's teacher has moved from where
 * it started (KL on the step's exam batch) with its accuracy there; with several teachers, each one's
 * weight in a student's latest step (0 when the step went without it) and the steps that went
 * without it (README, "Metrics").
 */
public final class MetricsListener implements StepListener {

    private final ServiceMetrics metrics;

    public MetricsListener(ServiceMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void onSoftTargets(SoftTargetsServed e) {
        metrics.phase("soft_targets", e.wallNanos());
        metrics.phaseCpu("soft_targets", e.cpuNanos());
    }

    @Override
    public void onStudentStep(StudentStepped e) {
        metrics.phase("course_exam", e.wallNanos());
        metrics.latest("course_loss", e.student(), e.courseLoss());
        metrics.latest("exam_loss", e.student(), e.examLoss());
        metrics.latest("exam_accuracy", e.student(), e.examAccuracy());
        metrics.latest("step", e.student(), e.step() + 1);
    }

    @Override
    public void onTeachersWeighed(TeachersWeighed e) {
        e.weights().forEach((teacher, w) -> metrics.teacherWeight(e.student(), teacher, w));
        e.without().forEach(teacher -> {
            metrics.teacherWeight(e.student(), teacher, 0);
            metrics.stepWithout(e.student(), teacher);
        });
    }

    @Override
    public void onTeacherStep(TeacherStepped e) {
        metrics.phase("teacher_update", e.wallNanos());
        metrics.phaseCpu("teacher_update", e.cpuNanos());
        metrics.latest("teacher_loss", e.student(), e.teacherLoss());
        metrics.latest("teacher_drift_kl", e.student(), e.driftKl());
        metrics.latest("teacher_exam_accuracy", e.student(), e.examAccuracy());
    }

    @Override
    public void onFinished(StudentFinished e) {
        metrics.latest("test_accuracy", e.student(), e.testAccuracy());
    }
}
