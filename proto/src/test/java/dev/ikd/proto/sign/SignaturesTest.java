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
        student0 = RunKeys.signingKey(dir.resolve("student-0"), "student-0");
        student1 = RunKeys.signingKey(dir.resolve("student-1"), "student-1");
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
        void aStudentsOwnMessageSignedWithTheKeyTheRunPins() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-0"), student0);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).isNull();
        }

        @Test
        void controlSignedByTheCoordinatorOfTheManifest() {
            keys();
            Decoded.Valid d = written(abort("student-0"), RunKeys.signingKey(dir.resolve("coordinator"), "coordinator"));
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).isNull();
        }

        @Test
        void anEnrollmentSignedWithThePinnedKey() {
            keys();
            Envelope e = Envelopes.header("r", "student-0", 0, Kind.ENROLLMENT, "student-0", Clock.systemUTC())
                .setEnrollment(Enrollment.newBuilder().setPublicKey(ByteString.copyFrom(student0.publicKey().getEncoded()))).build();
            Decoded.Valid d = written(e, student0);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).isNull();
        }
    }

    /** A run of two teachers: each signs its own soft targets; one signing as the other, or as the plain teacher, is refused. */
    @Nested
    class SeveralTeachers {
        private Envelope softTargetsOf(String teacher) {
            return Envelopes.forTeacher(Envelopes.header("r", "student-0", 2, Kind.SOFT_TARGETS, teacher, Clock.systemUTC()), teacher)
                .setSoftTargets(dev.ikd.proto.v1.SoftTargets.getDefaultInstance()).build();
        }

        @Test
        void eachTeachersSoftTargetsMustBeSignedWithItsOwnPinnedKey() {
            RunManifest two = RunKeys.create(dir, "r", 2, 2);
            assertThat(two.teachers()).containsOnlyKeys("teacher-a", "teacher-b");
            assertThat(RunKeys.manifest(dir).teachers()).isEqualTo(two.teachers());
            SigningKey a = RunKeys.signingKey(dir.resolve("teacher-a"), "teacher-a");
            SigningKey b = RunKeys.signingKey(dir.resolve("teacher-b"), "teacher-b");
            Decoded.Valid own = written(softTargetsOf("teacher-a"), a);
            assertThat(Signatures.problem(two, own.envelope(), own.signed())).isNull();
            assertThat(two.fixesSenderOf(own.envelope())).isTrue();
            Decoded.Valid forged = written(softTargetsOf("teacher-a"), b);
            assertThat(Signatures.problem(two, forged.envelope(), forged.signed()))
                .isEqualTo("wrong sender: a SOFT_TARGETS of student-0 must be signed by teacher-a, this one says 'teacher-b'");
            Decoded.Valid plain = written(softTargetsOf("teacher-a"), RunKeys.signingKey(dir.resolve("teacher"), "teacher"));
            assertThat(Signatures.problem(two, plain.envelope(), plain.signed())).contains("must be signed by teacher-a");
        }
    }

    @Nested
    class Refused {
        @Test
        void anUnsignedRecord() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-0"), null);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).startsWith("unsigned:");
        }

        @Test
        void aStudentSigningAsAnother() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-0"), student1);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed()))
                .isEqualTo("wrong sender: a FEEDBACK of student-0 must be signed by student-0, this one says 'student-1'");
        }

        @Test
        void aStudentNamingItselfAnotherButSigningWithItsOwnKey() {
            keys();
            SigningKey impostor = new SigningKey("student-0", student1.privateKey(), student1.publicKey());
            Decoded.Valid d = written(feedback("r", "student-0"), impostor);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).startsWith("bad signature:");
        }

        @Test
        void aStudentSendingControl() {
            keys();
            Decoded.Valid d = written(abort("student-0"), student1);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).contains("must be signed by coordinator");
        }

        /** A part carries a piece of its whole, so it needs the whole's sender: here control, cut small, from a student. */
        @Test
        void aStudentSendingAPartOfControl() {
            keys();
            Envelope large = abort("student-0").toBuilder().setAbort(Abort.newBuilder().setReason("x".repeat(20_000))).build();
            Envelope part = dev.ikd.proto.envelope.Parts.split(large, 8_000).get(0);
            Decoded.Valid d = written(part, student0);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed()))
                .isEqualTo("wrong sender: a PART of student-0 must be signed by coordinator, this one says 'student-0'");
        }

        @Test
        void aValidMessageOfAnotherRunWithItsRunIdChanged() {
            keys();
            Decoded.Valid other = written(feedback("other", "student-0"), student0);
            byte[] changed = other.envelope().toBuilder().setRunId("r").setIdempotencyKey(
                Envelopes.idempotencyKey("r", "student-0", 3, Kind.FEEDBACK)).build().toByteArray();
            var copied = new Signatures.Signed(changed, other.signed().signer(), other.signed().signature());
            assertThat(Signatures.problem(manifest, Envelopes.decode(changed), copied)).startsWith("bad signature:");
        }

        /** A key of its own does not make a student: the run names its students when its keys are made. */
        @Test
        void aStudentTheManifestDoesNotNameWhateverItsKey() {
            keys();
            Decoded.Valid d = written(feedback("r", "student-7"), SigningKey.generate("student-7"));
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).isEqualTo("unknown signer: 'student-7' is not one of "
                + "run r's senders (its manifest.properties pins the coordinator, the teacher and 2 students)");
        }

        /** Its enrollment carries a fresh key and is signed with it: the pinned key is the only one that counts. */
        @Test
        void anEnrollmentUnderAnotherStudentsIdWithAFreshKey() {
            keys();
            SigningKey fresh = SigningKey.generate("student-0");
            Envelope e = Envelopes.header("r", "student-0", 0, Kind.ENROLLMENT, "student-0", Clock.systemUTC())
                .setEnrollment(Enrollment.newBuilder().setPublicKey(ByteString.copyFrom(fresh.publicKey().getEncoded()))).build();
            Decoded.Valid d = written(e, fresh);
            assertThat(Signatures.problem(manifest, d.envelope(), d.signed())).startsWith("bad signature: the ENROLLMENT record was not "
                + "signed with the key of 'student-0' that the run pins");
        }
    }

    @Nested
    class KeysOnDisk {
        @Test
        void areOwnerOnlyAndKeptWhenMadeAgain() throws Exception {
            keys();
            assertThat(Files.getPosixFilePermissions(dir.resolve("student-0").resolve("student-0.key")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(RunKeys.create(dir, "r", 2)).isEqualTo(manifest);
            assertThat(RunKeys.signingKey(dir.resolve("student-0"), "student-0").publicKey()).isEqualTo(student0.publicKey());
            assertThat(student0.toString()).doesNotContain(java.util.Base64.getEncoder().encodeToString(student0.privateKey().getEncoded()));
        }

        @Test
        void aMissingKeyIsNamed() {
            keys();
            assertThatThrownBy(() -> RunKeys.signingKey(dir.resolve("student-0"), "student-1"))
                .hasMessageContaining("no private key for student-1");
        }

        /** Each role's folder holds the manifest and that role's private key, and nothing else. */
        @Test
        void eachRolesFolderHoldsOnlyItsOwnKey() throws Exception {
            keys();
            for (String role : RunKeys.identities(2)) {
                try (var files = Files.list(dir.resolve(role))) {
                    assertThat(files.map(f -> f.getFileName().toString()).sorted().toList())
                        .containsExactlyInAnyOrder(RunKeys.MANIFEST, role + ".key");
                }
                assertThat(RunKeys.manifest(dir.resolve(role))).isEqualTo(manifest);
            }
            try (var files = Files.list(dir)) {
                assertThat(files.filter(Files::isRegularFile).map(f -> f.getFileName().toString()).toList())
                    .as("the top folder holds public keys only").containsExactly(RunKeys.MANIFEST);
            }
            assertThat(manifest.students()).containsOnlyKeys("student-0", "student-1");
        }

        @Test
        void moreStudentsAreAddedAndTheFirstOnesKeepTheirKeys() {
            keys();
            RunManifest three = RunKeys.create(dir, "r", 3);
            assertThat(three.students()).containsOnlyKeys("student-0", "student-1", "student-2");
            assertThat(three.keyOf("student-0")).isEqualTo(student0.publicKey());
            assertThat(RunKeys.manifest(dir.resolve("student-0")).students()).containsOnlyKeys("student-0", "student-1", "student-2");
            assertThatThrownBy(() -> RunKeys.create(dir, "another", 2)).hasMessageContaining("holds the keys of run r, not another");
        }
    }
}
