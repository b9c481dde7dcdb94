package dev.ikd.student.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.Abort;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.runtime.processor.MachineScenario;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The student's rules, one nested class each: given these past inputs, when this one arrives, then
 * these answers, or this refusal and nothing changed. The learning is a {@link FakeLearner} behind
 * the port: no model, no data set (StudentLearnerTest runs the machine on the real one).
 */
class StudentMachineTest {

    static final String RUN = "run-1";
    static final String ME = "student-0";
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T08:00:00Z"), ZoneOffset.UTC);
    static final int BATCH = 8;
    static final long STEPS = 3;
    static final StudentTerms SETTINGS = new StudentTerms(RUN, ME, STEPS, BATCH, 10, 1, false, false);

    /**
     * Learning as the port promises it, in plain arithmetic: each step's hash depends on every soft
     * target learned so far, the feedback is p − 0.1, and a step may be told to diverge.
     */
    static class FakeLearner implements Learner {
        long steps;
        int hash = 17;
        int learned;
        /** The teachers the last step learned from. */
        int[] present;
        final long divergesAt;

        FakeLearner(long divergesAt) {
            this.divergesAt = divergesAt;
        }

        /** The learner {@link #saveTo} saved. */
        static FakeLearner restored(StudentState saved) {
            FakeLearner l = new FakeLearner(-1);
            l.steps = saved.getStepsDone();
            l.hash = Integer.parseInt(saved.getTheta().getSha256().substring("sha-".length()));
            return l;
        }

        @Override
        public long stepsDone() {
            return steps;
        }

        @Override
        public Step learn(int[] present, SoftTargets[] served) {
            float[][] p = floats(served);
            learned++;
            this.present = present.clone();
            float[][] d = new float[p.length][];
            for (int t = 0; t < p.length; t++) {
                hash = 31 * hash + Arrays.hashCode(p[t]);
                d[t] = p[t].clone();
                for (int i = 0; i < d[t].length; i++) {
                    d[t][i] -= 0.1f * (t + 1);
                }
            }
            String diverged = steps == divergesAt ? "the exam loss is NaN" : null;
            steps++;
            double[] weights = new double[p.length];
            java.util.Arrays.fill(weights, 1.0 / p.length);
            return new Step(d, new float[p[0].length], 1.0 / steps, 0.5, 2.0 / steps, 0.25, "sha-" + hash, diverged, weights);
        }

        /** The pilot: the step's answers from its soft targets, nothing kept. */
        @Override
        public Step pilot(int[] present, SoftTargets[] served) {
            float[][] p = floats(served);
            piloted.add(p[0][0]);
            float[][] d = {p[0].clone()};
            String diverged = steps == divergesAt ? "the exam loss is NaN" : null;
            return new Step(d, new float[p[0].length], 1.0 / (steps + 1), 0.5, 2.0 / (steps + 1), 0.25, null, diverged);
        }

        /** The real course step: θ takes in the soft targets it learned from. */
        @Override
        public String courseStep(int[] present, float[][] p) {
            courses.add(p[0][0]);
            hash = 31 * hash + Arrays.hashCode(p[0]);
            steps++;
            return "sha-" + hash;
        }

        private static float[][] floats(SoftTargets[] served) {
            float[][] p = new float[served.length][];
            for (int t = 0; t < p.length; t++) {
                p[t] = TensorCodec.toFloats(served[t].getProbabilities(), TensorCodec.Finite.REQUIRED);
            }
            return p;
        }

        /** The first soft target of each pilot and of each course step, in order. */
        final List<Float> piloted = new java.util.ArrayList<>();
        final List<Float> courses = new java.util.ArrayList<>();

        @Override
        public Report report() {
            return new Report(0.75, "sha-" + hash);
        }

        @Override
        public void saveTo(StudentState.Builder state) {
            state.setStepsDone(steps).setTheta(dev.ikd.proto.state.ParamGroup.newBuilder().setSha256("sha-" + hash));
        }

        @Override
        public void close() {
        }
    }

    static StudentMachine fresh(StudentTerms settings) {
        return new StudentMachine(settings, new FakeLearner(-1));
    }

