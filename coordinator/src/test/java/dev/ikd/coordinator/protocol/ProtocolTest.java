package dev.ikd.coordinator.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.ikd.coordinator.protocol.Command.Abort;
import dev.ikd.coordinator.protocol.Command.AbortRun;
import dev.ikd.coordinator.protocol.Command.Admit;
import dev.ikd.coordinator.protocol.Command.CourseStart;
import dev.ikd.coordinator.protocol.Command.EndRun;
import dev.ikd.coordinator.protocol.Command.Finish;
import dev.ikd.coordinator.protocol.Command.Refuse;
import dev.ikd.coordinator.protocol.Command.Reject;
import dev.ikd.coordinator.protocol.Event.Diverged;
import dev.ikd.coordinator.protocol.Event.Enrolled;
import dev.ikd.coordinator.protocol.Event.ExamResult;
import dev.ikd.coordinator.protocol.Event.Reported;
import dev.ikd.coordinator.protocol.Event.TeacherUpdated;
import dev.ikd.coordinator.protocol.Event.Tick;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The protocol's rules, one table each: given these past events, when this one arrives, then these commands. */
class ProtocolTest {

    static final String RUN = "run-1";
    static final String DATA = "ab".repeat(32);
    static final Event.Terms TERMS = new Event.Terms(DATA, "seed 1, labels 1.0, quiz 0.1", "ikd");
    static final long TIMEOUT = 1_000;
    static final int MAX_NUDGES = 3;

    static Enrolled enrolled(String student, long steps) {
        return new Enrolled(RUN, student, TERMS, steps);
    }

    /** Step k learned from teacher version k: the teacher's version after the update of step k−1. */
    static ExamResult exam(String student, long step) {
        return new ExamResult(RUN, student, step, "hash-" + step, step);
    }

    static TeacherUpdated teacher(String student, long step) {
        return new TeacherUpdated(RUN, student, step, step + 1);
    }


    static CourseStart start(String student, long step) {
        return new CourseStart(student, step);
    }

    /** given(...).when(...).then(...), with the clock at 0 unless a Tick says otherwise. */
    static final class Scenario {
        final Protocol protocol = new Protocol(RUN, TERMS, TIMEOUT, MAX_NUDGES, 2);
        List<Command> last = List.of();

        static Scenario given(Event... past) {
            var s = new Scenario();
            for (Event e : past) {
                s.protocol.handle(e, time(e));
            }
            return s;
        }

        Scenario when(Event e) {
            last = protocol.handle(e, time(e));
            return this;
        }

        Scenario then(Command... expected) {
            assertThat(last).containsExactly(expected);
            return this;
        }

        Scenario thenRejected(String reason) {
            assertThat(last).hasSize(1).first().isInstanceOf(Reject.class);
            assertThat(((Reject) last.get(0)).reason()).contains(reason);
            return this;
        }

        private static long time(Event e) {
            return e instanceof Tick t ? t.nowMs() : 0;
        }
    }

    /** Two teachers: each one's updates are a stream of their own, and a student is done when every stream is. */
    @Nested
    class SeveralTeachers {
        final Event.Terms two = new Event.Terms(DATA, TERMS.splits(), "ikd", List.of("teacher-a", "teacher-b"));

        Protocol protocol() {
            return new Protocol(RUN, two, TIMEOUT, MAX_NUDGES, 1);
        }

        TeacherUpdated update(String teacher, long step) {
            return new TeacherUpdated(RUN, "s1", step, step + 1, teacher);
        }

        /** Step k of s1, learned from both teachers at version k. */
        ExamResult exam(long step) {
            return new ExamResult(RUN, "s1", step, "hash-" + step, Map.of("teacher-a", step, "teacher-b", step));
        }

        @Test
        void aStudentFinishesOnceEveryTeachersUpdatesAreIn() {
            Protocol p = protocol();
            assertThat(p.handle(new Enrolled(RUN, "s1", two, 2), 0)).containsExactly(new Admit("s1", 2));
            for (Event e : List.of(exam(0), update("teacher-a", 0), update("teacher-b", 0), exam(1), update("teacher-b", 1))) {
                assertThat(p.handle(e, 0)).as(e.toString()).isEmpty();
            }
            assertThat(p.handle(update("teacher-a", 1), 0)).containsExactly(new Finish("s1", 2));
        }

