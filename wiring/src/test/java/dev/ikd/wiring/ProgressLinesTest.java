package dev.ikd.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Hop;
import org.junit.jupiter.api.Test;

class ProgressLinesTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    private final Hop hop = Hop.arrived(1, 2, 3);

    @Test
    void givenEvery25StepsWhenExamResultsArriveThenALineAtEach25thStepAndAtTheLast() {
        ProgressLines lines = new ProgressLines(Kind.EXAM_RESULT, "r", 60, 25, print);
        for (long step = 0; step < 60; step++) {
            lines.handled("coordinator", "ikd.exam-results", exam("r", step), hop);
        }
        assertThat(out.toString(StandardCharsets.UTF_8).lines()).containsExactly(
            "ikd coordinator: run r student-0 step 25/60 course loss 0.5000 exam loss 0.2500 exam acc 0.9000",
            "ikd coordinator: run r student-0 step 50/60 course loss 0.5000 exam loss 0.2500 exam acc 0.9000",
            "ikd coordinator: run r student-0 step 60/60 course loss 0.5000 exam loss 0.2500 exam acc 0.9000");
    }

    @Test
    void givenTheDefaultThenEveryTenthOfTheRunAndOtherRunsAndKindsAreLeftOut() {
        ProgressLines lines = new ProgressLines(Kind.FEEDBACK, "r", 100, 0, print);
        for (long step = 0; step < 100; step++) {
            lines.handled("teacher", "ikd.feedback", feedback("r", step), hop);
            lines.handled("teacher", "ikd.feedback", feedback("other", step), hop);
            lines.handled("teacher", "ikd.exam-results", exam("r", step), hop);
        }
        var printed = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(printed).hasSize(10).allMatch(l -> l.startsWith("ikd teacher: run r student-0 step ") && l.endsWith("course loss 0.5000"));
        assertThat(printed.get(0)).contains("step 10/100");
    }

    @Test
    void aNegativeIntervalIsRefused() {
        assertThatThrownBy(() -> new ProgressLines(Kind.FEEDBACK, "r", 10, -1, print)).hasMessageContaining("--progress-every");
    }

    private static Envelope exam(String run, long step) {
        return Envelope.newBuilder().setRunId(run).setStudentId("student-0").setStep(step).setKind(Kind.EXAM_RESULT)
            .setExamResult(ExamResult.newBuilder().setCourseLoss(0.5).setExamLoss(0.25).setExamAccuracy(0.9)).build();
    }

    private static Envelope feedback(String run, long step) {
        return Envelope.newBuilder().setRunId(run).setStudentId("student-0").setStep(step).setKind(Kind.FEEDBACK)
            .setFeedback(Feedback.newBuilder().setCourseLoss(0.5)).build();
    }
}
