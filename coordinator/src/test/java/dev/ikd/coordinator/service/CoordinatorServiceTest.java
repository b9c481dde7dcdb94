package dev.ikd.coordinator.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import com.google.protobuf.ByteString;
import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.sign.SigningKey;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.junit.jupiter.api.Test;

/** What the coordinator answers to a record whose signature failed, besides its dead letter. */
class CoordinatorServiceTest {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T08:00:00Z"), ZoneOffset.UTC);
    final CoordinatorService service = new CoordinatorService(new CoordinatorMachine.Settings(DatasetSpec.getDefaultInstance(), "ikd",
        1_000, 5, 1), "r", "coordinator", CLOCK);

    @Test
    void aForgedEnrollmentIsRefusedNamingTheReasonAndTheKeyItCameWith() {
        var fresh = SigningKey.generate("student-0").publicKey();
        Envelope e = Envelopes.header("r", "student-0", 0, Kind.ENROLLMENT, "student-0", CLOCK)
            .setEnrollment(Enrollment.newBuilder().setPublicKey(ByteString.copyFrom(fresh.getEncoded()))).build();
        var out = service.answerToForgery(e, "bad signature: ...");
        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.getKind()).isEqualTo(Kind.REFUSED);
            assertThat(r.getStudentId()).isEqualTo("student-0");
            assertThat(r.getRefused().getReason()).isEqualTo("enrollment refused: bad signature: ...");
            assertThat(r.getRefused().getEnrolledKeySha256()).isEqualTo(Signatures.fingerprint(fresh.getEncoded()));
        });
    }

    @Test
    void anyOtherForgeryIsOnlyDeadLettered() {
        Envelope e = Envelopes.header("r", "student-0", 3, Kind.EXAM_RESULT, "student-0", CLOCK).build();
        assertThat(service.answerToForgery(e, "bad signature")).isEmpty();
    }
}
