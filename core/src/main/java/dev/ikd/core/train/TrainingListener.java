package dev.ikd.core.train;

/**
 * Progress of a run. The progress bar, metrics and the dashboard are listeners, not code paths.
 */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {
    };

    default void onPretrainStep(long step, long total, double loss) {
    }

    default void onStep(StepEvent event) {
    }

    /**
     * @param teacherVersion the teacher version after this step's exam step
     */
    record StepEvent(int student, long step, long totalSteps, double courseLoss, double examLoss, double examAccuracy,
                     double teacherLoss, long teacherVersion, String paramSha256) {
    }
}
