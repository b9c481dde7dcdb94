package dev.ikd.proto.sign;

import java.security.PublicKey;
import java.util.Map;
import java.util.TreeMap;

/**
 * What every service of a signed run trusts: the public keys of the coordinator, of the teacher
 * (teacher replicas share one; a run of several teachers pins teacher-a, teacher-b, ... each), and
 * of every student the run admits, pinned when the keys were
 * made ({@code ikd keys --students N}). A student the manifest does not name cannot enroll, and a
 * student can only be the one whose key signs its records: no record certifies its own sender.
 */
public record RunManifest(String runId, PublicKey coordinator, PublicKey teacher, Map<String, PublicKey> students,
                          Map<String, PublicKey> teachers) {

    public static final String COORDINATOR = "coordinator";
    public static final String TEACHER = "teacher";

    public RunManifest {
        students = java.util.Collections.unmodifiableMap(new TreeMap<>(students));
        teachers = java.util.Collections.unmodifiableMap(new TreeMap<>(teachers));
    }

    /** A run of one teacher. */
    public RunManifest(String runId, PublicKey coordinator, PublicKey teacher, Map<String, PublicKey> students) {
        this(runId, coordinator, teacher, students, Map.of());
    }

    /** The pinned key of {@code identity} (the coordinator, the teacher or a student), or null if the run has none. */
    public PublicKey keyOf(String identity) {
        if (identity == null) {
            return null;
        }
        return switch (identity) {
            case COORDINATOR -> coordinator;
            case TEACHER -> teacher;
            default -> teachers.containsKey(identity) ? teachers.get(identity) : students.get(identity);
        };
    }

    /**
     * Whether {@code e} must come from the coordinator or a teacher (the only one, or teacher-a, ...),
     * which a service can check before any machine hears of it.
     */
    public boolean fixesSenderOf(dev.ikd.proto.v1.Envelope e) {
        String sender = Signatures.senderOf(e);
        return COORDINATOR.equals(sender) || TEACHER.equals(sender) || !e.getTeacherId().isEmpty() && e.getTeacherId().equals(sender);
    }
}
