package dev.ikd.proto.sign;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;

import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Who may send what, and the check that they did. Kafka does not tell a consumer who wrote a
 * record, so every envelope carries its sender's name and an Ed25519 signature over the record's
 * value in two record headers. The kind of a message fixes its sender: control and the journal
 * come from the coordinator, soft targets, teacher updates and blocks from the teacher, and
 * enrollments, feedback, exam results and reports from the student the envelope names.
 */
public final class Signatures {

    public static final String SIGNER_HEADER = "ikd-signer";
    public static final String SIGNATURE_HEADER = "ikd-signature";

    private Signatures() {
    }

    /** What a consumer saw of a record's signature: the value's bytes and the two headers (either may be null). */
    public record Signed(byte[] value, String signer, byte[] signature) {

        public static Signed of(byte[] value, Headers headers) {
            Header signer = headers == null ? null : headers.lastHeader(SIGNER_HEADER);
            Header signature = headers == null ? null : headers.lastHeader(SIGNATURE_HEADER);
            return new Signed(value, signer == null || signer.value() == null ? null : new String(signer.value(), StandardCharsets.UTF_8),
                signature == null ? null : signature.value());
        }
    }

    /** Adds {@code key}'s signature of {@code value} to {@code headers}. */
    public static void sign(SigningKey key, byte[] value, Headers headers) {
        headers.remove(SIGNER_HEADER);
        headers.remove(SIGNATURE_HEADER);
        headers.add(SIGNER_HEADER, key.identity().getBytes(StandardCharsets.UTF_8));
        headers.add(SIGNATURE_HEADER, key.sign(value));
    }

    /**
     * The one identity that may send {@code e}; null for a dead letter, which any known sender may
     * write. A part of a larger envelope has that envelope's sender.
     */
    public static String senderOf(Envelope e) {
        return switch (e.getKind() == Kind.PART ? e.getPart().getWholeKind() : e.getKind()) {
            case ADMITTED, REFUSED, COURSE_START, TEACHER_DEADLINE, FINISH, ABORT, JOURNAL_ENTRY -> RunManifest.COORDINATOR;
            case SOFT_TARGETS, TEACHER_UPDATED -> e.getTeacherId().isEmpty() ? RunManifest.TEACHER : e.getTeacherId();
            case TEACHER_BLOCK -> RunManifest.TEACHER;
            case ENROLLMENT, FEEDBACK, EXAM_RESULT, STUDENT_REPORT -> e.getStudentId();
            default -> null;
        };
    }

    /**
     * Why {@code e}, as read, is not from the sender its kind requires, or null when it is. Every
     * sender's key is the one the run's manifest pins: a student the manifest does not name is
     * unknown, whatever key it signs with.
     */
    public static String problem(RunManifest manifest, Envelope e, Signed signed) {
        if (signed == null || signed.signer() == null || signed.signature() == null) {
            return "unsigned: this run signs every message, and a " + e.getKind() + " record has no " + SIGNER_HEADER + "/"
                + SIGNATURE_HEADER + " headers";
        }
        String expected = senderOf(e);
        String signer = signed.signer();
        if (expected != null && !expected.equals(signer)) {
            return "wrong sender: a " + e.getKind() + (e.getStudentId().isEmpty() ? "" : " of " + e.getStudentId())
                + " must be signed by " + expected + ", this one says " + printable(signer);
        }
        PublicKey key = manifest.keyOf(signer);
        if (key == null) {
            return "unknown signer: " + printable(signer) + " is not one of run " + manifest.runId() + "'s senders (its "
                + RunKeys.MANIFEST + " pins the coordinator, the teacher and " + manifest.students().size() + " students)";
        }
        return verifies(key, signed.value(), signed.signature()) ? null
            : "bad signature: the " + e.getKind() + " record was not signed with the key of " + printable(signer)
                + " that the run pins, or was changed after signing";
    }

    /** The SHA-256 of an encoded public key, in hex: how a refusal names the key it refuses. */
    public static String fingerprint(byte[] encodedKey) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(encodedKey));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean verifies(PublicKey key, byte[] value, byte[] signature) {
        try {
            Signature s = Signature.getInstance(SigningKey.ALGORITHM);
            s.initVerify(key);
            s.update(value);
            return s.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** A sender name from a header, cut short and with anything odd replaced, so a dead letter's reason stays readable. */
    private static String printable(String s) {
        String clean = s.replaceAll("[^A-Za-z0-9._-]", "?");
        return "'" + (clean.length() > 64 ? clean.substring(0, 64) + "..." : clean) + "'";
    }
}
