package dev.ikd.teacher.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import com.google.protobuf.Message;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.state.ParamGroup;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.Measured;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.runtime.processor.MachineScenario;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The teacher's rules for one student, one nested class each: given these past inputs, when this one
 * arrives, then these answers, or this refusal and nothing changed. The teaching is a
 * {@link FakeTeaching} behind the port: no model, no data set (TeacherLearnerTest runs the machine on
 * the real one).
 */
class TeacherMachineTest {

    static final String RUN = "run-1";
    static final String ME = "student-0";
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T08:00:00Z"), ZoneOffset.UTC);
    static final int BATCH = 8;
    static final long STEPS = 3;
    static final String SHA = "cd".repeat(32);
    static final TeacherMachine.Settings SETTINGS = new TeacherMachine.Settings(RUN, "teacher", "ikd", false, false, "digits", SHA,
        10);

    /**
     * A teacher as the port promises it, in plain arithmetic: its soft targets lean towards class
     * (row + version) mod 10, each exam step moves it one version on, and it may be told to diverge
     * at a step.
     */
    static final class FakeTeaching implements Teaching {
        long version;
        double learnedSum;
        final long divergesAt;

        FakeTeaching(long version, long divergesAt) {
            this.version = version;
            this.divergesAt = divergesAt;
        }

        @Override
        public long version() {
            return version;
        }

        @Override
        public Served serve(long k) {
            float[] p = new float[BATCH * 10];
            for (int i = 0; i < p.length; i++) {
                p[i] = i % 10 == (i / 10 + version) % 10 ? 0.55f : 0.05f;
            }
            return new Served(p, 2.0, Measured.newBuilder().setBusyUs(10 + k).build(), null);
        }

        @Override
        public Update teach(long k, long steps, float[] d, float[] courseLogits) {
            double loss = 0;
            for (float v : d) {
                loss += v;
            }
            learnedSum += loss;
            version++;
            return new Update(loss, version, 0.1, 0.5, Measured.newBuilder().setBusyUs(20).build(),
                k == divergesAt ? "the teacher's loss is NaN" : null);
        }

        @Override
        public void saveTo(PupilState.Builder state) {
            state.setTrainable(learned()).setVelocity(ParamGroup.getDefaultInstance());
        }

        @Override
        public ParamGroup learned() {
            return ParamGroup.newBuilder().setSha256(Double.toString(learnedSum)).build();
        }

        @Override
        public void close() {
        }
    }

    /** Sets up fake teachers that diverge at step {@code divergesAt} (-1: never). */
    record FakeSchool(long divergesAt) implements Teaching.School {
        @Override
        public Teaching enroll(String studentId, Enrollment enrollment) {
            return new FakeTeaching(0, divergesAt);
        }

        @Override
        public Teaching restore(String studentId, Enrollment enrollment, PupilState saved) {
            FakeTeaching t = new FakeTeaching(saved.getVersion(), divergesAt);
            t.learnedSum = Double.parseDouble(saved.getTrainable().getSha256());
            return t;
        }
    }

    static final FakeSchool SCHOOL = new FakeSchool(-1);

    static TeacherMachine fresh(TeacherMachine.Settings settings, FakeSchool school) {
        return new TeacherMachine(settings, school, ME);
    }

    static TeacherMachine restored(Message saved) {
        return TeacherMachine.restore(SETTINGS, SCHOOL, ME, (PupilState) saved);
    }

