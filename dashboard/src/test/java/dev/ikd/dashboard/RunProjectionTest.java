package dev.ikd.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Abort;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.DeadLetter;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.proto.v1.TeacherUpdated;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The dashboard's projection of a run, given records and asked what the page shows. */
class RunProjectionTest {

    static final String RUN = "r";
    private final RunProjection run = new RunProjection(RUN);
    private long clock = 1_000_000;

    private RunProjection given(Envelope... records) {
        for (Envelope e : records) {
            clock += 100;
            run.apply(topicOf(e), clock, e);
        }
        return run;
    }

    private static String topicOf(Envelope e) {
        return dev.ikd.proto.topics.Topics.topicOf(e.getKind());
    }

    static Envelope.Builder header(String student, long step, Kind kind) {
        return Envelope.newBuilder().setRunId(RUN).setStudentId(student).setStep(step).setKind(kind).setEventTimeMs(999_000);
    }

    static Envelope admitted(String student) {
        return header(student, 0, Kind.ADMITTED).setAdmitted(Admitted.newBuilder().setTeacherMode("ikd").setSteps(3)
            .setEnrollment(Enrollment.newBuilder().setDataset(DatasetSpec.newBuilder().setName("digits"))
                .setHyperParameters(HyperParameters.newBuilder().setLearningRate(0.1).setSteps(3)))).build();
    }

    static Envelope targets(String student, long step, float... p) {
        return header(student, step, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(step)
            .setProbabilities(TensorCodec.encode(p, p.length / 2, 2))).setMeasured(dev.ikd.proto.v1.Measured.newBuilder()
            .setBusyUs(500_000)).build();
    }

    static Envelope feedback(String student, long step, double kl) {
        return header(student, step, Kind.FEEDBACK).setFeedback(Feedback.newBuilder().setCourseLoss(1).setDistillKl(kl)).build();
    }

    static Envelope exam(String student, long step, double course, long version) {
        return header(student, step, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setCourseLoss(course).setExamLoss(0.5)
            .setExamAccuracy(0.75).setTeacherVersion(version)).build();
    }

    static Envelope updated(String student, long step, long version) {
        return header(student, step, Kind.TEACHER_UPDATED).setTeacherUpdated(TeacherUpdated.newBuilder().setTeacherLoss(0.25)
            .setTeacherVersion(version).setDriftKl(0.125).setTeacherExamAccuracy(0.5)).build();
    }

    static JsonArray rows(JsonObject view, String student) {
        return view.getJsonObject("students").getJsonObject(student).getJsonArray("rows");
    }

    /** A run of two teachers: each one's mean weight over the students, its loss, and how many steps learned from it. */
    @Nested
    class SeveralTeachers {
        Envelope weighted(String student, long step, double a, double b) {
            return header(student, step, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setCourseLoss(1)
                .putTeacherWeights("teacher-a", a).putTeacherWeights("teacher-b", b)).build();
        }

        Envelope updatedBy(String teacher, String student, long step, double loss) {
            return header(student, step, Kind.TEACHER_UPDATED).setTeacherId(teacher).setTeacherUpdated(TeacherUpdated.newBuilder()
                .setTeacherLoss(loss).setTeacherVersion(step + 1)).build();
        }

        @Test
        void eachTeachersWeightIsTheMeanOfItsStudentsLatestAndItsLossTheMeanOfTheirLatest() {
            JsonObject teachers = given(admitted("s0"), admitted("s1"), weighted("s0", 0, 0.5, 0.5), weighted("s0", 1, 0.75, 0.25),
                weighted("s1", 0, 0.25, 0.75), updatedBy("teacher-a", "s0", 0, 0.5), updatedBy("teacher-a", "s1", 0, 1.5),
                updatedBy("teacher-b", "s0", 0, 2.0)).since(0, clock).getJsonObject("teachers");
            assertThat(teachers.fieldNames()).containsExactlyInAnyOrder("teacher-a", "teacher-b");
            assertThat(teachers.getJsonObject("teacher-a").getDouble("weight")).isEqualTo(0.5); // (0.75 + 0.25) / 2
            assertThat(teachers.getJsonObject("teacher-b").getDouble("weight")).isEqualTo(0.5); // (0.25 + 0.75) / 2
            assertThat(teachers.getJsonObject("teacher-a").getDouble("loss")).isEqualTo(1.0);
            assertThat(teachers.getJsonObject("teacher-b").getDouble("loss")).isEqualTo(2.0);
            assertThat(teachers.getJsonObject("teacher-a").getLong("steps_used")).isEqualTo(3);
        }

