package dev.ikd.proto.topics;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Least privilege per role on a cluster with an authorizer: each principal writes only what its
 * role sends, reads only what it consumes, and uses only consumer groups named with its role's
 * prefix. Every principal may write dead letters. Nobody else is allowed anything (the admin is a
 * super user).
 */
public final class Acls {

    /** What one role may do. */
    public record Rights(String principal, List<String> writes, List<String> reads, String groupPrefix) {
    }

    private Acls() {
    }

    public static Rights coordinator() {
        return new Rights("coordinator", List.of(Topics.CONTROL, Topics.COORDINATOR_JOURNAL, Topics.DEAD_LETTER),
            List.of(Topics.ENROLLMENT, Topics.EXAM_RESULTS, Topics.TEACHER_UPDATES, Topics.COORDINATOR_JOURNAL),
            groupPrefix("coordinator"));
    }

    public static Rights teacher() {
        return teacher("teacher");
    }

    /** The rights of teacher {@code teacherId} ("teacher", or teacher-a, ... of several): its own principal and consumer groups. */
    public static Rights teacher(String teacherId) {
        return new Rights(teacherId, List.of(Topics.SOFT_TARGETS, Topics.TEACHER_UPDATES, Topics.TEACHER_BLOCKS, Topics.DEAD_LETTER),
            List.of(Topics.CONTROL, Topics.FEEDBACK), groupPrefix(teacherId));
    }

    public static Rights student(String studentId) {
        return new Rights(studentId, List.of(Topics.ENROLLMENT, Topics.FEEDBACK, Topics.EXAM_RESULTS, Topics.DEAD_LETTER),
            List.of(Topics.CONTROL, Topics.SOFT_TARGETS, Topics.TEACHER_BLOCKS), groupPrefix(studentGroup(studentId)));
    }

    /** The consumer group of the student {@code studentId}'s service: the one place it is made. */
    public static String studentGroup(String studentId) {
        return "student-" + studentId;
    }

    /** The consumer groups of a service ({@code ikd-<group>-<run>}) start with this. */
    public static String groupPrefix(String group) {
        return "ikd-" + group + "-";
    }

    /** The rights of the coordinator, the teacher and every student in {@code students}. */
    public static List<Rights> roles(List<String> students) {
        return roles(students, List.of());
    }

    /** As {@link #roles(List)}, with the teachers of several ({@code teachers}: teacher-a, ...; empty with one). */
    public static List<Rights> roles(List<String> students, List<String> teachers) {
        List<Rights> all = new ArrayList<>(List.of(coordinator(), teacher()));
        teachers.forEach(t -> all.add(teacher(t)));
        students.forEach(s -> all.add(student(s)));
        return all;
    }

    /** The ACLs that grant exactly {@code roles}' rights. */
    public static List<AclBinding> bindings(List<Rights> roles) {
        List<AclBinding> acls = new ArrayList<>();
        for (Rights r : roles) {
            String user = "User:" + r.principal();
            r.writes().forEach(t -> acls.add(allow(user, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.WRITE)));
            r.reads().forEach(t -> acls.add(allow(user, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.READ)));
            acls.add(allow(user, ResourceType.GROUP, r.groupPrefix(), PatternType.PREFIXED, AclOperation.READ));
        }
        return acls;
    }

    private static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(user, "*", op, AclPermissionType.ALLOW));
    }
}