        @Test
        void anUpdateFromATeacherTheRunDoesNotHaveOrTwiceFromOneIsRejected() {
            Protocol p = protocol();
            p.handle(new Enrolled(RUN, "s1", two, 2), 0);
            assertThat(p.handle(update("teacher-c", 0), 0)).singleElement().isEqualTo(new Reject(update("teacher-c", 0),
                "a teacher update from teacher-c, but run run-1 has teacher-a, teacher-b"));
            p.handle(update("teacher-a", 0), 0);
            assertThat(((Reject) p.handle(update("teacher-a", 0), 0).get(0)).reason())
                .isEqualTo("duplicate: the update of teacher-a of step 0 of student s1 is in");
        }

        @Test
        void aStepThatLearnedFromAnotherVersionThanOneTeachersIsAborted() {
            Protocol p = protocol();
            p.handle(new Enrolled(RUN, "s1", two, 3), 0);
            p.handle(update("teacher-a", 0), 0);
            p.handle(new TeacherUpdated(RUN, "s1", 0, 7, "teacher-b"), 0);
            p.handle(exam(0), 0);
            assertThat(p.handle(exam(1), 0)).containsExactly(new Abort("s1",
                "step 1 learned from teacher version 1, but teacher-b reported version 7 after step 0"));
        }

        @Test
        void aStudentOfOtherTeachersIsRefused() {
            assertThat(protocol().handle(new Enrolled(RUN, "s1", TERMS, 2), 0)).containsExactly(new Refuse("s1",
                "teachers differ: student learns from one teacher, run run-1 has teacher-a, teacher-b"));
        }

        @Test
        void anExamResultOfOneTeacherInARunOfSeveralIsRejected() {
            Protocol p = protocol();
            p.handle(new Enrolled(RUN, "s1", two, 2), 0);
            assertThat(((Reject) p.handle(ProtocolTest.exam("s1", 0), 0).get(0)).reason()).isEqualTo(
                "the exam result of step 0 of student s1 names a single teacher, but run run-1 has teacher-a, teacher-b");
        }
    }

    /** Three teachers, of which a step needs two once it has waited the deadline. */
    @Nested
    class LateTeachers {
        static final long DEADLINE = 300;
        final Event.Terms three = new Event.Terms(DATA, TERMS.splits(), "ikd", List.of("teacher-a", "teacher-b", "teacher-c"), 2);

        Protocol protocol(long steps) {
            Protocol p = new Protocol(RUN, three, TIMEOUT, MAX_NUDGES, 1, DEADLINE);
            assertThat(p.handle(new Enrolled(RUN, "s1", three, steps), 0)).containsExactly(new Admit("s1", steps));
            return p;
        }

        ExamResult exam(long step, Map<String, Long> versions) {
            return new ExamResult(RUN, "s1", step, "hash-" + step, versions);
        }

        TeacherUpdated update(String teacher, long step, long version) {
            return new TeacherUpdated(RUN, "s1", step, version, teacher);
        }

        @Test
        void aStepThatWaitedTheDeadlineIsToldOnceToGoAheadAndTheNextStepsDeadlineRunsFromItsExam() {
            Protocol p = protocol(3);
            assertThat(p.handle(new Tick(RUN, DEADLINE - 1), DEADLINE - 1)).isEmpty();
            assertThat(p.handle(new Tick(RUN, DEADLINE), DEADLINE)).containsExactly(new Command.TeacherDeadline("s1", 0));
            assertThat(p.handle(new Tick(RUN, DEADLINE + 50), DEADLINE + 50)).as("once a step").isEmpty();
            p.handle(exam(0, Map.of("teacher-a", 0L, "teacher-b", 0L)), 400);
            assertThat(p.handle(new Tick(RUN, 400 + DEADLINE - 1), 400 + DEADLINE - 1)).isEmpty();
            assertThat(p.handle(new Tick(RUN, 400 + DEADLINE), 400 + DEADLINE)).containsExactly(new Command.TeacherDeadline("s1", 1));
        }