        Envelope admittedToThree(String student) {
            Envelope a = admitted(student);
            return a.toBuilder().setAdmitted(a.getAdmitted().toBuilder().setEnrollment(a.getAdmitted().getEnrollment().toBuilder()
                .setHyperParameters(a.getAdmitted().getEnrollment().getHyperParameters().toBuilder()
                    .addAllTeachers(java.util.List.of("teacher-a", "teacher-b", "teacher-c")).setTeachersRequired(2)))).build();
        }

        Envelope targetsFrom(String teacher, String student, long step) {
            return targets(student, step, 0.5f, 0.5f).toBuilder().setTeacherId(teacher).build();
        }

        /** Step k learned from {@code versions}' teachers only, at those versions. */
        Envelope without(String student, long step, java.util.Map<String, Long> versions) {
            ExamResult.Builder r = ExamResult.newBuilder().setCourseLoss(1).putAllTeacherVersions(versions);
            versions.keySet().forEach(t -> r.putTeacherWeights(t, 1.0 / versions.size()));
            return header(student, step, Kind.EXAM_RESULT).setExamResult(r).build();
        }

        @Test
        void aStudentWaitingForATeacherSaysWhichAndTheTeachersTableCountsTheStepsWithoutIt() {
            RunProjection run = given(admittedToThree("s0"), targetsFrom("teacher-a", "s0", 0), targetsFrom("teacher-b", "s0", 0));
            assertThat(run.since(0, clock).getJsonObject("students").getJsonObject("s0").getString("waiting"))
                .isEqualTo("the soft targets of teacher-c for step 0 (teacher-a, teacher-b are in)");
            run.apply(Topics.EXAM_RESULTS, clock, without("s0", 0, java.util.Map.of("teacher-a", 0L, "teacher-b", 0L)));
            run.apply(Topics.TEACHER_UPDATES, clock, updatedBy("teacher-a", "s0", 0, 0.5));
            run.apply(Topics.SOFT_TARGETS, clock, targetsFrom("teacher-c", "s0", 1));
            JsonObject view = run.since(0, clock);
            assertThat(view.getJsonObject("students").getJsonObject("s0").getString("waiting"))
                .isEqualTo("the soft targets of teacher-a, teacher-b for step 1 (teacher-c is in)");
            JsonObject c = view.getJsonObject("teachers").getJsonObject("teacher-c");
            assertThat(c.getLong("steps_without")).isEqualTo(1);
            assertThat(c.getString("last_without")).isEqualTo("s0 step 0");
            assertThat(view.getJsonObject("teachers").getJsonObject("teacher-a").getLong("steps_without")).isZero();
            // Step 1 learned from teacher-c at the version it had (0), teacher-a at the one after its update (1): no alert.
            run.apply(Topics.EXAM_RESULTS, clock, without("s0", 1, java.util.Map.of("teacher-a", 1L, "teacher-c", 0L)));
            assertThat(run.since(0, clock).getJsonArray("alerts").stream().map(Object::toString).toList())
                .noneMatch(a -> a.contains("stale-teacher-version"));
            run.apply(Topics.TEACHER_UPDATES, clock, updatedBy("teacher-a", "s0", 1, 0.5));
            run.apply(Topics.EXAM_RESULTS, clock, without("s0", 2, java.util.Map.of("teacher-a", 1L, "teacher-c", 1L)));
            assertThat(run.since(0, clock).getJsonArray("alerts").encode()).contains(
                "s0: step 2 learned from teacher-a version 1, the teacher was at 2 after step 1");
        }

        @Test
        void aRunOfOneTeacherHasNoTeachersSection() {
            assertThat(given(admitted("s0"), exam("s0", 0, 0.9, 0), updated("s0", 0, 1)).since(0, clock).getJsonObject("teachers"))
                .isEmpty();
        }
    }

