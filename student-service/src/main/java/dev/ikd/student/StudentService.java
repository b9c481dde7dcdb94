package dev.ikd.student;

import java.util.function.Supplier;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.processor.Service;
import dev.ikd.student.protocol.StudentMachine;

/**
 * A student on the processor: it takes its own records of {@code ikd.control} and
 * {@code ikd.soft-targets} (a student reads only the partition its key goes to, where other
 * students' records may sit too) and has one machine, keyed by its id.
 */
public final class StudentService implements Service<StudentMachine> {

    private final StudentSettings settings;
    private final String runId;
    private final StepListener listener;
    private final NDManager manager;
    private final Supplier<Params> teacherBlocks;
    /** The SHA-256 of the key this student signs with, or null when the run does not sign. */
    private final String keySha256;

    /**
     * @param teacherBlocks the teacher's stages an IAKD student swaps in (asked once, when the machine is made); null without swapping
     * @param key           the public key this student signs with (null: the run does not sign)
     */
    public StudentService(StudentSettings settings, String runId, StepListener listener, NDManager manager,
                          Supplier<Params> teacherBlocks, java.security.PublicKey key) {
        this.keySha256 = key == null ? null : dev.ikd.proto.sign.Signatures.fingerprint(key.getEncoded());
        this.settings = settings;
        this.runId = runId;
        this.listener = listener;
        this.manager = manager;
        this.teacherBlocks = teacherBlocks;
    }

    @Override
    public String skip(Envelope e) {
        if (!settings.studentId().equals(e.getStudentId())) {
            return "other_student";
        }
        if (e.getKind() == dev.ikd.proto.v1.Kind.REFUSED && !e.getRefused().getEnrolledKeySha256().isEmpty()
            && !e.getRefused().getEnrolledKeySha256().equals(keySha256)) {
            return "refusal_of_another_key"; // someone else enrolled under this id and was refused: not this student's business
        }
        return switch (e.getKind()) {
            case ADMITTED, REFUSED, COURSE_START, TEACHER_DEADLINE, FINISH, ABORT, SOFT_TARGETS -> null;
            default -> "not_for_student";
        };
    }

    @Override
    public String keyOf(Envelope e) {
        return settings.studentId();
    }

    @Override
    public StudentMachine fresh(String key) {
        if (settings.lm() != null) {
            return new StudentMachine(settings.machine(runId), new LmStudentLearner(settings, listener, manager, null));
        }
        return new StudentMachine(settings.machine(runId), withBlocks(StudentLearner.fresh(settings, listener, manager)));
    }

    @Override
    public StudentMachine restore(String key, Any state) {
        try {
            StudentState saved = state.unpack(StudentState.class);
            if (settings.lm() != null) {
                return StudentMachine.restore(settings.machine(runId), new LmStudentLearner(settings, listener, manager, saved), saved);
            }
            return StudentMachine.restore(settings.machine(runId), withBlocks(StudentLearner.restore(settings, listener, manager, saved)),
                saved);
        } catch (InvalidProtocolBufferException e) {
            throw new CheckpointException("the saved state is not a student's: " + e.getMessage(), e);
        }
    }

    private StudentLearner withBlocks(StudentLearner m) {
        if (teacherBlocks != null) {
            try (Params blocks = teacherBlocks.get()) {
                m.useTeacherBlocks(blocks);
            }
        }
        return m;
    }
}