        @Test
        void aTeacherAStepWentWithoutOwesNoUpdateOfItAndRejoinsAtTheVersionItHad() {
            Protocol p = protocol(2);
            for (Event e : List.of(exam(0, Map.of("teacher-a", 0L, "teacher-b", 0L)), update("teacher-a", 0, 1),
                update("teacher-b", 0, 1), exam(1, Map.of("teacher-a", 1L, "teacher-b", 1L, "teacher-c", 0L)),
                update("teacher-a", 1, 2), update("teacher-b", 1, 2))) {
                assertThat(p.handle(e, 0)).as(e.toString()).isEmpty();
            }
            assertThat(p.handle(update("teacher-c", 1, 1), 0)).containsExactly(new Finish("s1", 2));
        }

        @Test
        void aTeacherThatRejoinsAtAnotherVersionThanItHadIsAborted() {
            Protocol p = protocol(3);
            for (Event e : List.of(update("teacher-c", 0, 1), exam(0, Map.of("teacher-a", 0L, "teacher-b", 0L, "teacher-c", 0L)),
                exam(1, Map.of("teacher-a", 1L, "teacher-b", 1L)))) {
                assertThat(p.handle(e, 0)).as(e.toString()).isEmpty();
            }
            assertThat(p.handle(exam(2, Map.of("teacher-a", 2L, "teacher-b", 2L, "teacher-c", 2L)), 0)).containsExactly(
                new Abort("s1", "step 2 learned from teacher version 2, but teacher-c reported version 1 after step 0"));
        }

        @Test
        void anUpdateOfAStepThatWentWithoutTheTeacherIsAViolation() {
            Protocol p = protocol(3);
            p.handle(exam(0, Map.of("teacher-a", 0L, "teacher-b", 0L)), 0);
            assertThat(p.handle(update("teacher-c", 0, 1), 0)).containsExactly(new Abort("s1",
                "teacher-c reported an update of step 0, which went ahead without it"));
            Protocol q = protocol(3);
            q.handle(update("teacher-c", 0, 1), 0);
            assertThat(q.handle(exam(0, Map.of("teacher-a", 0L, "teacher-b", 0L)), 0)).as("the update first").containsExactly(
                new Abort("s1", "teacher-c reported an update of step 0, which went ahead without it"));
        }

        @Test
        void anUpdateThatOvertookTheUpdateOfAStepThatUsedTheTeacherIsAViolation() {
            Protocol p = protocol(3);
            // Exam results lag: teacher-c's update of step 1 comes first, as if step 0 had gone without it. It had not.
            p.handle(update("teacher-c", 1, 1), 0);
            assertThat(p.handle(exam(0, Map.of("teacher-a", 0L, "teacher-b", 0L, "teacher-c", 0L)), 0)).containsExactly(
                new Abort("s1", "out of order: teacher-c reported an update of step 1 before that of step 0, which used it"));
        }

        @Test
        void aStepOfFewerTeachersThanRequiredIsAViolation() {
            assertThat(protocol(3).handle(exam(0, Map.of("teacher-b", 0L)), 0)).containsExactly(new Abort("s1",
                "step 0 learned from 1 teacher (teacher-b), the run requires 2"));
        }

        @Test
        void aStudentThatRequiresAnotherNumberIsRefused() {
            Protocol p = new Protocol(RUN, three, TIMEOUT, MAX_NUDGES, 1, DEADLINE);
            Event.Terms all = new Event.Terms(DATA, TERMS.splits(), "ikd", List.of("teacher-a", "teacher-b", "teacher-c"));
            assertThat(p.handle(new Enrolled(RUN, "s1", all, 2), 0)).containsExactly(new Refuse("s1",
                "teachers required differ: student goes ahead with 3 of its teachers, run run-1 with 2"));
        }

        @Test
        void aRunThatNeedsEveryTeacherSendsNoDeadline() {
            Event.Terms all = new Event.Terms(DATA, TERMS.splits(), "ikd", List.of("teacher-a", "teacher-b", "teacher-c"));
            Protocol p = new Protocol(RUN, all, TIMEOUT, MAX_NUDGES, 1, DEADLINE);
            p.handle(new Enrolled(RUN, "s1", all, 2), 0);
            assertThat(p.handle(new Tick(RUN, TIMEOUT - 1), TIMEOUT - 1)).isEmpty();
        }
    }

    @Nested
    class Enrollment {
        @Test
        void aStudentWithTheRunsDataIsAdmittedAndTheTeacherStartsItWithoutTheCoordinator() {
            Scenario.given().when(enrolled("s1", 3)).then(new Admit("s1", 3));
        }