    @Nested
    class Rows {
        @Test
        void aStepsRowGathersItsValuesFromEveryRecordOfThatStep() {
            JsonObject view = given(admitted("s0"), targets("s0", 0, 0.5f, 0.5f, 1f, 0f), feedback("s0", 0, 0.3), exam("s0", 0, 0.9, 0),
                updated("s0", 0, 1)).since(0, clock);
            JsonArray row = rows(view, "s0").getJsonArray(0);
            // [step, course, exam, accuracy, teacher, entropy, distill, drift, teacher accuracy]; entropy: (ln 2 + 0) / 2 samples.
            assertThat(row.getLong(0)).isZero();
            assertThat(row.getDouble(1)).isEqualTo(0.9);
            assertThat(row.getDouble(2)).isEqualTo(0.5);
            assertThat(row.getDouble(3)).isEqualTo(0.75);
            assertThat(row.getDouble(4)).isEqualTo(0.25);
            assertThat(row.getDouble(5)).isCloseTo(Math.log(2) / 2, within(1e-6));
            assertThat(row.getDouble(6)).isEqualTo(0.3);
            assertThat(row.getDouble(7)).isEqualTo(0.125);
            assertThat(row.getDouble(8)).isEqualTo(0.5);
            assertThat(view.getJsonObject("run").getString("dataset")).isEqualTo("digits");
            assertThat(view.getJsonObject("run").getString("teacher_mode")).isEqualTo("ikd");
            assertThat(view.getJsonObject("run").getJsonObject("options").getDouble("lr")).isEqualTo(0.1);
        }

        @Test
        void aPageThatSawAVersionGetsOnlyTheRowsThatChangedAfterIt() {
            given(admitted("s0"), exam("s0", 0, 0.9, 0), exam("s0", 1, 0.8, 1));
            long seen = run.version();
            given(updated("s0", 1, 2), exam("s0", 2, 0.7, 2));
            JsonArray changed = rows(run.since(seen, clock), "s0");
            assertThat(changed.stream().map(r -> ((JsonArray) r).getLong(0))).containsExactly(1L, 2L);
            assertThat(run.since(seen, clock).getBoolean("full")).isFalse();
            assertThat(rows(run.since(0, clock), "s0")).hasSize(3);
        }

        @Test
        void aRepeatedExamResultIsOneStep() {
            given(admitted("s0"), exam("s0", 0, 0.9, 0), exam("s0", 0, 0.9, 0));
            assertThat(rows(run.since(0, clock), "s0")).hasSize(1);
            assertThat(run.since(0, clock).getJsonObject("students").getJsonObject("s0").getLong("step")).isEqualTo(1);
        }
    }

    @Nested
    class ProtocolState {
        @Test
        void whatAStudentWaitsForFollowsItsRecords() {
            given(header("s0", 0, Kind.ENROLLMENT).setEnrollment(Enrollment.getDefaultInstance()).build());
            assertThat(waiting("s0")).isEqualTo("admission by the coordinator");
            given(admitted("s0"));
            assertThat(waiting("s0")).isEqualTo("the teacher's soft targets for step 0");
            given(targets("s0", 0, 0.5f, 0.5f));
            assertThat(waiting("s0")).isEqualTo("its own step 0 (course and exam)");
            given(feedback("s0", 0, 0.1), exam("s0", 0, 1, 0));
            assertThat(waiting("s0")).isEqualTo("the teacher's soft targets for step 1");
            given(header("s0", 3, Kind.STUDENT_REPORT).setStudentReport(StudentReport.newBuilder().setTestAccuracy(0.9)).build());
            assertThat(waiting("s0")).isEqualTo("nothing: done");
            given(header("s1", 0, Kind.ABORT).setAbort(Abort.newBuilder().setReason("bad data")).build());
            assertThat(waiting("s1")).isEqualTo("nothing: aborted (bad data)");
        }

        @Test
        void theRunIsCompleteOnTheCoordinatorsRunEndAndAbortedWhenEveryStudentWas() {
            given(admitted("s0"), admitted("s1"));
            assertThat(run.status()).isEqualTo("running");
            given(header("s0", 0, Kind.ABORT).setAbort(Abort.newBuilder().setReason("x")).build());
            assertThat(run.status()).isEqualTo("running");
            given(header("s1", 0, Kind.ABORT).setAbort(Abort.newBuilder().setReason("y")).build());
            assertThat(run.status()).isEqualTo("aborted");
            assertThat(run.since(0, clock).getJsonObject("run").getString("reason")).isEqualTo("s0: x; s1: y");
            given(header("", 0, Kind.FINISH).setFinish(Finish.newBuilder().setReason("all reported")).build());
            assertThat(run.status()).isEqualTo("complete");
        }

