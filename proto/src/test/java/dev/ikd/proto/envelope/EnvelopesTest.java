package dev.ikd.proto.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Kind;
import org.junit.jupiter.api.Test;

class EnvelopesTest {

    private final EnvelopeDeserializer deserializer = new EnvelopeDeserializer(4096);

    @Test
    void everyKindHasASampleThatSurvivesEncodeAndDecode() {
        var samples = SampleEnvelopes.oneOfEachKind("run-1");
        Set<Kind> kinds = samples.stream().map(Envelope::getKind).collect(Collectors.toSet());
        Set<Kind> all = EnumSet.copyOf(Arrays.stream(Kind.values())
            .filter(k -> k != Kind.KIND_UNSPECIFIED && k != Kind.UNRECOGNIZED).toList());
        assertThat(kinds).isEqualTo(all);
        for (Envelope e : samples) {
            assertThat(Envelopes.decode(Envelopes.encode(e))).isEqualTo(e);
        }
    }

    @Test
    void idempotencyKeyIsRunStudentStepKind() {
        assertThat(Envelopes.idempotencyKey("r", "s-1", 12, Kind.SOFT_TARGETS)).isEqualTo("r/s-1/12/soft_targets");
    }

    @Test
    void garbageIsNotAnEnvelope() {
        assertThat(reason(new byte[] {(byte) 0xff, (byte) 0xff, 0x01})).startsWith("not a protobuf Envelope");
        assertThat(reason(null)).isEqualTo("record has no value");
    }

    @Test
    void unknownSchemaVersionIsNamed() {
        Envelope e = feedback().setSchemaVersion(7).build();
        assertThat(reason(e.toByteArray())).isEqualTo("unknown schema version 7 (this build reads 1)");
    }

    @Test
    void kindMustMatchPayload() {
        Envelope e = feedback().setKind(Kind.SOFT_TARGETS)
            .setIdempotencyKey(Envelopes.idempotencyKey("run", "student-3", 1, Kind.SOFT_TARGETS)).build();
        assertThat(reason(e.toByteArray())).isEqualTo("envelope kind SOFT_TARGETS carries a FEEDBACK payload");
        assertThat(reason(feedback().clearFeedback().build().toByteArray()))
            .isEqualTo("envelope of kind FEEDBACK has no payload");
    }

    @Test
    void headersAreChecked() {
        assertThat(reason(feedback().setRunId("").build().toByteArray())).isEqualTo("envelope has no run id");
        assertThat(reason(feedback().setStep(-1).build().toByteArray())).isEqualTo("envelope step is negative (-1)");
        assertThat(reason(feedback().setIdempotencyKey("run/student-3/2/feedback").build().toByteArray()))
            .isEqualTo("idempotency key 'run/student-3/2/feedback' does not match 'run/student-3/1/feedback' (run/student/step/kind)");
    }

    @Test
    void aPerStudentMessageNamesAStudentByItsIdAndNothingElse() {
        assertThat(reason(feedback().setStudentId("").setIdempotencyKey("run//1/feedback").build().toByteArray()))
            .isEqualTo("envelope of kind FEEDBACK has no student id");
        for (String bad : new String[] {"../s", "student-..", "student-01", "Student-1", "student-1/../x", "student-1\n", "s1",
            "student-1234567890"}) {
            assertThat(reason(feedback().setStudentId(bad).setIdempotencyKey("run/" + bad + "/1/feedback").build().toByteArray()))
                .as(bad).endsWith("' is not student-N");
        }
        assertThat(Envelopes.isStudentId("student-0")).isTrue();
        assertThat(Envelopes.isStudentId("student-123456789")).isTrue();
        assertThat(Envelopes.studentId(7)).isEqualTo("student-7");
        assertThatThrownBy(() -> Envelopes.requireStudentId("student-../x"))
            .hasMessage("'student-../x' is not a student id: student ids are student-N (N = 0, 1, ...)");
        // The run's end names no student.
        Envelope runEnd = Envelopes.header("run", "", 0, Kind.FINISH, "p", SampleEnvelopes.CLOCK)
            .setFinish(dev.ikd.proto.v1.Finish.newBuilder().setReason("done")).build();
        assertThat(Envelopes.decode(runEnd.toByteArray())).isEqualTo(runEnd);
    }

    @Test
    void oversizeMessagesAreRefusedBeforeParsing() {
        assertThat(reason(new byte[5000])).isEqualTo("message has 5000 bytes, over the limit of 4096");
    }

    @Test
    void decodeThrowsWhatTheDeserializerReports() {
        assertThatThrownBy(() -> Envelopes.decode(feedback().setSchemaVersion(2).build().toByteArray()))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessageContaining("schema version 2");
    }

    private String reason(byte[] bytes) {
        Decoded d = deserializer.deserialize("ikd.feedback", bytes);
        assertThat(d).isInstanceOf(Decoded.Malformed.class);
        return ((Decoded.Malformed) d).reason();
    }

    private static Envelope.Builder feedback() {
        return Envelopes.header("run", "student-3", 1, Kind.FEEDBACK, "p", SampleEnvelopes.CLOCK)
            .setFeedback(Feedback.newBuilder().setCourseLoss(1.0));
    }
}
