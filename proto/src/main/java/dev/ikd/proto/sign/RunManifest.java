package dev.ikd.proto.sign;

import java.security.PublicKey;

/**
 * What every service of a signed run trusts: the public keys of the coordinator and of the teacher
 * (teacher replicas share one). A student's key is not here: it comes with its enrollment.
 */
public record RunManifest(String runId, PublicKey coordinator, PublicKey teacher) {

    public static final String COORDINATOR = "coordinator";
    public static final String TEACHER = "teacher";

    /** The fixed key of {@code identity}, or null for a student (or anyone else, or null). */
    public PublicKey keyOf(String identity) {
        if (identity == null) {
            return null;
        }
        return switch (identity) {
            case COORDINATOR -> coordinator;
            case TEACHER -> teacher;
            default -> null;
        };
    }

    /** Whether {@code e} must come from a sender whose key this manifest fixes (the coordinator or the teacher). */
    public boolean fixesSenderOf(dev.ikd.proto.v1.Envelope e) {
        return keyOf(Signatures.senderOf(e)) != null;
    }
}