        @Test
        void aDatasetChecksumMismatchIsRefusedWithTheReason() {
            Scenario.given().when(new Enrolled(RUN, "s1", new Event.Terms("cd".repeat(32), TERMS.splits(), "ikd"), 3))
                .then(new Refuse("s1", "dataset checksum mismatch: student has " + "cd".repeat(32) + ", run run-1 uses " + DATA));
        }

        @Test
        void otherSplitsOrAnotherTeacherModeAreRefusedWithTheReason() {
            Scenario.given().when(new Enrolled(RUN, "s1", new Event.Terms(DATA, "seed 2, labels 1.0, quiz 0.1", "ikd"), 3))
                .then(new Refuse("s1", "data splits differ: student uses seed 2, labels 1.0, quiz 0.1, run run-1 uses "
                    + TERMS.splits()));
            Scenario.given().when(new Enrolled(RUN, "s1", new Event.Terms(DATA, TERMS.splits(), "pesf"), 3))
                .then(new Refuse("s1", "teacher mode differs: student expects pesf, run run-1 teaches in mode ikd"));
        }

        @Test
        void zeroStepsAreRefused() {
            Scenario.given().when(enrolled("s1", 0)).then(new Refuse("s1", "a student needs at least 1 step, asked for 0"));
        }

        @Test
        void emptyBatchesAreRefused() {
            Scenario.given().when(new Enrolled(RUN, "s1", TERMS, 3, 32, 0))
                .then(new Refuse("s1", "batch sizes must be at least 1, got 32 and 0"));
        }

        /** A restarted student may enroll again; refusing it would stop the student that is enrolled. */
        @Test
        void aSecondEnrollmentIsRejectedNotRefused() {
            Scenario.given(enrolled("s1", 3)).when(enrolled("s1", 3))
                .thenRejected("duplicate enrollment: student s1 is already enrolled in run run-1");
            Scenario.given(enrolled("s1", 3)).when(new Enrolled(RUN, "s1", new Event.Terms("cd".repeat(32), TERMS.splits(), "ikd"), 3))
                .thenRejected("duplicate enrollment: student s1 is already enrolled in run run-1");
        }
    }

    @Nested
    class Pipelining {
        @Test
        void theStepsGoOnWithoutTheCoordinatorWhichOnlyWatches() {
            Scenario.given(enrolled("s1", 3)).when(exam("s1", 0)).then().when(teacher("s1", 0)).then()
                .when(exam("s1", 1)).then().when(teacher("s1", 1)).then();
        }

        @Test
        void theTwoStreamsMayOvertakeEachOtherAcrossTopics() {
            // The teacher's update of step 0 and the student's exam of step 1 travel on different topics.
            Scenario.given(enrolled("s1", 3), exam("s1", 0), exam("s1", 1), exam("s1", 2)).when(teacher("s1", 0)).then()
                .when(teacher("s1", 1)).then();
            Scenario.given(enrolled("s1", 3), teacher("s1", 0), teacher("s1", 1)).when(exam("s1", 0)).then();
        }

        @Test
        void afterTheLastStepOfBothStreamsTheStudentIsFinishedAndHearsNothingMore() {
            Scenario s = Scenario.given(enrolled("s1", 2), exam("s1", 0), teacher("s1", 0), exam("s1", 1))
                .when(teacher("s1", 1)).then(new Finish("s1", 2));
            s.when(exam("s1", 2)).thenRejected("already finished its 2 steps");
        }

        @Test
        void studentsProceedIndependently() {
            Scenario.given(enrolled("s1", 1), enrolled("s2", 3), exam("s1", 0))
                .when(exam("s2", 0)).then()
                .when(teacher("s1", 0)).then(new Finish("s1", 1));
        }
    }