        /**
         * A language model's student: its TokenTargets count (the soft-target bytes a token, as sent)
         * and move it on, its row shows the perplexity of its last exam, then its test perplexity.
         */
        @Test
        void aLanguageModelsStudentShowsItsPerplexityAndTheSoftTargetBytesAToken() {
            var tokens = dev.ikd.proto.v1.TokenTargets.newBuilder().setEncoding("topk:1").setPositions(8).setVocab(50)
                .setIds(com.google.protobuf.ByteString.copyFrom(new byte[32])).setProbs(com.google.protobuf.ByteString.copyFrom(new byte[32]))
                .setTail(com.google.protobuf.ByteString.copyFrom(new byte[32])).build();
            given(admitted("s0"), header("s0", 0, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTokens(tokens)).build());
            assertThat(waiting("s0")).isEqualTo("its own step 0 (course and exam)");
            given(feedback("s0", 0, 0.1), exam("s0", 0, 1, 0),
                header("s0", 1, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(1).setTokens(tokens)).build());
            JsonObject s0 = run.since(0, clock).getJsonObject("students").getJsonObject("s0");
            assertThat(s0.getDouble("soft_target_bytes_per_token")).isEqualTo(tokens.getSerializedSize() / 8.0);
            assertThat(s0.getDouble("perplexity")).as("exp of the last exam's loss, 0.5").isEqualTo(Math.exp(0.5));
            assertThat(s0.getValue("test_perplexity")).isNull();
            given(header("s0", 3, Kind.STUDENT_REPORT).setStudentReport(StudentReport.newBuilder().setTestAccuracy(0.25)
                .setTestPerplexity(42.5)).build());
            assertThat(run.since(0, clock).getJsonObject("students").getJsonObject("s0").getDouble("test_perplexity")).isEqualTo(42.5);
            given(targets("s1", 0, 0.5f, 0.5f));
            assertThat(run.since(0, clock).getJsonObject("students").getJsonObject("s1").containsKey("perplexity"))
                .as("a classifier's row has none").isFalse();
        }

        private String waiting(String student) {
            return run.since(0, clock).getJsonObject("students").getJsonObject(student).getString("waiting");
        }
    }

    @Nested
    class Alerts {
        /** A record that failed its check is not shown as the run's: its step's row is marked, and an alert says why. */
        @Test
        void aRecordThatFailedTheCheckAgainstTheRunsKeysIsNotTakenAndIsMarked() {
            given(admitted("s0"), targets("s0", 0, 0.5f, 0.5f));
            run.unverified(Topics.EXAM_RESULTS, clock + 1, exam("s0", 0, 99.0, 0), "bad signature: ...");
            JsonArray row = rows(run.since(0, clock, 60_000), "s0").getJsonArray(0);
            assertThat(row.getValue(1)).as("the forged course loss is not shown").isNull();
            assertThat(row.getInteger(9)).as("the step is marked").isEqualTo(1);
            assertThat(alerts()).containsExactly("unverified-records: 1 records failed the check against the run's keys and are not "
                + "shown; the newest: ikd.exam-results s0 step 0 EXAM_RESULT: bad signature: ...");
        }

        @Test
        void aNanLossIsAnAlertAndALossNotYetKnownIsNot() {
            given(admitted("s0"), targets("s0", 0, 0.5f, 0.5f), exam("s0", 0, 1.0, 0));
            assertThat(alerts()).isEmpty();
            given(exam("s0", 1, Double.NaN, 1));
            assertThat(alerts()).containsExactly("loss-not-finite: s0: a loss of step 1 is NaN or infinite");
        }

        @Test
        void aCourseLossAboveTwiceItsRecentLowestIsDivergent() {
            given(admitted("s0"), exam("s0", 0, 1.0, 0), exam("s0", 1, 0.4, 1), exam("s0", 2, 0.7, 2));
            assertThat(alerts()).isEmpty();
            given(exam("s0", 3, 0.9, 3));
            assertThat(alerts()).containsExactly("loss-divergent: s0: course loss 0.900 at step 3, more than twice its lowest "
                + "(0.400) of the last 50 steps");
        }