    static Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(RUN, ME, step, kind, "test", CLOCK);
    }

    static Envelope admitted(String mode, String sha256) {
        return header(0, Kind.ADMITTED).setAdmitted(Admitted.newBuilder().setTeacherMode(mode).setSteps(STEPS)
            .setEnrollment(Enrollment.newBuilder()
                .setDataset(DatasetSpec.newBuilder().setName("digits").setSha256(sha256).setTrainSize(1000)
                    .setSplitSeed(1).setLabelFraction(1.0).setQuizFraction(0.1))
                .setHyperParameters(HyperParameters.newBuilder().setTemperature(2).setBatchSize(BATCH).setExamBatchSize(BATCH)
                    .setSteps(STEPS).setSeed(5).setTeacherMode(mode)))).build();
    }

    static Envelope admitted() {
        return admitted("ikd", SHA);
    }

    static Envelope start(long step) {
        return header(step, Kind.COURSE_START).setCourseStart(CourseStart.getDefaultInstance()).build();
    }

    static Envelope feedback(long step, long version, float value) {
        float[] d = new float[BATCH * 10];
        for (int i = 0; i < d.length; i++) {
            d[i] = (i % 10 == step % 10 ? value : -value / 9) * 1e-2f;
        }
        return header(step, Kind.FEEDBACK).setFeedback(Feedback.newBuilder().setTeacherVersion(version)
            .setD(TensorCodec.encode(d, BATCH, 10)).setCourseLoss(1.0)).build();
    }

    static Envelope finish() {
        return header(STEPS, Kind.FINISH).setFinish(Finish.newBuilder().setReason("done")).build();
    }

    /** Given these inputs to the teacher of a student it has not seen before. */
    static MachineScenario<TeacherMachine> given(Envelope... past) {
        return MachineScenario.given(fresh(SETTINGS, SCHOOL), past);
    }

    /** The feedback a student sends for step k of a learning teacher: it answers version k. */
    static Envelope feedback(long step) {
        return feedback(step, step, 1);
    }

    /**
     * A language model's teacher: it sends TokenTargets in the run's encoding, refuses a student that
     * expects another, and takes feedback of [positions, K + 1] on what it sent.
     */
    @Nested
    class LanguageModel {
        static final int CONTEXT = 4;
        static final int VOCAB = 50;
        final TeacherMachine.Settings lm = new TeacherMachine.Settings(RUN, "teacher", "ikd", false, false, "lm:bundled", SHA, VOCAB, "",
            false, dev.ikd.proto.codec.TargetsForm.tokens("topk:3", CONTEXT, VOCAB));

        Teaching tokensTeaching() {
            return new Teaching() {
                long version;

                @Override
                public long version() {
                    return version;
                }

                @Override
                public Served serve(long k) {
                    return new Served(null, dev.ikd.proto.v1.TokenTargets.newBuilder().setEncoding("topk:3").setPositions(BATCH * CONTEXT)
                        .setVocab(VOCAB).build(), 2.0, Measured.getDefaultInstance(), null);
                }

                @Override
                public Update teach(long k, long steps, float[] d, float[] courseLogits) {
                    assertThat(d).hasSize(BATCH * CONTEXT * 4);
                    assertThat(courseLogits).as("a language model's feedback carries no course logits").isEmpty();
                    return new Update(0.5, ++version, 0, Double.NaN, Measured.getDefaultInstance(), null);
                }

                @Override
                public void saveTo(PupilState.Builder state) {
                }

                @Override
                public ParamGroup learned() {
                    return null;
                }

                @Override
                public void close() {
                }
            };
        }

        Envelope admittedExpecting(String encoding) {
            Envelope a = admitted("ikd", SHA);
            var b = a.toBuilder();
            b.getAdmittedBuilder().getEnrollmentBuilder().getHyperParametersBuilder().setSoftTargets(encoding).setContext(CONTEXT);
            return b.build();
        }

        Envelope lmFeedback(long k, int columns) {
            return header(k, Kind.FEEDBACK).setFeedback(Feedback.newBuilder().setTeacherVersion(k)
                .setD(TensorCodec.encode(new float[BATCH * CONTEXT * columns], BATCH * CONTEXT, columns))).build();
        }

        TeacherMachine machine() {
            return new TeacherMachine(lm, new Teaching.School() {
                @Override
                public Teaching enroll(String studentId, Enrollment enrollment) {
                    return tokensTeaching();
                }

                @Override
                public Teaching restore(String studentId, Enrollment enrollment, PupilState saved) {
                    return tokensTeaching();
                }
            }, ME);
        }

        @Test
        void itSendsTokenTargetsAndLearnsFromFeedbackOnTheKSentAndTheTail() {
            var s = MachineScenario.given(machine());
            List<Envelope> out = s.when(admittedExpecting("topk:3")).thenKinds(Kind.SOFT_TARGETS).last();
            assertThat(out.get(0).getSoftTargets().getTokens().getEncoding()).isEqualTo("topk:3");
            assertThat(out.get(0).getSoftTargets().hasProbabilities()).isFalse();
            s.whenRefused(lmFeedback(0, VOCAB), "feedback d: shape [32, 50], the batch needs [32, 4]");
            s.when(lmFeedback(0, 4)).thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS);
        }

        /** A student whose sequences the teacher's model cannot read is refused when its school says so, and nothing is kept. */
        @Test
        void aStudentTheSchoolCannotTeachIsRefusedAndNothingIsKept() {
            var s = MachineScenario.given(new TeacherMachine(lm, new Teaching.School() {
                @Override
                public Teaching enroll(String studentId, Enrollment enrollment) {
                    throw new dev.ikd.proto.envelope.RejectedMessageException("student " + studentId + " reads sequences of "
                        + enrollment.getHyperParameters().getContext() + " tokens, this teacher from 1 to 2");
                }

                @Override
                public Teaching restore(String studentId, Enrollment enrollment, PupilState saved) {
                    throw new AssertionError("nothing was saved");
                }
            }, ME));
            s.whenRefused(admittedExpecting("topk:3"), "student student-0 reads sequences of 4 tokens, this teacher from 1 to 2");
            assertThat(s.machine().state()).as("not admitted").isNull();
        }

        @Test
        void aStudentExpectingAnotherEncodingIsRefused() {
            var s = MachineScenario.given(machine());
            s.whenRefused(admittedExpecting("sample:8"), "student student-0 was admitted expecting soft targets 'sample:8', but this teacher "
                + "sends 'topk:3'");
            MachineScenario.given(fresh(SETTINGS, SCHOOL)).whenRefused(admittedExpecting("topk:3"), "student student-0 was admitted "
                + "expecting soft targets 'topk:3', but this teacher sends '' (a classifier's)");
        }
    }

    /**
     * MetaDistil's pilot update: after its exam step k the teacher serves step k's batch again, from
     * the updated teacher, with step k+1's soft targets; past the plan, alone.
     */
    @Nested
    class PilotUpdate {
        final TeacherMachine.Settings pilot = SETTINGS.withPilot(true);

        Envelope admittedWithPilot() {
            Envelope a = admitted();
            return a.toBuilder().setAdmitted(a.getAdmitted().toBuilder().setEnrollment(a.getAdmitted().getEnrollment().toBuilder()
                .setHyperParameters(a.getAdmitted().getEnrollment().getHyperParameters().toBuilder().setPilot(true)))).build();
        }

        @Test
        void afterEachExamStepItServesTheStepAgainFromTheUpdatedTeacherWithTheNext() {
            var s = MachineScenario.given(fresh(pilot, SCHOOL));
            List<Envelope> first = s.when(admittedWithPilot()).thenKinds(Kind.SOFT_TARGETS).last();
            assertThat(first.get(0).getSoftTargets().hasUpdatedCourse()).isFalse();
            List<Envelope> out = s.when(feedback(0)).thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS).last();
            SoftTargets next = out.get(1).getSoftTargets();
            assertThat(out.get(1).getStep()).isEqualTo(1);
            assertThat(next.getTeacherVersion()).isEqualTo(1);
            // The fake teacher leans towards class (row + version) mod 10: version 1 now, for step 0's batch and step 1's.
            float[] updated = TensorCodec.toFloats(next.getUpdatedCourse(), TensorCodec.Finite.REQUIRED);
            assertThat(updated[1]).isEqualTo(0.55f);
            assertThat(TensorCodec.toFloats(first.get(0).getSoftTargets().getProbabilities(), TensorCodec.Finite.REQUIRED)[0])
                .isEqualTo(0.55f);
            assertThat(next.getProbabilities()).isEqualTo(next.getUpdatedCourse());
            assertThat(s.when(start(0)).last()).as("a nudge: the same answers").isEqualTo(out);
        }

        @Test
        void pastThePlanTheUpdatedTargetsOfTheLastStepGoAlone() {
            var s = MachineScenario.given(fresh(pilot, SCHOOL), admittedWithPilot(), feedback(0), feedback(1));
            List<Envelope> out = s.when(feedback(2)).thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS).last();
            assertThat(out.get(1).getStep()).isEqualTo(STEPS);
            assertThat(out.get(1).getSoftTargets().hasProbabilities()).isFalse();
            assertThat(out.get(1).getSoftTargets().hasUpdatedCourse()).isTrue();
        }

        @Test
        void aStudentAdmittedWithTheOtherSettingIsRefused() {
            MachineScenario.given(fresh(pilot, SCHOOL)).whenRefused(admitted(), "student student-0 was admitted with the pilot update "
                + "off, but this teacher runs it on (--teacher-leash pilot=1)");
            given().whenRefused(admittedWithPilot(), "student student-0 was admitted with the pilot update on, but this teacher runs "
                + "it off (--teacher-leash pilot=1)");
        }
    }

    @Nested
    class OneOfSeveralTeachers {
        final TeacherMachine.Settings b = new TeacherMachine.Settings(RUN, "teacher-b", "ikd", false, false, "digits", SHA, 10,
            "teacher-b");

        @Test
        void itNamesItselfInWhatItSendsAndTakesOnlyTheFeedbackForIt() {
            var s = MachineScenario.given(fresh(b, SCHOOL)).when(admitted()).thenKinds(Kind.SOFT_TARGETS);
            assertThat(s.last().get(0).getTeacherId()).isEqualTo("teacher-b");
            assertThat(s.last().get(0).getIdempotencyKey()).isEqualTo("run-1/student-0/0/soft_targets/teacher-b");
            assertThat(s.last().get(0).getProducerId()).isEqualTo("teacher-b");
            Envelope forB = Envelopes.forTeacher(feedback(0).toBuilder(), "teacher-b").build();
            Envelope forA = Envelopes.forTeacher(feedback(0).toBuilder(), "teacher-a").build();
            s.whenRefused(forA, "feedback for teacher-a reached teacher-b");
            s.whenRefused(feedback(0), "feedback for a single teacher reached teacher-b");
            s.when(forB).thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS);
            assertThat(s.last()).extracting(Envelope::getTeacherId).containsOnly("teacher-b");
        }
    }

    /** A step the student took without this teacher (its soft targets came after the deadline, or never). */
    @Nested
    class SkippedSteps {
        final TeacherMachine.Settings c = new TeacherMachine.Settings(RUN, "teacher-c", "ikd", false, false, "digits", SHA, 10,
            "teacher-c");

        Envelope skipped(long step, long version) {
            return Envelopes.forTeacher(header(step, Kind.FEEDBACK), "teacher-c").setFeedback(Feedback.newBuilder()
                .setTeacherVersion(version).setSkipped(true)).build();
        }

        Envelope feedbackFor(long step, long version) {
            return Envelopes.forTeacher(feedback(step, version, 1).toBuilder(), "teacher-c").build();
        }

        @Test
        void itLearnsNothingReportsNoUpdateAndServesTheNextStepFromTheVersionItHas() {
            var s = MachineScenario.given(fresh(c, SCHOOL), admitted());
            s.when(skipped(0, 0)).thenKinds(Kind.SOFT_TARGETS);
            assertThat(s.last().get(0).getStep()).isEqualTo(1);
            assertThat(s.last().get(0).getSoftTargets().getTeacherVersion()).isZero();
            assertThat(s.machine().version()).isZero();
            s.when(feedbackFor(1, 0)).thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS);
            assertThat(s.last().get(1).getSoftTargets().getTeacherVersion()).isEqualTo(1);
        }

        @Test
        void aTeacherThatWasDownCatchesUpOneSkippedStepAtATime() {
            // Restarted after steps 0 and 1 went without it: it reads both, in order, and serves step 2.
            var s = MachineScenario.given(fresh(c, SCHOOL), admitted(), skipped(0, 0));
            s.when(skipped(1, 0)).thenKinds(Kind.SOFT_TARGETS);
            assertThat(s.last().get(0).getStep()).isEqualTo(2);
            s.when(start(1)).thenKinds(Kind.SOFT_TARGETS); // a nudge: no update of a skipped step, its next soft targets again
        }

        @Test
        void aRepeatChangesNothingAndAnEarlierOrAnotherVersionIsRefused() {
            var s = MachineScenario.given(fresh(c, SCHOOL), admitted(), feedbackFor(0, 0), skipped(1, 1));
            s.when(skipped(1, 1)).thenKinds();
            s.whenRefused(skipped(0, 0), "stale skipped step: step 0 of student-0, and the teacher already took step 1");
            s.whenRefused(skipped(2, 0), "stale teacher version: step 2 of student-0 went ahead without version 0, the teacher is "
                + "at version 1");
        }

        @Test
        void aFrozenTeacherMovesItsWindowOn() {
            var frozen = new TeacherMachine.Settings(RUN, "teacher-c", "frozen", true, false, "digits", SHA, 10, "teacher-c");
            Envelope admitted = header(0, Kind.ADMITTED).setAdmitted(admitted("frozen", SHA).getAdmitted().toBuilder()
                .setEnrollment(admitted("frozen", SHA).getAdmitted().getEnrollment().toBuilder()
                    .setHyperParameters(admitted("frozen", SHA).getAdmitted().getEnrollment().getHyperParameters().toBuilder()
                        .setPrefetch(2)))).build();
            var s = MachineScenario.given(fresh(frozen, SCHOOL));
            s.when(admitted).thenKinds(Kind.SOFT_TARGETS, Kind.SOFT_TARGETS);
            s.when(skipped(0, 0)).thenKinds(Kind.SOFT_TARGETS);
            assertThat(s.last().get(0).getStep()).isEqualTo(2);
        }
    }

    @Nested
    class Divergence {
        @Test
        void anUpdateThatIsNotFiniteIsReportedInsteadOfTheNextSoftTargetsAndTheTeacherStops() {
            MachineScenario<TeacherMachine> s = MachineScenario.given(fresh(SETTINGS, new FakeSchool(0)), admitted());
            List<Envelope> out = s.when(feedback(0)).last();
            assertThat(out).singleElement().satisfies(e -> {
                assertThat(e.getKind()).isEqualTo(Kind.TEACHER_UPDATED);
                assertThat(e.getTeacherUpdated().getDiverged())
                    .isEqualTo("the teacher of student-0 diverged at step 0: the teacher's loss is NaN");
            });
            assertThat(s.machine().active()).isFalse();
            s.whenRefused(feedback(1), "unknown student student-0 (not admitted, or finished)");
            s.when(finish()).thenKinds(); // the run's abort that follows changes nothing
        }
    }

    @Nested
    class Admission {
        @Test
        void untilItsStudentIsAdmittedTheMachineHoldsNothingAndRefusesEverything() {
            MachineScenario<TeacherMachine> s = given();
            assertThat(s.machine().state()).isNull();
            s.whenRefused(start(0), "unknown student student-0 (not admitted, or finished)");
            s.whenRefused(feedback(0), "unknown student student-0 (not admitted, or finished)");
        }

        @Test
        void anAdmissionIsAnsweredWithTheFirstSoftTargetsAtOnce() {
            MachineScenario<TeacherMachine> s = given().when(admitted()).thenKinds(Kind.SOFT_TARGETS);
            assertThat(s.last().get(0).getStep()).isZero();
            assertThat(s.last().get(0).getSoftTargets().getTeacherVersion()).isZero();
        }

        @Test
        void anAdmissionForAnotherModeOrDataSetIsRefusedAndARepeatChangesNothing() {
            given().whenRefused(admitted("pesf", SHA), "student student-0 was admitted for teacher mode pesf, "
                + "but this teacher runs mode ikd");
            given().whenRefused(admitted("ikd", "ab".repeat(32)), "student student-0 was admitted with data set "
                + "ab".repeat(32) + ", but this teacher holds digits " + SHA);
            MachineScenario<TeacherMachine> s = given(admitted());
            Message before = s.machine().state();
            s.when(admitted()).thenKinds();
            assertThat(s.machine().state()).isEqualTo(before);
        }
    }

    @Nested
    class Order {
        @Test
        void eachFeedbackIsAnsweredWithTheUpdateAndTheNextSoftTargetsFromTheUpdatedTeacher() {
            MachineScenario<TeacherMachine> s = given(admitted()).when(feedback(0))
                .thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS);
            assertThat(s.last().get(0).getTeacherUpdated().getTeacherVersion()).isEqualTo(1);
            assertThat(s.last().get(1).getStep()).isEqualTo(1);
            assertThat(s.last().get(1).getSoftTargets().getTeacherVersion()).isEqualTo(1);
        }

        @Test
        void feedbackBeforeItsSoftTargetsIsOutOfOrder() {
            given(admitted()).whenRefused(feedback(1),
                "out of order: feedback for step 1 of student-0 before its soft targets (the teacher served step 0)");
        }

        @Test
        void afterTheLastStepsFeedbackNothingIsServedPastThePlan() {
            given(admitted(), feedback(0), feedback(1)).when(feedback(2)).thenKinds(Kind.TEACHER_UPDATED);
        }

        @Test
        void aFrozenTeacherKeepsAWindowOfSoftTargetsInFlight() {
            var frozen = new TeacherMachine.Settings(RUN, "teacher", "frozen", true, false, "digits", SHA, 10);
            Envelope admitted = admitted("frozen", SHA);
            admitted = admitted.toBuilder().setAdmitted(admitted.getAdmitted().toBuilder().setEnrollment(admitted.getAdmitted()
                .getEnrollment().toBuilder().setHyperParameters(admitted.getAdmitted().getEnrollment().getHyperParameters()
                    .toBuilder().setPrefetch(2)))).build();
            var s = MachineScenario.given(fresh(frozen, SCHOOL)).when(admitted);
            assertThat(s.last()).extracting(Envelope::getStep).containsExactly(0L, 1L);
            assertThat(s.last()).allSatisfy(e -> assertThat(e.getSoftTargets().getTeacherVersion()).isZero());
            s.when(feedback(0, 0, 1)).thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS);
            assertThat(s.last().get(1).getStep()).as("the window moves on by one").isEqualTo(2);
        }

        @Test
        void theSoftTargetsCarryWhatTheTeacherMeasuredBesideThePayload() {
            Envelope first = given().when(admitted()).last().get(0);
            assertThat(first.getMeasured().getBusyUs()).isEqualTo(10);
            assertThat(TensorCodec.shape(first.getSoftTargets().getProbabilities())).containsExactly(BATCH, 10);
            assertThat(first.getSoftTargets().getTemperature()).isEqualTo(2.0);
        }
    }

    @Nested
    class Repeats {
        @Test
        void aRepeatedFeedbackGetsTheRecordedUpdateAndNoSecondUpdate() {
            MachineScenario<TeacherMachine> s = given(admitted()).when(feedback(0));
            Envelope updated = s.last().get(0);
            Envelope next = s.last().get(1);
            s.when(feedback(0));
            assertThat(s.last()).containsExactly(updated);
            assertThat(s.machine().version()).isEqualTo(1);
            s.when(start(0));
            assertThat(s.last()).as("the nudge for an applied step: its update and what followed it").containsExactly(updated, next);
            s.when(start(1));
            assertThat(s.last()).as("the nudge for the step the student waits for: its soft targets").containsExactly(next);
        }

        @Test
        void feedbackOrANudgeForAStepLongDoneIsStale() {
            MachineScenario<TeacherMachine> s = given(admitted(), feedback(0), feedback(1));
            s.whenRefused(feedback(0), "stale feedback: step 0 of student-0 was applied long ago");
            s.whenRefused(start(0), "stale CourseStart for step 0 of student-0: the teacher applied step 1 and served step 2");
        }
    }

    @Nested
    class ConflictingDuplicates {
        @Test
        void otherFeedbackForAnAppliedStepIsRefused() {
            given(admitted(), feedback(0)).whenRefused(feedback(0, 0, 2),
                "conflicting duplicate: feedback for step 0 of student-0 was already applied with other values");
        }
    }

    @Nested
    class StaleVersions {
        @Test
        void feedbackAnsweringAnotherTeacherVersionIsRefused() {
            given(admitted()).whenRefused(feedback(0, 7, 1),
                "stale teacher version: feedback for step 0 answers version 7, soft targets were version 0");
        }
    }

    @Nested
    class Content {
        @Test
        void feedbackIsCheckedBeforeItsStudentIs() {
            float[] d = new float[BATCH * 10];
            d[5] = Float.POSITIVE_INFINITY;
            Envelope inf = feedback(0, 0, 1).toBuilder().setFeedback(Feedback.newBuilder().setD(TensorCodec.encode(d, BATCH, 10)))
                .build();
            given().whenRefused(inf, "tensor element [0, 5] is Infinity; finite values required");
            Envelope wide = feedback(0, 0, 1).toBuilder().setFeedback(Feedback.newBuilder()
                .setD(TensorCodec.encode(new float[BATCH * 11], BATCH, 11))).build();
            given(admitted()).whenRefused(wide, "feedback d: shape [8, 11], the batch needs [8, 10]");
        }
    }

    @Nested
    class Finishing {
        @Test
        void afterFinishTheStudentsTeacherIsGoneAndItsRecordsAreRefused() {
            MachineScenario<TeacherMachine> s = given(admitted(), feedback(0)).when(finish()).thenKinds();
            PupilState state = (PupilState) s.machine().state();
            assertThat(state.getFinished()).isTrue();
            assertThat(state.hasVelocity()).as("a finished student's teacher learns no more").isFalse();
            assertThat(state.hasTrainable()).as("what it learned stays in the state, for 'ikd export --teacher-of'").isTrue();
            try (TeacherMachine restored = restored(state)) {
                assertThat(restored.state()).as("kept across a restart").isEqualTo(state);
            }
            s.whenRefused(feedback(1), "unknown student student-0 (not admitted, or finished)");
        }
    }

    @Nested
    class TakeOver {
        /** Another replica (or a restart) that restores this state answers exactly as the teacher that never stopped. */
        @Test
        void aTeacherRestoredFromItsStateGoesOnAsTheOneThatNeverStopped() {
            MachineScenario<TeacherMachine> straight = given(admitted(), feedback(0));
            Message saved = straight.machine().state();
            try (TeacherMachine restored = restored(saved)) {
                assertThat(restored.state()).isEqualTo(saved);
                List<Envelope> fromRestored = restored.apply(MachineScenario.input(feedback(1)));
                assertThat(fromRestored).isEqualTo(straight.when(feedback(1)).last());
                assertThat(restored.apply(MachineScenario.input(feedback(2)))).isEqualTo(straight.when(feedback(2)).last());
            }
        }

        @Test
        void aFinishedStudentComesBackFinished() {
            Message saved = given(admitted(), finish()).machine().state();
            try (TeacherMachine restored = restored(saved)) {
                assertThat(restored.active()).isFalse();
                assertThatThrownBy(() -> restored.apply(MachineScenario.input(start(1)))).hasMessageStartingWith("unknown student");
            }
        }
    }
}