    @Nested
    class Versions {
        @Test
        void aStepThatLearnedFromAnotherTeacherVersionThanTheOneAfterThePreviousUpdateAbortsTheStudent() {
            Scenario.given(enrolled("s1", 5), exam("s1", 0), teacher("s1", 0))
                .when(new ExamResult(RUN, "s1", 1, "h", 0)).then(new Command.Abort("s1",
                    "step 1 learned from teacher version 0, but the teacher reported version 1 after step 0"));
            // The same when the update comes second.
            Scenario.given(enrolled("s1", 5), exam("s1", 0), new ExamResult(RUN, "s1", 1, "h", 7))
                .when(teacher("s1", 0)).then(new Command.Abort("s1",
                    "step 1 learned from teacher version 7, but the teacher reported version 1 after step 0"));
            Scenario.given(enrolled("s1", 5)).when(new ExamResult(RUN, "s1", 0, "h", 3)).then(new Command.Abort("s1",
                "step 0 learned from teacher version 3, but the teacher reported version 0 to start from"));
        }

        @Test
        void anAbortedStudentIsHeardNoMore() {
            Scenario.given(enrolled("s1", 5), new ExamResult(RUN, "s1", 0, "h", 3)).when(teacher("s1", 0))
                .thenRejected("student s1 was aborted");
        }

        @Test
        void aFrozenTeacherStaysAtVersionZero() {
            Scenario.given(enrolled("s1", 2), new ExamResult(RUN, "s1", 0, "h", 0), new TeacherUpdated(RUN, "s1", 0, 0),
                new ExamResult(RUN, "s1", 1, "h", 0)).when(new TeacherUpdated(RUN, "s1", 1, 0)).then(new Finish("s1", 2));
        }
    }

    @Nested
    class Refusals {
        @Test
        void aMessageForALaterStepIsOutOfOrder() {
            Scenario.given(enrolled("s1", 5)).when(exam("s1", 3))
                .thenRejected("out of order: exam result of step 3 of student s1 before that of step 0");
            Scenario.given(enrolled("s1", 5)).when(exam("s1", 9)).thenRejected("out of order");
        }

        @Test
        void aRepeatedAnswerIsADuplicateAndIsNotAppliedTwice() {
            Scenario.given(enrolled("s1", 5), exam("s1", 0)).when(exam("s1", 0))
                .thenRejected("duplicate: the exam result of step 0 of student s1 is in");
            Scenario.given(enrolled("s1", 5), exam("s1", 0), teacher("s1", 0)).when(teacher("s1", 0))
                .thenRejected("duplicate: the teacher update of step 0 of student s1 is in");
        }

        @Test
        void unknownRunsAndStudentsAreRejected() {
            Scenario.given(enrolled("s1", 5)).when(new ExamResult("run-2", "s1", 0, "h", 0)).thenRejected("unknown run run-2");
            Scenario.given(enrolled("s1", 5)).when(exam("s9", 0)).thenRejected("unknown student s9");
        }

        @Test
        void aRejectedMessageChangesNothing() {
            Scenario.given(enrolled("s1", 1), exam("s1", 0), exam("s1", 3), exam("s9", 0), exam("s1", 0),
                    new TeacherUpdated("run-2", "s1", 0, 1))
                .when(teacher("s1", 0)).then(new Finish("s1", 1));
        }
    }

    @Nested
    class Timeouts {
        @Test
        void aStudentWithNoNewsIsNudgedAtTheStepItIsStuckAtOncePerTimeout() {
            Scenario s = Scenario.given(enrolled("s1", 5));
            s.when(new Tick(RUN, TIMEOUT - 1)).then();
            s.when(new Tick(RUN, TIMEOUT)).then(start("s1", 0));
            s.when(new Tick(RUN, TIMEOUT + 10)).then();
            s.when(new Tick(RUN, 2 * TIMEOUT)).then(start("s1", 0));
        }

        @Test
        void theNudgeNamesTheOldestStepMissingAnAnswer() {
            Scenario s = Scenario.given(enrolled("s1", 5), exam("s1", 0), teacher("s1", 0), exam("s1", 1));
            s.when(new Tick(RUN, TIMEOUT)).then(start("s1", 1));
        }

        @Test
        void aStudentStillStuckAfterTheLastNudgeAbortsTheRunInsteadOfBeingNudgedForEver() {
            Scenario s = Scenario.given(enrolled("s1", 5), enrolled("s2", 5), exam("s1", 0), teacher("s1", 0));
            for (int n = 1; n <= MAX_NUDGES; n++) {
                s.when(new Tick(RUN, n * TIMEOUT)).then(start("s1", 1), start("s2", 0));
            }
            String reason = "s1 made no progress at step 1: nudged 3 times, 1000 ms apart, with no new exam result or teacher "
                + "update (the dead letters say what was refused)";
            s.when(new Tick(RUN, (MAX_NUDGES + 1) * TIMEOUT)).then(new Abort("s1", reason), new Abort("s2", reason),
                new AbortRun(reason));
            s.when(new Tick(RUN, (MAX_NUDGES + 5) * TIMEOUT)).then();
            s.when(exam("s2", 0)).thenRejected("run run-1 was aborted: " + reason);
        }

