package dev.ikd.core.train;

import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * What a run reports as it goes, step by step. The in-process trainer and the services (the student
 * and teacher machines, and a reader that follows a run's log) emit the same events, so progress
 * lines, metrics and the benchmarks are listeners, not code paths (docs/architecture.md
 * §7).
 */
public interface StepListener {

    StepListener NONE = new StepListener() {
    };

    default void onPretrainStep(long step, long total, double loss) {
    }

    /** The teacher computed a student's soft targets for a step. */
    default void onSoftTargets(SoftTargetsServed e) {
    }

    /** A student took a step: course step, exam, feedback. */
    default void onStudentStep(StudentStepped e) {
    }

    /**
     * With several teachers: how a student's step weighed them (each teacher's weight averaged over
     * the course batch), and which it went without (their soft targets past the deadline).
     */
    default void onTeachersWeighed(TeachersWeighed e) {
    }

    /** The teacher learned from a student's feedback of a step. */
    default void onTeacherStep(TeacherStepped e) {
    }

    /** A student finished all its steps and was tested. */
    default void onFinished(StudentFinished e) {
    }

    /**
     * @param wallNanos time the computation took
     * @param cpuNanos  CPU time of the thread that did it (does not grow when students share the cores)
     */
    record SoftTargetsServed(String student, long step, long wallNanos, long cpuNanos) {
    }

    record StudentStepped(String student, long step, long totalSteps, double courseLoss, double examLoss, double examAccuracy,
                          String paramSha256, long wallNanos) {
    }

    /**
     * @param teacherVersion the version of this student's teacher after the step
     * @param driftKl        KL(p0 ‖ p) of this student's teacher from the one it started from, on the step's exam batch
     * @param examAccuracy   the teacher's accuracy on the step's exam batch (NaN: not measured)
     */
    record TeacherStepped(String student, long step, double teacherLoss, long teacherVersion, double driftKl, double examAccuracy,
                          long wallNanos, long cpuNanos) {
    }

    record TeachersWeighed(String student, long step, java.util.Map<String, Double> weights, List<String> without) {

        public TeachersWeighed {
            weights = java.util.Map.copyOf(weights);
            without = List.copyOf(without);
        }

        /** Teacher ids and the mean weights of those present ({@code present}: indices into {@code teachers}, ascending). */
        public static TeachersWeighed of(String student, long step, List<String> teachers, int[] present, double[] meanWeights) {
            java.util.Map<String, Double> weights = new java.util.TreeMap<>();
            List<String> without = new java.util.ArrayList<>(teachers);
            for (int t = 0; t < present.length; t++) {
                weights.put(teachers.get(present[t]), meanWeights[t]);
                without.remove(teachers.get(present[t]));
            }
            return new TeachersWeighed(student, step, weights, without);
        }
    }

    record StudentFinished(String student, long steps, double testAccuracy, String paramSha256) {
    }

    /** Every event to each of {@code listeners}, in order. */
    static StepListener all(StepListener... listeners) {
        List<StepListener> each = List.of(listeners);
        return new StepListener() {
            @Override
            public void onPretrainStep(long step, long total, double loss) {
                each.forEach(l -> l.onPretrainStep(step, total, loss));
            }

            @Override
            public void onSoftTargets(SoftTargetsServed e) {
                each.forEach(l -> l.onSoftTargets(e));
            }

            @Override
            public void onStudentStep(StudentStepped e) {
                each.forEach(l -> l.onStudentStep(e));
            }

            @Override
            public void onTeacherStep(TeacherStepped e) {
                each.forEach(l -> l.onTeacherStep(e));
            }

            @Override
            public void onFinished(StudentFinished e) {
                each.forEach(l -> l.onFinished(e));
            }
        };
    }

    /** This thread's CPU time so far, in ns: for the {@code cpuNanos} of the events. */
    static long cpuNanos() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }
}
