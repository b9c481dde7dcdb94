package dev.ikd.wiring;

import java.io.PrintStream;
import java.util.Locale;

import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Hop;
import dev.ikd.runtime.ServiceMetrics;

/**
 * {@code --progress-every N}: a service prints one line each N steps of each student, from the
 * records it receives: the coordinator from the exam results (course and exam loss, exam accuracy),
 * the teacher from the feedback (course loss). A line is plain text for a log collector:
 * {@code ikd coordinator: run R student-0 step 50/200 course loss 0.412 exam loss 0.388 exam acc 0.906}.
 */
public final class ProgressLines implements ServiceMetrics.Observer {

    private final Kind reportOn;
    private final String runId;
    private final long steps;
    private final long every;
    private final PrintStream out;

    /** @param every steps between lines; 0: a tenth of the run */
    ProgressLines(Kind reportOn, String runId, long steps, long every, PrintStream out) {
        if (every < 0) {
            throw new IllegalArgumentException("--progress-every must be 0 (a tenth of the run) or more steps, got " + every);
        }
        this.reportOn = reportOn;
        this.runId = runId;
        this.steps = steps;
        this.every = every == 0 ? Math.max(1, steps / 10) : every;
        this.out = out;
    }

    @Override
    public void handled(String service, String topic, Envelope e, Hop hop) {
        if (e.getKind() != reportOn || !runId.equals(e.getRunId())) {
            return;
        }
        long done = e.getStep() + 1;
        if (done % every != 0 && done != steps) {
            return;
        }
        String detail = switch (e.getKind()) {
            case EXAM_RESULT -> String.format(Locale.ROOT, "course loss %.4f exam loss %.4f exam acc %.4f",
                e.getExamResult().getCourseLoss(), e.getExamResult().getExamLoss(), e.getExamResult().getExamAccuracy());
            case FEEDBACK -> String.format(Locale.ROOT, "course loss %.4f", e.getFeedback().getCourseLoss());
            case TEACHER_UPDATED -> String.format(Locale.ROOT, "teacher loss %.4f", e.getTeacherUpdated().getTeacherLoss());
            default -> "";
        };
        out.printf(Locale.ROOT, "ikd %s: run %s %s step %d/%d %s%n", service, runId, e.getStudentId(), done, steps, detail);
    }
}