        @Test
        void newsResetsTheNudgeCount() {
            Scenario s = Scenario.given(enrolled("s1", 5));
            for (int n = 1; n <= MAX_NUDGES; n++) {
                s.when(new Tick(RUN, n * TIMEOUT)).then(start("s1", 0));
            }
            s.protocol.handle(exam("s1", 0), (MAX_NUDGES + 1) * TIMEOUT - 1);
            s.when(new Tick(RUN, (MAX_NUDGES + 2) * TIMEOUT)).then(start("s1", 0));
        }

        @Test
        void finishedStudentsAreNotNudged() {
            Scenario s = Scenario.given(enrolled("s1", 1), enrolled("s2", 5), exam("s1", 0), teacher("s1", 0));
            List<Command> reissued = new ArrayList<>(s.when(new Tick(RUN, TIMEOUT)).last);
            assertThat(reissued).containsExactly(start("s2", 0));
        }
    }

    @Nested
    class Divergence {
        static final String LINE = "s1 diverged at step 3: the feedback d is NaN at [0, 2]";

        @Test
        void aStepThatWasNotFiniteAbortsEveryStudentAndTheRunWithItsLine() {
            Scenario.given(enrolled("s1", 5), enrolled("s2", 5), enrolled("s3", 1), exam("s3", 0), teacher("s3", 0))
                .when(new Diverged(RUN, "s1", 3, LINE))
                .then(new Abort("s1", LINE), new Abort("s2", LINE), new AbortRun(LINE));
        }

        @Test
        void itOvertakesWhateverTheStreamsHadOutstanding() {
            Scenario.given(enrolled("s1", 5)).when(new Diverged(RUN, "s1", 3, LINE)).then(new Abort("s1", LINE), new AbortRun(LINE));
        }

        @Test
        void afterTheAbortEveryMessageIsRejectedWithItsReason() {
            Scenario s = Scenario.given(enrolled("s1", 5), new Diverged(RUN, "s1", 3, LINE));
            s.when(teacher("s1", 0)).thenRejected("run run-1 was aborted: " + LINE);
            s.when(new Diverged(RUN, "s1", 3, LINE)).thenRejected("run run-1 was aborted: " + LINE);
            s.when(enrolled("s9", 5)).thenRejected("was aborted");
            assertThat(s.protocol.abortedBecause()).isEqualTo(LINE);
            assertThat(s.protocol.ended()).isFalse();
        }

        @Test
        void aDivergenceOfAStudentThatWasNeverAdmittedIsRejected() {
            Scenario.given().when(new Diverged(RUN, "s7", 0, LINE)).thenRejected("unknown student s7");
        }
    }

    @Nested
    class EndOfRun {
        static Reported report(String student, long steps) {
            return new Reported(RUN, student, steps, "final-" + student);
        }

        @Test
        void theRunEndsWhenEveryExpectedStudentHasFinishedAndReported() {
            Scenario s = Scenario.given(enrolled("s1", 1), enrolled("s2", 1), exam("s1", 0), teacher("s1", 0),
                exam("s2", 0), teacher("s2", 0));
            s.when(report("s1", 1)).then();
            s.when(report("s2", 1)).then(new EndRun(2));
        }

        @Test
        void aReportBeforeFinishingOrASecondReportIsRejected() {
            Scenario.given(enrolled("s1", 2), exam("s1", 0), teacher("s1", 0)).when(report("s1", 2))
                .thenRejected("student s1 reports before finishing: it is at step 1 of 2");
            Scenario.given(enrolled("s1", 1), exam("s1", 0), teacher("s1", 0), report("s1", 1)).when(report("s1", 1))
                .thenRejected("duplicate report from student s1");
            Scenario.given().when(report("s7", 1)).thenRejected("unknown student s7");
        }
    }
}
