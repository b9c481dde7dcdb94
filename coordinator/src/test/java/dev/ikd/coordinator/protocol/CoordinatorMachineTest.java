package dev.ikd.coordinator.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.proto.v1.TeacherUpdated;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.processor.Input;
import org.junit.jupiter.api.Test;

/** The coordinator's envelopes in and out around the {@link Protocol} (whose rules {@code ProtocolTest} covers). */
class CoordinatorMachineTest {

    static final String RUN = "run-1";
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T08:00:00Z"), ZoneOffset.UTC);
    static final DatasetSpec DATA = DatasetSpec.newBuilder().setName("digits").setSha256("ab".repeat(32)).setTrainSize(1438)
        .setSplitSeed(1).setLabelFraction(1).setQuizFraction(0.1).build();

    final CoordinatorMachine machine = new CoordinatorMachine(new CoordinatorMachine.Settings(DATA, "ikd", 1_000, 5, 1), RUN,
        "coordinator");

    static Envelope enrollment(String student, long steps) {
        return Envelopes.header(RUN, student, 0, Kind.ENROLLMENT, student, CLOCK).setEnrollment(Enrollment.newBuilder()
            .setDataset(DATA).setHyperParameters(HyperParameters.newBuilder().setBatchSize(8).setExamBatchSize(8).setSteps(steps)
                .setSeed(5).setTeacherMode("ikd"))).build();
    }

    static Envelope exam(String student, long step) {
        return Envelopes.header(RUN, student, step, Kind.EXAM_RESULT, student, CLOCK)
            .setExamResult(ExamResult.newBuilder().setParamSha256("h" + step)).build();
    }

    static Envelope updated(String student, long step) {
        return Envelopes.header(RUN, student, step, Kind.TEACHER_UPDATED, "teacher", CLOCK)
            .setTeacherUpdated(TeacherUpdated.newBuilder().setTeacherVersion(step + 1)).build();
    }

    List<Envelope> apply(Envelope e, long nowMs) {
        return machine.apply(new Input(e, new Position("ikd.enrollment", 0, 0), nowMs));
    }

    @Test
    void anAdmissionCarriesWhatWasAdmittedForTheTeacherToStartTheStudentFrom() {
        List<Envelope> out = apply(enrollment("student-0", 2), 0);
        assertThat(out).extracting(Envelope::getKind).containsExactly(Kind.ADMITTED);
        assertThat(out.get(0).getAdmitted().getEnrollment()).isEqualTo(enrollment("student-0", 2).getEnrollment());
        assertThat(out.get(0).getAdmitted().getSteps()).isEqualTo(2);
        assertThat(machine.applied()).isEqualTo(1);
    }

    /** The machine reads no clock: what it sends carries the time its input was applied at, or the tick's. */
    @Test
    void whatTheMachineSendsIsStampedWithTheTimeItWasGiven() {
        List<Envelope> admitted = machine.apply(new Input(enrollment("student-0", 2), new Position("ikd.enrollment", 0, 0),
            1_700_000_000_123L, 1_700_000_000_123_456L));
        assertThat(admitted).singleElement().satisfies(e -> {
            assertThat(e.getEventTimeUs()).isEqualTo(1_700_000_000_123_456L);
            assertThat(e.getEventTimeMs()).isEqualTo(1_700_000_000_123L);
        });
        assertThat(machine.tick(1_700_000_001_123L)).singleElement()
            .satisfies(e -> assertThat(e.getEventTimeUs()).isEqualTo(1_700_000_001_123_000L));
    }

    @Test
    void aVersionMismatchAbortsTheStudentWithTheReason() {
        apply(enrollment("student-0", 2), 0);
        List<Envelope> out = apply(exam("student-0", 0).toBuilder().setExamResult(ExamResult.newBuilder().setTeacherVersion(4))
            .build(), 0);
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.getKind()).isEqualTo(Kind.ABORT);
            assertThat(e.getStudentId()).isEqualTo("student-0");
            assertThat(e.getAbort().getReason()).isEqualTo("step 0 learned from teacher version 4, but the teacher reported "
                + "version 0 to start from");
        });
    }

    @Test
    void anExamResultOrATeacherUpdateThatSaysItDivergedAbortsTheStudentsAndTheWholeRun() {
        String line = "student-0 diverged at step 0: the exam loss is NaN";
        apply(enrollment("student-0", 2), 0);
        apply(enrollment("student-1", 2), 0);
        List<Envelope> out = apply(Envelopes.header(RUN, "student-0", 0, Kind.EXAM_RESULT, "student-0", CLOCK)
            .setExamResult(ExamResult.newBuilder().setDiverged(line)).build(), 5);
        assertThat(out).extracting(Envelope::getKind, Envelope::getStudentId)
            .containsExactly(tuple(Kind.ABORT, "student-0"), tuple(Kind.ABORT, "student-1"), tuple(Kind.ABORT, ""));
        assertThat(out).allSatisfy(e -> assertThat(e.getAbort().getReason()).isEqualTo(line));
        assertThat(machine.abortedBecause()).isEqualTo(line);

        var teacherSide = new CoordinatorMachine(new CoordinatorMachine.Settings(DATA, "ikd", 1_000, 5, 1), RUN, "coordinator");
        teacherSide.apply(new Input(enrollment("student-0", 2), new Position("ikd.enrollment", 0, 0), 0));
        String teacherLine = "the teacher of student-0 diverged at step 1: a soft target is NaN at [3, 0]";
        assertThat(teacherSide.apply(new Input(Envelopes.header(RUN, "student-0", 0, Kind.TEACHER_UPDATED, "teacher", CLOCK)
            .setTeacherUpdated(TeacherUpdated.newBuilder().setDiverged(teacherLine)).build(), new Position("ikd.teacher-updates", 0, 0),
            0))).last().satisfies(e -> assertThat(e.getAbort().getReason()).isEqualTo(teacherLine));
    }

    @Test
    void aRejectedEventIsRefusedWithTheProtocolsReasonAndNotCounted() {
        apply(enrollment("student-0", 2), 0);
        assertThatThrownBy(() -> apply(exam("student-0", 1), 0)).isInstanceOf(RejectedMessageException.class)
            .hasMessage("out of order: exam result of step 1 of student student-0 before that of step 0");
        assertThat(machine.applied()).isEqualTo(1);
    }

    @Test
    void timePassingNudgesTheStepAndTheLastReportEndsTheRun() {
        apply(enrollment("student-0", 1), 0);
        assertThat(machine.tick(999)).isEmpty();
        assertThat(machine.tick(1_000)).extracting(Envelope::getIdempotencyKey).containsExactly("run-1/student-0/0/course_start");
        apply(exam("student-0", 0), 10);
        assertThat(apply(updated("student-0", 0), 20)).extracting(Envelope::getKind).containsExactly(Kind.FINISH);
        assertThat(machine.ended()).isFalse();
        List<Envelope> end = apply(Envelopes.header(RUN, "student-0", 1, Kind.STUDENT_REPORT, "student-0", CLOCK)
            .setStudentReport(StudentReport.newBuilder().setSteps(1).setParamSha256("h")).build(), 30);
        assertThat(end).singleElement().satisfies(e -> {
            assertThat(e.getKind()).isEqualTo(Kind.FINISH);
            assertThat(e.getStudentId()).as("the run's end names no student").isEmpty();
        });
        assertThat(machine.ended()).isTrue();
    }
}
