package dev.ikd.wiring;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ikd.core.train.StepListener;

import me.tongfei.progressbar.InteractiveConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * One progress line per student on stderr (step, course loss, exam accuracy): a listener of the
 * students' steps, in-process or distributed alike. On a terminal each student gets a live bar on
 * its own line; when stderr is a file or a pipe, a plain line every tenth of the run (or every
 * {@code --progress-every} steps) instead of a stream of carriage returns.
 */
public final class StudentProgress implements StepListener, AutoCloseable {

    private final long steps;
    private final long every;
    private final boolean interactive = System.console() != null;
    private final Map<String, ProgressBar> bars = new LinkedHashMap<>();
    private final Map<String, Long> printed = new LinkedHashMap<>();

    public StudentProgress(List<String> students, long steps) {
        this(students, steps, 0);
    }

    /** @param every steps between plain lines; 0: a tenth of the run */
    public StudentProgress(List<String> students, long steps, long every) {
        this.steps = steps;
        this.every = every == 0 ? Math.max(1, steps / 10) : every;
        for (String s : students) {
            if (interactive) {
                bars.put(s, new ProgressBarBuilder().setTaskName(s).setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(250).setConsumer(new InteractiveConsoleProgressBarConsumer(System.err)).build());
            }
            printed.put(s, -1L);
        }
    }

    @Override
    public synchronized void onStudentStep(StudentStepped e) {
        String student = e.student();
        long step = e.step();
        if (!printed.containsKey(student)) {
            return;
        }
        String detail = String.format(" course %.3f exam acc %.2f", e.courseLoss(), e.examAccuracy());
        if (interactive) {
            ProgressBar bar = bars.get(student);
            bar.stepTo(step + 1);
            bar.setExtraMessage(detail);
            return;
        }
        long mark = (step + 1) / every;
        if (mark > printed.get(student) || step + 1 == steps) {
            printed.put(student, mark);
            System.err.printf("%s step %d/%d%s%n", student, step + 1, steps, detail);
        }
    }

    @Override
    public synchronized void close() {
        bars.values().forEach(ProgressBar::close);
    }
}