    static Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(RUN, ME, step, kind, "test", CLOCK);
    }

    static Envelope admitted() {
        return header(0, Kind.ADMITTED).setAdmitted(Admitted.newBuilder().setTeacherMode("ikd").setSteps(STEPS)).build();
    }

    static Envelope start(long step) {
        return header(step, Kind.COURSE_START).setCourseStart(CourseStart.getDefaultInstance()).build();
    }

    /** Soft targets of teacher version {@code version}: a distribution over the classes, a little different per version. */
    static Envelope targets(long step, long version) {
        float[] p = new float[BATCH * 10];
        for (int i = 0; i < BATCH; i++) {
            for (int c = 0; c < 10; c++) {
                p[i * 10 + c] = c == (i + version) % 10 ? 0.55f : 0.05f;
            }
        }
        return header(step, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(version).setTemperature(2)
            .setProbabilities(TensorCodec.encode(p, BATCH, 10))).build();
    }

    static Envelope finish() {
        return header(STEPS, Kind.FINISH).setFinish(Finish.newBuilder().setReason("done")).build();
    }

    /** Given these inputs to a fresh student. */
    static MachineScenario<StudentMachine> given(Envelope... past) {
        return MachineScenario.given(fresh(SETTINGS), past);
    }

    /** The soft targets a learning teacher sends for step k: version k, after k updates. */
    static Envelope targets(long step) {
        return targets(step, step);
    }

    /**
     * A language model's student: its soft targets are TokenTargets in the run's encoding, one row per
     * position of the batch, checked when they arrive; its feedback is on what was sent (top-K: the K
     * and the tail), [positions, K + 1].
     */
    @Nested
    class LanguageModel {
        static final int CONTEXT = 4;
        static final int VOCAB = 50;
        final StudentTerms terms = new StudentTerms(RUN, ME, STEPS, BATCH, VOCAB, 1, false, false, List.of(""), 1, false,
            dev.ikd.proto.codec.TargetsForm.tokens("topk:3", CONTEXT, VOCAB));

        /** Top-3 targets of a learning teacher for step k over {@code positions} positions, the first id {@code firstId}. */
        Envelope tokens(long k, String encoding, int positions, int firstId) {
            java.nio.ByteBuffer ids = java.nio.ByteBuffer.allocate(12 * positions).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            java.nio.ByteBuffer probs = java.nio.ByteBuffer.allocate(12 * positions).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate(4 * positions).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < positions; r++) {
                ids.putInt(r == 0 ? firstId : 7).putInt(8).putInt(9);
                probs.putFloat(0.5f).putFloat(0.2f).putFloat(0.1f);
                tail.putFloat(0.2f);
            }
            var t = dev.ikd.proto.v1.TokenTargets.newBuilder().setEncoding(encoding).setPositions(positions).setVocab(VOCAB)
                .setIds(com.google.protobuf.ByteString.copyFrom(ids.array())).setProbs(com.google.protobuf.ByteString.copyFrom(probs.array()))
                .setTail(com.google.protobuf.ByteString.copyFrom(tail.array()));
            return header(k, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(k).setTemperature(2)
                .setTokens(t)).build();
        }

        /** Learns anything it is given; its feedback is one number per position and column of the terms' form. */
        FakeLearner learner() {
            return new FakeLearner(-1) {
                @Override
                public Step learn(int[] present, SoftTargets[] served) {
                    hash = 31 * hash + served[0].getTokens().hashCode();
                    steps++;
                    float[] d = new float[BATCH * CONTEXT * 4];
                    java.util.Arrays.fill(d, 0.01f);
                    return new Step(new float[][] {d}, null, 1, Double.NaN, 2, 0.25, "sha-" + hash, null);
                }

                @Override
                public Report report() {
                    return new Report(0.25, "sha-" + hash, 42.5, 28.5);
                }
            };
        }

        @Test
        void itLearnsFromTokenTargetsAnswersFeedbackOnTheKSentAndTheTailAndReportsItsPerplexity() {
            var s = MachineScenario.given(new StudentMachine(terms, learner()), admitted());
            List<Envelope> out = s.when(tokens(0, "topk:3", BATCH * CONTEXT, 3)).thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT).last();
            assertThat(TensorCodec.shape(out.get(0).getFeedback().getD())).containsExactly(BATCH * CONTEXT, 4);
            s.when(tokens(1, "topk:3", BATCH * CONTEXT, 3)).thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT);
            s.when(tokens(2, "topk:3", BATCH * CONTEXT, 3)).thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT);
            var report = s.when(finish()).thenKinds(Kind.STUDENT_REPORT).last().get(0).getStudentReport();
            assertThat(report.getTestPerplexity()).isEqualTo(42.5);
            assertThat(report.getSoftTargetBytesPerToken()).isEqualTo(28.5);
        }

        @Test
        void targetsOfAClassifierAnotherEncodingOrBatchOrWithAnIdOffTheVocabularyAreRefused() {
            var s = MachineScenario.given(new StudentMachine(terms, learner()), admitted());
            s.whenRefused(targets(0), "soft targets carry no token targets, but this run distils a language model (topk:3)");
            s.whenRefused(tokens(0, "topk:3", BATCH * CONTEXT - 1, 3),
                "soft targets are topk:3 over 31 positions of 50 tokens, the course batch needs topk:3 over 32 of 50");
            s.whenRefused(tokens(0, "dense", BATCH * CONTEXT, 3),
                "soft targets are dense over 32 positions of 50 tokens, the course batch needs topk:3 over 32 of 50");
            s.whenRefused(tokens(0, "topk:3", BATCH * CONTEXT, VOCAB), "token targets: ids[0] = 50 is not a token of 50");
            assertThat(s.machine().stepsDone()).as("nothing refused was learned from").isZero();
        }
    }

    /**
     * MetaDistil's pilot update: step k's feedback comes from a pilot; its real course step waits for
     * SoftTargets(k+1), which carries the updated teacher's targets for step k's batch.
     */
    @Nested
    class PilotUpdate {
        final StudentTerms pilot = SETTINGS.withPilot(true);

        /** SoftTargets(k) of a learning teacher under the pilot update: step k's (within the plan) and step k−1's updated (after step 0). */
        Envelope pilotTargets(long k) {
            Envelope t = targets(k);
            var b = SoftTargets.newBuilder(k < STEPS ? t.getSoftTargets() : SoftTargets.newBuilder().setTeacherVersion(k)
                .setTemperature(2).build());
            if (k > 0) {
                float[] updated = new float[BATCH * 10];
                java.util.Arrays.fill(updated, 0.1f);
                updated[0] = 0.1f + k / 1000f; // the teacher after its exam step k-1
                updated[1] = 0.1f - k / 1000f;
                b.setUpdatedCourse(TensorCodec.encode(updated, BATCH, 10));
            }
            return t.toBuilder().setSoftTargets(b).build();
        }

        @Test
        void stepKsFeedbackComesFromThePilotAndItsExamResultWaitsForTheRealCourseStep() {
            FakeLearner learner = new FakeLearner(-1);
            var s = MachineScenario.given(new StudentMachine(pilot, learner), admitted());
            s.when(pilotTargets(0)).thenKinds(Kind.FEEDBACK);
            assertThat(learner.steps).as("the pilot keeps nothing").isZero();
            assertThat(s.machine().stepsDone()).isEqualTo(1);

            List<Envelope> out = s.when(pilotTargets(1)).thenKinds(Kind.EXAM_RESULT, Kind.FEEDBACK).last();
            assertThat(learner.courses).as("step 0's course learned from the updated targets").containsExactly(0.1f + 1 / 1000f);
            assertThat(out.get(0).getStep()).isZero();
            assertThat(out.get(0).getExamResult().getParamSha256()).isEqualTo("sha-" + learner.hash);
            assertThat(out.get(0).getExamResult().getExamLoss()).as("the pilot's exam").isEqualTo(2.0);
            assertThat(out.get(0).getExamResult().getTeacherVersion()).as("the version the pilot learned from").isZero();
            assertThat(out.get(1).getStep()).isEqualTo(1);
            assertThat(out.get(1).getFeedback().getTeacherVersion()).isEqualTo(1);
        }

        @Test
        void theSoftTargetsPastThePlanBringOnlyTheLastCourseStepAndThenTheStudentFinishes() {
            FakeLearner learner = new FakeLearner(-1);
            var s = MachineScenario.given(new StudentMachine(pilot, learner), admitted(), pilotTargets(0), pilotTargets(1),
                pilotTargets(2));
            s.whenRefused(finish(), "Finish before the course step of step 2: the teacher's updated soft targets for it have not come");
            s.when(pilotTargets(STEPS)).thenKinds(Kind.EXAM_RESULT);
            assertThat(s.last().get(0).getStep()).isEqualTo(STEPS - 1);
            assertThat(learner.steps).isEqualTo(STEPS);
            assertThat(learner.piloted).hasSize((int) STEPS);
            s.when(finish()).thenKinds(Kind.STUDENT_REPORT);
            assertThat(s.last().get(0).getStudentReport().getParamSha256()).isEqualTo(s.machine().report().getStudentReport()
                .getParamSha256());
        }

        @Test
        void aRepeatOrANudgeGetsTheSameAnswersAndARestoredStudentGoesOnBitForBit() {
            FakeLearner learner = new FakeLearner(-1);
            var s = MachineScenario.given(new StudentMachine(pilot, learner), admitted(), pilotTargets(0));
            List<Envelope> out = s.when(pilotTargets(1)).last();
            assertThat(s.when(pilotTargets(1)).last()).isEqualTo(out);
            assertThat(s.when(start(1)).last()).as("CourseStart(1): the exam result of step 1 is overdue").isEqualTo(out);
            assertThat(learner.courses).hasSize(1);

            StudentState saved = (StudentState) s.machine().state();
            assertThat(saved.hasPendingExam()).isTrue();
            var restored = MachineScenario.given(StudentMachine.restore(pilot, FakeLearner.restored(saved), saved));
            List<Envelope> next = restored.when(pilotTargets(2)).thenKinds(Kind.EXAM_RESULT, Kind.FEEDBACK).last();
            List<Envelope> straight = s.when(pilotTargets(2)).last();
            assertThat(next).isEqualTo(straight);
        }

        @Test
        void softTargetsWithoutTheUpdatedOnesOrPastThePlanAreRefused() {
            var s = MachineScenario.given(new StudentMachine(pilot, new FakeLearner(-1)), admitted(), pilotTargets(0));
            s.whenRefused(targets(1), "updated soft targets of the step before: none sent");
            Envelope past = pilotTargets(1).toBuilder().setStep(STEPS + 1).build();
            past = past.toBuilder().setSoftTargets(past.getSoftTargets().toBuilder().setTeacherVersion(STEPS + 1)).build();
            s.whenRefused(past, "soft targets for step 4, but student-0 takes 3 steps");
        }

        @Test
        void aPilotWhoseNumbersAreNotFiniteStopsTheStudent() {
            var s = MachineScenario.given(new StudentMachine(pilot, new FakeLearner(0)), admitted());
            s.when(pilotTargets(0)).thenKinds(Kind.EXAM_RESULT);
            assertThat(s.last().get(0).getExamResult().getDiverged()).isEqualTo("student-0 diverged at step 0: the exam loss is NaN");
            assertThat(s.when(start(0)).last()).as("a nudge before the coordinator heard it").isEqualTo(s.last());
        }
    }

    @Nested
    class SeveralTeachers {
        final StudentTerms two = new StudentTerms(RUN, ME, STEPS, BATCH, 10, 1, false, false,
            List.of("teacher-a", "teacher-b"));

        Envelope from(String teacher, long step) {
            Envelope e = targets(step, step);
            return Envelopes.forTeacher(e.toBuilder(), teacher).build();
        }

        @Test
        void aStepRunsOnceEveryTeachersSoftTargetsAreHereAndEachTeacherGetsItsOwnFeedback() {
            FakeLearner learner = new FakeLearner(-1);
            var s = MachineScenario.given(new StudentMachine(two, learner), admitted()).when(from("teacher-b", 0)).thenKinds();
            s.when(from("teacher-a", 0)).thenKinds(Kind.FEEDBACK, Kind.FEEDBACK, Kind.EXAM_RESULT);
            assertThat(s.last()).extracting(Envelope::getTeacherId).containsExactly("teacher-a", "teacher-b", "");
            assertThat(s.last().get(2).getExamResult().getTeacherWeightsMap()).containsOnlyKeys("teacher-a", "teacher-b");
            assertThat(s.last().get(0).getIdempotencyKey()).isEqualTo("run-1/student-0/0/feedback/teacher-a");
            assertThat(s.last().get(0).getFeedback().getD()).as("each teacher its own share").isNotEqualTo(s.last().get(1)
                .getFeedback().getD());
            assertThat(learner.learned).isEqualTo(1);
            List<Envelope> answers = s.last();
            assertThat(s.when(from("teacher-b", 0)).last()).as("a repeat from one teacher").isEqualTo(answers);
            assertThat(learner.learned).isEqualTo(1);
        }

        @Test
        void softTargetsFromATeacherTheStudentDoesNotLearnFromAreRefused() {
            MachineScenario.given(new StudentMachine(two, new FakeLearner(-1)), admitted()).whenRefused(from("teacher-c", 0),
                "soft targets from teacher-c, but student-0 learns from teacher-a, teacher-b");
            given(admitted()).whenRefused(from("teacher-a", 0), "soft targets from teacher-a, but student-0 learns from one teacher");
        }

        @Test
        void aRestartKeepsWhatOneTeacherSentAndTheLastStepOfEach() {
            var s = MachineScenario.given(new StudentMachine(two, new FakeLearner(-1)), admitted(), from("teacher-a", 0),
                from("teacher-b", 0), from("teacher-a", 1));
            StudentState saved = (StudentState) s.machine().state();
            assertThat(saved.getLearnedSoftTargetsOfSeveralCount()).isEqualTo(2);
            try (StudentMachine restored = StudentMachine.restore(two, FakeLearner.restored(saved), saved)) {
                assertThat(restored.state()).isEqualTo(saved);
                assertThat(restored.apply(MachineScenario.input(from("teacher-b", 1)))).isEqualTo(s.when(from("teacher-b", 1)).last());
            }
        }
    }

    @Nested
    class LateTeachers {
        final StudentTerms three = new StudentTerms(RUN, ME, STEPS, BATCH, 10, 1, false, false,
            List.of("teacher-a", "teacher-b", "teacher-c"), 2);

        Envelope from(String teacher, long step, long version) {
            return Envelopes.forTeacher(targets(step, version).toBuilder(), teacher).build();
        }

        Envelope deadline(long step) {
            return header(step, Kind.TEACHER_DEADLINE).setTeacherDeadline(dev.ikd.proto.v1.TeacherDeadline.getDefaultInstance()).build();
        }

        @Test
        void withoutADeadlineAStepWaitsForEveryTeacher() {
            FakeLearner learner = new FakeLearner(-1);
            MachineScenario.given(new StudentMachine(three, learner), admitted(), from("teacher-a", 0, 0))
                .when(from("teacher-c", 0, 0)).thenKinds();
            assertThat(learner.learned).isZero();
        }

        @Test
        void pastItsDeadlineAStepGoesAheadWithThoseThatAnsweredAndTellsTheOtherItWentWithoutIt() {
            FakeLearner learner = new FakeLearner(-1);
            var s = MachineScenario.given(new StudentMachine(three, learner), admitted(), from("teacher-a", 0, 0),
                from("teacher-c", 0, 0));
            s.when(deadline(0)).thenKinds(Kind.FEEDBACK, Kind.FEEDBACK, Kind.FEEDBACK, Kind.EXAM_RESULT);
            assertThat(learner.present).containsExactly(0, 2);
            List<Envelope> out = s.last();
            assertThat(out).extracting(Envelope::getTeacherId).containsExactly("teacher-a", "teacher-b", "teacher-c", "");
            assertThat(out.get(1).getFeedback().getSkipped()).isTrue();
            assertThat(out.get(1).getFeedback().hasD()).isFalse();
            assertThat(out.get(0).getFeedback().getSkipped()).isFalse();
            assertThat(out.get(3).getExamResult().getTeacherVersionsMap()).containsOnlyKeys("teacher-a", "teacher-c");
            assertThat(out.get(3).getExamResult().getTeacherWeightsMap()).containsOnlyKeys("teacher-a", "teacher-c");
        }

        @Test
        void aDeadlineBeforeEnoughTeachersAnsweredWaitsForTheRequiredNumber() {
            FakeLearner learner = new FakeLearner(-1);
            var s = MachineScenario.given(new StudentMachine(three, learner), admitted(), from("teacher-b", 0, 0));
            s.when(deadline(0)).thenKinds();
            s.when(from("teacher-a", 0, 0)).thenKinds(Kind.FEEDBACK, Kind.FEEDBACK, Kind.FEEDBACK, Kind.EXAM_RESULT);
            assertThat(learner.present).containsExactly(0, 1);
        }

        @Test
        void aTeacherAStepWentWithoutIsOneVersionBehindAndItsLateTargetsAreDropped() {
            FakeLearner learner = new FakeLearner(-1);
            var s = MachineScenario.given(new StudentMachine(three, learner), admitted(), from("teacher-a", 0, 0),
                from("teacher-b", 0, 0), deadline(0));
            s.when(from("teacher-c", 0, 0)).thenKinds(); // late for step 0, which went without it: dropped
            s.whenRefused(from("teacher-c", 1, 1), "unexpected teacher version: soft targets for step 1 are version 1, student-0 "
                + "learns step 1 from version 0");
            s.when(from("teacher-a", 1, 1)).when(from("teacher-b", 1, 1)).thenKinds();
            s.when(from("teacher-c", 1, 0)).thenKinds(Kind.FEEDBACK, Kind.FEEDBACK, Kind.FEEDBACK, Kind.EXAM_RESULT);
            assertThat(learner.present).as("it rejoins at the next step").containsExactly(0, 1, 2);
            assertThat(s.last().get(3).getExamResult().getTeacherVersionsMap()).containsEntry("teacher-a", 1L)
                .containsEntry("teacher-c", 0L);
            assertThat(s.last().get(2).getFeedback().getTeacherVersion()).isZero();
            s.whenRefused(from("teacher-c", 0, 0), "stale SOFT_TARGETS: step 0 of student-0 was done long ago (now at step 2)");
        }

        @Test
        void aDeadlineForAStepDoneChangesNothingOneAheadIsOutOfOrderAndARunOfEveryTeacherTakesNone() {
            var s = MachineScenario.given(new StudentMachine(three, new FakeLearner(-1)), admitted(), from("teacher-a", 0, 0),
                from("teacher-b", 0, 0), from("teacher-c", 0, 0));
            s.when(deadline(0)).thenKinds();
            s.whenRefused(deadline(2), "out of order: TeacherDeadline for step 2 while student-0 is at step 1");
            var all = new StudentTerms(RUN, ME, STEPS, BATCH, 10, 1, false, false, List.of("teacher-a", "teacher-b"));
            MachineScenario.given(new StudentMachine(all, new FakeLearner(-1)), admitted()).whenRefused(deadline(0),
                "TeacherDeadline for step 0, but student-0 learns every step from all its 2 teachers");
        }

        @Test
        void aRestartKeepsTheDeadlineAndWhichTeachersStepsWentWithout() {
            var s = MachineScenario.given(new StudentMachine(three, new FakeLearner(-1)), admitted(), from("teacher-a", 0, 0),
                from("teacher-b", 0, 0), deadline(0), from("teacher-a", 1, 1), deadline(1));
            StudentState saved = (StudentState) s.machine().state();
            assertThat(saved.getDeadlinePassed()).isTrue();
            assertThat(saved.getAbsentMap()).containsOnlyKeys("teacher-c");
            try (StudentMachine restored = StudentMachine.restore(three, FakeLearner.restored(saved), saved)) {
                assertThat(restored.state()).isEqualTo(saved);
                assertThat(restored.apply(MachineScenario.input(from("teacher-c", 1, 0))))
                    .isEqualTo(s.when(from("teacher-c", 1, 0)).last());
            }
        }
    }

    @Nested
    class Divergence {
        @Test
        void aStepWhoseNumbersAreNotFiniteSendsOnlyAnExamResultNamingThemAndTheStudentStops() {
            var s = MachineScenario.given(new StudentMachine(SETTINGS, new FakeLearner(0)), admitted());
            List<Envelope> out = s.when(targets(0)).last();
            assertThat(out).singleElement().satisfies(e -> {
                assertThat(e.getKind()).isEqualTo(Kind.EXAM_RESULT);
                assertThat(e.getExamResult().getDiverged()).isEqualTo("student-0 diverged at step 0: the exam loss is NaN");
                assertThat(e.getExamResult().getParamSha256()).isEmpty();
            });
            assertThat(s.machine().stopped()).isEqualTo("diverged at step 0: the exam loss is NaN");
            assertThat(s.machine().diverged()).isTrue();
            s.whenRefused(targets(1), "student-0 " + s.machine().stopped() + "; it takes no more messages");
            assertThat(s.when(start(0)).last()).as("a nudge before the coordinator heard it").isEqualTo(out);
        }

        @Test
        void theAbortThatFollowsIsTakenQuietly() {
            var s = MachineScenario.given(new StudentMachine(SETTINGS, new FakeLearner(0)), admitted(), targets(0));
            s.when(header(0, Kind.ABORT).setAbort(Abort.newBuilder().setReason("run aborted")).build()).thenKinds();
        }

        /** A frozen teacher's held soft targets are not learned past a step that diverged. */
        @Test
        void heldStepsAfterADivergedOneAreNotLearned() {
            var frozen = new StudentTerms(RUN, ME, STEPS, BATCH, 10, 3, true, false);
            FakeLearner learner = new FakeLearner(0);
            var s = MachineScenario.given(new StudentMachine(frozen, learner), admitted(), targets(2, 0), targets(1, 0));
            s.when(targets(0, 0)).thenKinds(Kind.EXAM_RESULT);
            assertThat(learner.learned).isEqualTo(1);
        }
    }

    @Nested
    class Order {
        @Test
        void aStepRunsAsSoonAsItsSoftTargetsAreHere() {
            given(admitted()).when(targets(0)).thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT)
                .when(targets(1)).thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT);
            assertThat(given(admitted(), targets(0), targets(1)).machine().stepsDone()).isEqualTo(2);
        }

        @Test
        void softTargetsThatOvertookTheAdmissionAreHeldButANudgeBeforeItIsRefused() {
            given(targets(0)).when(admitted()).thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT);
            given().whenRefused(start(0), "CourseStart for step 0 before student-0 was admitted");
        }

        @Test
        void softTargetsForALaterStepThanTheWindowOrPastThePlanAreOutOfOrder() {
            given(admitted()).whenRefused(targets(2),
                "out of order: soft targets for step 2 while student-0 is at step 0 and holds at most 1 ahead");
            given(admitted(), targets(0), targets(1), targets(2)).whenRefused(targets(3),
                "soft targets for step 3, but student-0 takes 3 steps");
        }

        @Test
        void aFrozenTeachersSoftTargetsAreHeldWithinTheWindowAndLearnedInOrder() {
            var frozen = new StudentTerms(RUN, ME, STEPS, BATCH, 10, 3, true, false);
            var s = MachineScenario.given(fresh(frozen), admitted(),
                targets(2, 0), targets(1, 0));
            assertThat(s.machine().stepsDone()).isZero();
            s.when(targets(0, 0)).thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT, Kind.FEEDBACK, Kind.EXAM_RESULT, Kind.FEEDBACK,
                Kind.EXAM_RESULT);
            assertThat(s.last()).extracting(Envelope::getStep).containsExactly(0L, 0L, 1L, 1L, 2L, 2L);
        }
    }

    @Nested
    class Repeats {
        @Test
        void aRepeatedRequestForTheLastStepGetsTheRecordedAnswersAndLearnsNothing() {
            FakeLearner learner = new FakeLearner(-1);
            MachineScenario<StudentMachine> s = MachineScenario.given(new StudentMachine(SETTINGS, learner), admitted())
                .when(targets(0));
            List<Envelope> answers = s.last();
            s.when(targets(0));
            assertThat(s.last()).isEqualTo(answers);
            s.when(start(0));
            assertThat(s.last()).as("the coordinator's nudge for the last step").isEqualTo(answers);
            assertThat(learner.learned).as("steps learned").isEqualTo(1);
            assertThat(s.machine().stepsDone()).isEqualTo(1);
            s.when(start(1)).thenKinds();
        }

        @Test
        void aRequestForAStepDoneLongAgoIsStale() {
            given(admitted(), targets(0), targets(1))
                .whenRefused(targets(0), "stale SOFT_TARGETS: step 0 of student-0 was done long ago (now at step 2)")
                .whenRefused(start(0), "stale COURSE_START: step 0 of student-0 was done long ago (now at step 2)");
        }
    }

    @Nested
    class ConflictingDuplicates {
        @Test
        void otherSoftTargetsForALearnedStepAreRefused() {
            given(admitted(), targets(0)).whenRefused(targets(0, 3).toBuilder().setSoftTargets(targets(0, 3).getSoftTargets()
                .toBuilder().setTeacherVersion(0)).build(), "conflicting duplicate: soft targets for step 0 differ from the ones "
                + "already learned from");
        }

        @Test
        void otherSoftTargetsForAHeldStepAreRefused() {
            given(targets(0)).whenRefused(targets(0, 4).toBuilder().setSoftTargets(targets(0, 4).getSoftTargets().toBuilder()
                .setTeacherVersion(0)).build(), "conflicting duplicate: soft targets for step 0 differ from the ones already held "
                + "for it");
        }

        @Test
        void aCopyRecomputedAfterATeacherCrashDiffersOnlyInWhatTheTeacherReportsAndIsARepeat() {
            MachineScenario<StudentMachine> s = given(admitted()).when(targets(0));
            List<Envelope> answers = s.last();
            Envelope recomputed = targets(0).toBuilder().setMeasured(dev.ikd.proto.v1.Measured.newBuilder().setBusyUs(1234)
                .setCacheHitRatio(0.5)).build();
            s.when(recomputed);
            assertThat(s.last()).isEqualTo(answers);
            assertThat(s.machine().stepsDone()).isEqualTo(1);
        }
    }

    @Nested
    class Versions {
        @Test
        void softTargetsOfAnotherTeacherVersionThanTheStepExpectsAreRefused() {
            given(admitted(), targets(0)).whenRefused(targets(1, 0),
                "stale teacher version: soft targets for step 1 are version 0, student-0 learns step 1 from version 1");
            given(admitted()).whenRefused(targets(0, 2),
                "unexpected teacher version: soft targets for step 0 are version 2, student-0 learns step 0 from version 0");
        }

        @Test
        void theExamResultSaysWhichVersionTheStepLearnedFrom() {
            var s = given(admitted(), targets(0)).when(targets(1));
            assertThat(s.last().get(1).getExamResult().getTeacherVersion()).isEqualTo(1);
            assertThat(s.last().get(0).getFeedback().getTeacherVersion()).isEqualTo(1);
        }
    }

    @Nested
    class Content {
        @Test
        void softTargetsOfTheWrongShapeOrNotFiniteAreRefusedBeforeTheProtocolIsConsulted() {
            Envelope narrow = targets(5).toBuilder().setSoftTargets(SoftTargets.newBuilder().setProbabilities(
                TensorCodec.encode(new float[BATCH * 9], BATCH, 9))).build();
            given(admitted()).whenRefused(narrow, "soft targets: shape [8, 9], the batch needs [8, 10]");
            float[] p = new float[BATCH * 10];
            Arrays.fill(p, 0.1f);
            p[13] = Float.NaN;
            Envelope nan = targets(0).toBuilder().setSoftTargets(SoftTargets.newBuilder().setProbabilities(
                TensorCodec.encode(p, BATCH, 10))).build();
            given(admitted()).whenRefused(nan, "tensor element [1, 3] is NaN; finite values required");
        }
    }

    @Nested
    class Finishing {
        @Test
        void finishReportsTheTestAccuracyAndFinalHashOnceAndRepeatsTheSameReport() {
            MachineScenario<StudentMachine> s = given(admitted(), targets(0), targets(1), targets(2))
                .when(finish()).thenKinds(Kind.STUDENT_REPORT);
            Envelope report = s.last().get(0);
            assertThat(report.getStudentReport().getParamSha256()).isEqualTo(s.last().get(0).getStudentReport().getParamSha256())
                .isEqualTo(((StudentState) s.machine().state()).getTheta().getSha256());
            assertThat(report.getStudentReport().getTestAccuracy()).isEqualTo(0.75);
            assertThat(report.getStudentReport().getSteps()).isEqualTo(STEPS);
            s.when(finish());
            assertThat(s.last()).containsExactly(report);
        }

        @Test
        void finishBeforeTheLastStepIsRefused() {
            given(admitted(), targets(0)).whenRefused(finish(), "Finish after 1 of 3 steps");
        }

        @Test
        void aRefusalOrAbortStopsTheStudentForGood() {
            MachineScenario<StudentMachine> s = given(admitted()).when(header(0, Kind.ABORT).setAbort(Abort.newBuilder().setReason("operator"))
                .build());
            assertThat(s.machine().stopped()).isEqualTo("was aborted: operator");
            s.whenRefused(targets(0), "student-0 was aborted: operator; it takes no more messages");
        }
    }

    @Nested
    class TakeOver {
        /** A student restored from its state (a restart) answers exactly as the one that never stopped. */
        @Test
        void aStudentRestoredFromItsStateGoesOnAsTheOneThatNeverStopped() {
            MachineScenario<StudentMachine> straight = given(admitted(), targets(0));
            StudentState saved = (StudentState) straight.machine().state();
            try (StudentMachine restored = StudentMachine.restore(SETTINGS, FakeLearner.restored(saved), saved)) {
                assertThat(restored.state()).isEqualTo(saved);
                List<Envelope> fromRestored = restored.apply(MachineScenario.input(targets(1)));
                straight.when(targets(1));
                assertThat(fromRestored).isEqualTo(straight.last());
                assertThat(restored.apply(MachineScenario.input(targets(1)))).as("a repeat after the restart").isEqualTo(fromRestored);
            }
        }

        @Test
        void heldSoftTargetsSurviveARestart() {
            MachineScenario<StudentMachine> straight = given(targets(0));
            StudentState saved = (StudentState) straight.machine().state();
            assertThat(saved.getHeldSoftTargetsList()).hasSize(1);
            try (StudentMachine restored = StudentMachine.restore(SETTINGS, FakeLearner.restored(saved), saved)) {
                assertThat(restored.apply(MachineScenario.input(admitted()))).isEqualTo(straight.when(admitted()).last());
            }
        }

        @Test
        void aStoppedStudentStaysStoppedAfterARestart() {
            MachineScenario<StudentMachine> straight = given(admitted()).when(header(0, Kind.ABORT).setAbort(Abort.newBuilder()
                .setReason("operator")).build());
            StudentState saved = (StudentState) straight.machine().state();
            var restored = MachineScenario.given(StudentMachine.restore(SETTINGS, FakeLearner.restored(saved), saved));
            restored.whenRefused(targets(0), "student-0 was aborted: operator; it takes no more messages");
        }
    }
}
