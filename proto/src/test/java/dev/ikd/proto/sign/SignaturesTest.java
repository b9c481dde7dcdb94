package dev.ikd.proto.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;

import com.google.protobuf.ByteString;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Abort;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may send what, checked as a consumer reads it: given a run's keys, when a record is signed like this, then ... */
class SignaturesTest {

    @TempDir
    Path dir;

    private RunManifest manifest;
    private SigningKey student0;
    private SigningKey student1;

    private void keys() {
        manifest = RunKeys.create(dir, "r", 2);
        student0 = RunKeys.signingKey(dir, "student-0");
        student1 = RunKeys.signingKey(dir, "student-1");
    }

    private static Envelope feedback(String run, String student) {
        return Envelopes.header(run, student, 3, Kind.FEEDBACK, student, Clock.systemUTC())
            .setFeedback(Feedback.getDefaultInstance()).build();
    }

    private static Envelope abort(String student) {
        return Envelopes.header("r", student, 0, Kind.ABORT, "coordinator", Clock.systemUTC())
            .setAbort(Abort.newBuilder().setReason("forged")).build();
    }

    /** What a consumer reads of {@code e} written through a serializer signing with {@code key}. */
    private static Decoded.Valid written(Envelope e, SigningKey key) {
        var headers = new RecordHeaders();
        byte[] value = new EnvelopeSerializer(key).serialize("t", headers, e);
        return (Decoded.Valid) new EnvelopeDeserializer().deserialize("t", headers, value);
    }

    @Nested
    class Accepted {
        @Test
        void aStudentsOwnMessageSignedWithTheKeyItEnrolledWith() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-0"), student0);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), student0.publicKey())).isNull();
        }

        @Test
        void controlSignedByTheCoordinatorOfTheManifest() {
            keys();
            Decoded.Valid d = written(abort("student-0"), RunKeys.signingKey(dir, "coordinator"));
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), null)).isNull();
        }

        @Test
        void anEnrollmentSignedWithTheKeyItRegisters() {
            keys();
            Envelope e = Envelopes.header("r", "student-0", 0, Kind.ENROLLMENT, "student-0", Clock.systemUTC())
                .setEnrollment(Enrollment.newBuilder().setPublicKey(ByteString.copyFrom(student0.publicKey().getEncoded()))).build();
            Decoded.Valid d = written(e, student0);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), null)).isNull();
            assertThat(Signatures.enrolledKey(e)).isEqualTo(student0.publicKey());
        }
    }

    @Nested
    class Refused {
        @Test
        void anUnsignedRecord() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-0"), null);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), student0.publicKey())).startsWith("unsigned:");
        }

        @Test
        void aStudentSigningAsAnother() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-0"), student1);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), student0.publicKey()))
                .isEqualTo("wrong sender: a FEEDBACK of student-0 must be signed by student-0, this one says 'student-1'");
        }

        @Test
        void aStudentNamingItselfAnotherButSigningWithItsOwnKey() {
            keys();
            SigningKey impostor = new SigningKey("student-0", RunKeys.signingKey(dir, "student-1").privateKey(), student1.publicKey());
            Decoded.Valid d = written(feedback("r", "student-0"), impostor);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), student0.publicKey())).startsWith("bad signature:");
        }

        @Test
        void aStudentSendingControl() {
            keys();
            Decoded.Valid d = written(abort("student-0"), student1);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), null)).contains("must be signed by coordinator");
        }

        @Test
        void aValidMessageOfAnotherRunWithItsRunIdChanged() {
            keys();
            Decoded.Valid other = written(feedback("other", "student-0"), student0);
            byte[] changed = other.envelope().toBuilder().setRunId("r").setIdempotencyKey(
                Envelopes.idempotencyKey("r", "student-0", 3, Kind.FEEDBACK)).build().toByteArray();
            var copied = new Signatures.Signed(changed, other.signed().signer(), other.signed().signature());
            assertThat(Signatures.problem(manifest, Envelopes.decode(changed), copied, student0.publicKey())).startsWith("bad signature:");
        }

        @Test
        void aStudentThatHasNotEnrolled() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-0"), student0);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed(), null)).startsWith("unknown signer:");
        }
    }

    @Nested
    class KeysOnDisk {
        @Test
        void areOwnerOnlyAndKeptWhenMadeAgain() throws Exception {
            keys();
            assertThat(Files.getPosixFilePermissions(dir.resolve("student-0.key"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(RunKeys.create(dir, "r", 2)).isEqualTo(manifest);
            assertThat(RunKeys.signingKey(dir, "student-0").publicKey()).isEqualTo(student0.publicKey());
            assertThat(student0.toString()).doesNotContain(java.util.Base64.getEncoder().encodeToString(student0.privateKey().getEncoded()));
        }

        @Test
        void aMissingKeyIsNamed() {
            keys();
            assertThatThrownBy(() -> RunKeys.signingKey(dir, "student-7")).hasMessageContaining("no private key for student-7");
        }
    }
}
