package dev.ikd.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
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
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.processor.MachineScenario;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The teacher's rules for one student, one nested class each: given these past inputs, when this one
 * arrives, then these answers, or this refusal and nothing changed.
 */
class TeacherMachineTest {

    static final String RUN = "run-1";
    static final String ME = "student-0";
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T08:00:00Z"), ZoneOffset.UTC);
    static final int BATCH = 8;
    static final long STEPS = 3;
    static Dataset digits;
    static NDManager manager;
    static TeacherService service;

    @BeforeAll
    static void setUp() {
        digits = Datasets.digits();
        manager = NDManager.newBaseManager();
        Network net = Network.build(ModelSpec.parse("mlp:32:16"), digits);
        var settings = new TeacherService.Settings("teacher", digits, net, net.init(3, DataType.FLOAT32, manager), TeacherMode.IKD,
            new TeacherConfig(0.05, 0.9, 0.0, 8), DataType.FLOAT32, digits.trainSize());
        service = new TeacherService(settings, RUN, CLOCK, new ServiceMetrics(new SimpleMeterRegistry(), "teacher"),
            StepListener.NONE, manager);
    }

    @AfterAll
    static void tearDown() {
        service.close();
        manager.close();
    }

    static Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(RUN, ME, step, kind, "test", CLOCK);
    }

    static Envelope admitted(String mode, String sha256) {
        return header(0, Kind.ADMITTED).setAdmitted(Admitted.newBuilder().setTeacherMode(mode).setSteps(STEPS)
            .setEnrollment(Enrollment.newBuilder()
                .setDataset(DatasetSpec.newBuilder().setName("digits").setSha256(sha256).setTrainSize(digits.trainSize())
                    .setSplitSeed(1).setLabelFraction(1.0).setQuizFraction(0.1))
                .setHyperParameters(HyperParameters.newBuilder().setTemperature(2).setBatchSize(BATCH).setExamBatchSize(BATCH)
                    .setSteps(STEPS).setSeed(5).setTeacherMode(mode)))).build();
    }

    static Envelope admitted() {
        return admitted("ikd", digits.sha256());
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
        return MachineScenario.given(service.fresh(ME), past);
    }

    /** The feedback a student sends for step k of a learning teacher: it answers version k. */
    static Envelope feedback(long step) {
        return feedback(step, step, 1);
    }

    @Nested
    class Divergence {
        @Test
        void anUpdateThatLeavesTheSoftTargetsNotFiniteIsReportedInsteadOfSentAndTheTeacherStops() {
            // A teacher learning rate no update survives: φ' overflows, and so do its next soft targets.
            Network net = Network.build(ModelSpec.parse("mlp:32:16"), digits);
            var exploding = new TeacherService(new TeacherService.Settings("teacher", digits, net, net.init(3, DataType.FLOAT32, manager),
                TeacherMode.IKD, new TeacherConfig(Double.MAX_VALUE, 0.9, 0.0, 8), DataType.FLOAT32, digits.trainSize()), RUN, CLOCK,
                new ServiceMetrics(new SimpleMeterRegistry(), "teacher"), StepListener.NONE, manager);
            MachineScenario<TeacherMachine> s = MachineScenario.given(exploding.fresh(ME), admitted());
            List<Envelope> out = s.when(feedback(0)).last();
            assertThat(out).singleElement().satisfies(e -> {
                assertThat(e.getKind()).isEqualTo(Kind.TEACHER_UPDATED);
                assertThat(e.getTeacherUpdated().getDiverged()).startsWith("the teacher of student-0 diverged at step ")
                    .containsPattern("(the teacher's loss|a soft target) is (NaN|-?Infinity)");
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
            given().whenRefused(admitted("pesf", digits.sha256()), "student student-0 was admitted for teacher mode pesf, "
                + "but this teacher runs mode ikd");
            given().whenRefused(admitted("ikd", "ab".repeat(32)), "student student-0 was admitted with data set "
                + "ab".repeat(32) + ", but this teacher holds digits " + digits.sha256());
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
            Network net = Network.build(ModelSpec.parse("mlp:32:16"), digits);
            var settings = new TeacherService.Settings("teacher", digits, net, net.init(3, DataType.FLOAT32, manager),
                TeacherMode.FROZEN, new TeacherConfig(0.05, 0.9, 0.0, 8), DataType.FLOAT32, digits.trainSize());
            try (var frozen = new TeacherService(settings, RUN, CLOCK, new ServiceMetrics(new SimpleMeterRegistry(), "teacher"),
                StepListener.NONE, manager)) {
                Envelope admitted = admitted("frozen", digits.sha256());
                admitted = admitted.toBuilder().setAdmitted(admitted.getAdmitted().toBuilder().setEnrollment(admitted.getAdmitted()
                    .getEnrollment().toBuilder().setHyperParameters(admitted.getAdmitted().getEnrollment().getHyperParameters()
                        .toBuilder().setPrefetch(2)))).build();
                var s = MachineScenario.given(frozen.fresh(ME)).when(admitted);
                assertThat(s.last()).extracting(Envelope::getStep).containsExactly(0L, 1L);
                assertThat(s.last()).allSatisfy(e -> assertThat(e.getSoftTargets().getTeacherVersion()).isZero());
                s.when(feedback(0, 0, 1)).thenKinds(Kind.TEACHER_UPDATED, Kind.SOFT_TARGETS);
                assertThat(s.last().get(1).getStep()).as("the window moves on by one").isEqualTo(2);
                assertThat(s.last().get(0).getTeacherUpdated().getTeacherVersion()).as("a frozen teacher does not move").isZero();
            }
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
            given(admitted()).whenRefused(wide, "feedback d has shape [8, 11], the batch needs [8, 10]");
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
            try (TeacherMachine restored = service.restore(ME, Any.pack(state))) {
                assertThat(restored.state()).as("kept across a restart").isEqualTo(state);
            }
            s.whenRefused(feedback(1), "unknown student student-0 (not admitted, or finished)");
        }
    }

    @Nested
    class TakeOver {
        /** Another replica (or a restart) that restores this state answers exactly as the teacher that never stopped. */
        @Test
        void aTeacherRestoredFromItsStateGoesOnBitForBit() {
            MachineScenario<TeacherMachine> straight = given(admitted(), feedback(0));
            Message saved = straight.machine().state();
            try (TeacherMachine restored = service.restore(ME, Any.pack(saved))) {
                assertThat(restored.state()).isEqualTo(saved);
                List<Envelope> fromRestored = restored.apply(MachineScenario.input(feedback(1)));
                straight.when(feedback(1));
                assertThat(measured(fromRestored)).isEqualTo(measured(straight.last()));
                assertThat(measured(restored.apply(MachineScenario.input(feedback(2)))))
                    .isEqualTo(measured(straight.when(feedback(2)).last()));
            }
        }

        /**
         * The envelopes without what the teacher measures as it works (its CPU time, its cache's hit
         * rate), which travels beside the payload: every bit of the math, the versions and the ids stay.
         */
        private List<Envelope> measured(List<Envelope> out) {
            return out.stream().map(e -> e.toBuilder().clearMeasured().build()).toList();
        }

        @Test
        void aFinishedStudentComesBackFinished() {
            Message saved = given(admitted(), finish()).machine().state();
            try (TeacherMachine restored = service.restore(ME, Any.pack(saved))) {
                assertThat(restored.active()).isFalse();
                assertThatThrownBy(() -> restored.apply(MachineScenario.input(start(1)))).hasMessageStartingWith("unknown student");
            }
        }
    }
}
