package dev.ikd.proto.envelope;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import com.google.protobuf.ByteString;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.v1.Abort;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.DeadLetter;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.ModelSpec;
import dev.ikd.proto.v1.NamedTensor;
import dev.ikd.proto.v1.Refused;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.TeacherBlock;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.proto.v1.TeacherUpdated;

/** One realistic envelope of every kind, for round-trip tests. */
public final class SampleEnvelopes {

    public static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-23T08:00:00Z"), ZoneOffset.UTC);

    private SampleEnvelopes() {
    }

    public static List<Envelope> oneOfEachKind(String runId) {
        String s = "student-1";
        var probs = TensorCodec.encode(new float[] {0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f}, 2, 3);
        return List.of(
            h(runId, s, 0, Kind.ENROLLMENT).setEnrollment(Enrollment.newBuilder()
                .setStudentModel(ModelSpec.newBuilder().setFamily("mlp").addWidths(64).addWidths(10).putOptions("activation", "tanh"))
                .setDataset(DatasetSpec.newBuilder().setName("digits").setSha256("ab".repeat(32)).setTrainSize(1200)
                    .setQuizSize(200).setTestSize(397).setSplitSeed(1))
                .setHyperParameters(HyperParameters.newBuilder().setLearningRate(0.1).setMomentum(0.9).setTemperature(4)
                    .setAlpha(0.7).setBatchSize(32).setExamBatchSize(64).setSteps(200).setSeed(42).setTeacherMode("ikd")))
                .build(),
            h(runId, s, 0, Kind.ADMITTED).setAdmitted(Admitted.newBuilder().setTeacherMode("ikd").setSteps(200)).build(),
            h(runId, "student-2", 0, Kind.REFUSED).setRefused(Refused.newBuilder().setReason("dataset checksum mismatch")).build(),
            h(runId, s, 3, Kind.COURSE_START).setCourseStart(CourseStart.getDefaultInstance()).build(),
            h(runId, s, 3, Kind.TEACHER_DEADLINE).setTeacherDeadline(dev.ikd.proto.v1.TeacherDeadline.getDefaultInstance()).build(),
            h(runId, s, 200, Kind.FINISH).setFinish(Finish.newBuilder().setReason("all steps done")).build(),
            h(runId, s, 5, Kind.ABORT).setAbort(Abort.newBuilder().setReason("operator")).build(),
            h(runId, s, 3, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(3)
                .setTemperature(4).setProbabilities(probs)).build(),
            h(runId, s, 3, Kind.FEEDBACK).setFeedback(Feedback.newBuilder().setTeacherVersion(3)
                .setD(TensorCodec.encode(new float[] {1e-4f, -2e-4f, 1e-4f, 0f, 3e-5f, -3e-5f}, 2, 3))
                .setCourseLoss(1.25)).build(),
            h(runId, s, 3, Kind.EXAM_RESULT).setExamResult(ExamResult.newBuilder().setExamLoss(0.9).setExamAccuracy(0.75)
                .setParamSha256("cd".repeat(32))).build(),
            h(runId, s, 3, Kind.TEACHER_UPDATED).setTeacherUpdated(TeacherUpdated.newBuilder().setTeacherLoss(0.01)
                .setTeacherVersion(4)).build(),
            h(runId, s, 3, Kind.PART).setPart(dev.ikd.proto.v1.Part.newBuilder().setIndex(0).setCount(2).setWholeKind(Kind.SOFT_TARGETS)
                .setWholeKey(Envelopes.idempotencyKey(runId, s, 3, Kind.SOFT_TARGETS)).setWholeSha256(ByteString.copyFrom(new byte[32]))
                .setData(ByteString.copyFromUtf8("the first half of a larger envelope"))).build(),
            h(runId, s, 200, Kind.STUDENT_REPORT).setStudentReport(StudentReport.newBuilder().setSteps(200)
                .setTestAccuracy(0.93).setParamSha256("ef".repeat(32))).build(),
            h(runId, "", 0, Kind.TEACHER_BLOCK).setTeacherBlock(TeacherBlock.newBuilder().setTeacherId("teacher-0")
                .setStage("stage1").setVersion(1).addParameters(NamedTensor.newBuilder().setName("weight")
                    .setTensor(TensorCodec.encode(new float[] {1, 2, 3, 4}, 2, 2)))).build(),
            h(runId, s, 3, Kind.JOURNAL_ENTRY).setJournalEntry(JournalEntry.newBuilder().setTopic("ikd.exam-results")
                .setPartition(2).setOffset(41).setNowMs(1_700_000_000_000L).setEvent(h(runId, s, 3, Kind.TEACHER_UPDATED)
                    .setTeacherUpdated(TeacherUpdated.newBuilder().setTeacherLoss(0.01).setTeacherVersion(4)))).build(),
            Envelope.newBuilder().setSchemaVersion(Envelopes.SCHEMA_VERSION).setKind(Kind.DEAD_LETTER)
                .setProducerId("test").setDeadLetter(DeadLetter.newBuilder().setTopic("ikd.feedback").setPartition(1)
                    .setOffset(17).setReason("bad").setRawValue(ByteString.copyFromUtf8("junk"))).build());
    }

    private static Envelope.Builder h(String runId, String studentId, long step, Kind kind) {
        return Envelopes.header(runId, studentId, step, kind, "test-producer", CLOCK);
    }
}