        @Test
        void aRunningStudentSilentForLongerThanTheStepTimeoutIsAnAlertAndADoneOneIsNot() {
            given(admitted("s0"), exam("s0", 0, 1, 0));
            assertThat(alerts(clock + 29_000)).isEmpty();
            assertThat(alerts(clock + 31_000)).containsExactly("student-silent: s0: no message for 31 s (step timeout 30 s)");
            given(header("s0", 3, Kind.STUDENT_REPORT).setStudentReport(StudentReport.newBuilder().setTestAccuracy(0.9)).build());
            assertThat(alerts(clock + 60_000)).isEmpty();
        }

        @Test
        void aStepThatLearnedFromAnOlderTeacherThanTheUpdateBeforeItIsStale() {
            given(admitted("s0"), exam("s0", 0, 1, 0), updated("s0", 0, 1), exam("s0", 1, 0.9, 1));
            assertThat(alerts()).isEmpty();
            given(updated("s0", 1, 2), exam("s0", 2, 0.8, 1));
            assertThat(alerts()).containsExactly("stale-teacher-version: s0: step 2 learned from teacher version 1, the teacher was "
                + "at 2 after step 1");
        }

        private java.util.List<String> alerts() {
            return alerts(clock);
        }

        private java.util.List<String> alerts(long now) {
            return run.since(0, now).getJsonArray("alerts").stream()
                .map(a -> ((JsonObject) a).getString("kind") + ": " + ((JsonObject) a).getString("text")).toList();
        }
    }

    @Nested
    class Operations {
        @Test
        void deadLettersAreKeptWithTheirReasonsNewestLastAndAtMostFifty() {
            for (int i = 0; i < 60; i++) {
                run.deadLetter(clock + i, header("s0", 0, Kind.DEAD_LETTER).setDeadLetter(DeadLetter.newBuilder()
                    .setTopic("ikd.feedback").setOffset(i).setReason("reason " + i)).build());
            }
            JsonArray letters = run.since(0, clock).getJsonArray("dead_letters");
            assertThat(letters).hasSize(RunProjection.DEAD_LETTERS_SHOWN);
            assertThat(letters.getJsonObject(49).getString("reason")).isEqualTo("reason 59");
        }

        @Test
        void teacherBusyTimeAndHopsArePerTimeBucket() {
            given(admitted("s0"), targets("s0", 0, 0.5f, 0.5f), targets("s0", 1, 0.5f, 0.5f));
            JsonArray buckets = run.since(0, clock).getJsonObject("ops").getJsonArray("buckets");
            JsonObject b = buckets.getJsonObject(buckets.size() - 1);
            // Two answers of 0.5 s of CPU each in a bucket of 2 s: half a core.
            assertThat(b.getDouble("busy")).isEqualTo(0.5);
            // Sent at 999 000 ms, appended 1 000 200 and 1 000 300 ms: 1200 and 1300 ms.
            assertThat(b.getJsonObject("hops").getJsonArray("ikd.soft-targets").getDouble(0)).isEqualTo(1300.0);
        }

        @Test
        void aBusyBucketKeepsABoundedUniformSampleOfItsHops() {
            given(admitted("s0"));
            long appended = 2_000_000;
            for (int i = 0; i < 20_000; i++) {
                // Hops of 0 to 99 ms, all appended in one bucket.
                run.apply(Topics.FEEDBACK, appended, header("s0", i, Kind.FEEDBACK).setEventTimeMs(appended - i % 100)
                    .setFeedback(Feedback.newBuilder().setCourseLoss(1)).build());
            }
            JsonArray buckets = run.since(0, appended).getJsonObject("ops").getJsonArray("buckets");
            JsonArray hops = buckets.getJsonObject(buckets.size() - 1).getJsonObject("hops").getJsonArray(Topics.FEEDBACK);
            assertThat(hops.getDouble(0)).isBetween(45.0, 55.0);
            assertThat(hops.getDouble(1)).isBetween(97.0, 99.0);
        }

        @Test
        void theEntropyOfSoftTargetsIsTheMeanOverTheirRows() {
            float[] p = {0.25f, 0.75f, 0.5f, 0.5f, 1f, 0f};
            double brute = 0;
            for (int i = 0; i < 3; i++) {
                for (int c = 0; c < 2; c++) {
                    double v = p[i * 2 + c];
                    brute -= v == 0 ? 0 : v * Math.log(v);
                }
            }
            assertThat(RunProjection.entropy(TensorCodec.encode(p, 3, 2))).isCloseTo(brute / 3, within(1e-6));
        }
    }
}
