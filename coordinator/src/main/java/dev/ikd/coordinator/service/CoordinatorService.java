package dev.ikd.coordinator.service;

import java.time.Clock;

import com.google.protobuf.Any;
import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.runtime.processor.Service;

/** The coordinator on the processor: one machine for the run, which takes enrollments, exam results, teacher updates and reports. */
final class CoordinatorService implements Service<CoordinatorMachine> {

    private final CoordinatorMachine.Settings settings;
    private final String runId;
    private final String serviceId;
    private final Clock clock;

    CoordinatorService(CoordinatorMachine.Settings settings, String runId, String serviceId, Clock clock) {
        this.settings = settings;
        this.runId = runId;
        this.serviceId = serviceId;
        this.clock = clock;
    }

    @Override
    public String skip(Envelope e) {
        return switch (e.getKind()) {
            case ENROLLMENT, EXAM_RESULT, TEACHER_UPDATED, STUDENT_REPORT -> null;
            default -> "not_for_coordinator";
        };
    }

    @Override
    public String keyOf(Envelope e) {
        return runId;
    }

    @Override
    public CoordinatorMachine fresh(String key) {
        return new CoordinatorMachine(settings, runId, serviceId);
    }

    /**
     * A forged enrollment is refused on the control topic, signed, naming the key it enrolled with:
     * the forger hears why and stops; the student whose id it took passes the refusal over.
     */
    @Override
    public java.util.List<Envelope> answerToForgery(Envelope e, String reason) {
        if (e.getKind() != dev.ikd.proto.v1.Kind.ENROLLMENT) {
            return java.util.List.of();
        }
        var refused = dev.ikd.proto.v1.Refused.newBuilder().setReason("enrollment refused: " + reason)
            .setRefusedKey(e.getIdempotencyKey());
        if (!e.getEnrollment().getPublicKey().isEmpty()) {
            refused.setEnrolledKeySha256(dev.ikd.proto.sign.Signatures.fingerprint(e.getEnrollment().getPublicKey().toByteArray()));
        }
        return java.util.List.of(dev.ikd.proto.envelope.Envelopes.header(runId, e.getStudentId(), 0, dev.ikd.proto.v1.Kind.REFUSED,
            serviceId, clock).setRefused(refused).build());
    }

    /** The coordinator is rebuilt by folding its journal, never from a snapshot. */
    @Override
    public CoordinatorMachine restore(String key, Any state) {
        throw new UnsupportedOperationException("the coordinator is rebuilt from its journal, not from a checkpoint");
    }
}
