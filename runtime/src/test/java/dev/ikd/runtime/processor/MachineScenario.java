package dev.ikd.runtime.processor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import com.google.protobuf.Message;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Position;

/**
 * Given/when/then for a state machine: given these past inputs, when this one arrives, then these
 * answers, or this refusal with the state exactly as before. Shared by the machines' tests (a test
 * jar of this module).
 */
public final class MachineScenario<M extends Machine> {

    private final M machine;
    private List<Envelope> last = List.of();

    private MachineScenario(M machine) {
        this.machine = machine;
    }

    /** {@code machine} after {@code past}, applied in order. */
    public static <M extends Machine> MachineScenario<M> given(M machine, Envelope... past) {
        MachineScenario<M> s = new MachineScenario<>(machine);
        for (Envelope e : past) {
            machine.apply(input(e));
        }
        return s;
    }

    public MachineScenario<M> when(Envelope e) {
        last = machine.apply(input(e));
        return this;
    }

    public MachineScenario<M> thenKinds(Kind... kinds) {
        assertThat(last).extracting(Envelope::getKind).containsExactly(kinds);
        return this;
    }

    /** The input is refused with this reason, and the machine's whole state is exactly as before. */
    public MachineScenario<M> whenRefused(Envelope e, String reason) {
        Message before = machine.state();
        assertThatThrownBy(() -> machine.apply(input(e)))
            .isInstanceOfAny(RejectedMessageException.class, MalformedMessageException.class).hasMessage(reason);
        assertThat(machine.state()).as("the state after a refusal").isEqualTo(before);
        return this;
    }

    public M machine() {
        return machine;
    }

    /** What the last input answered. */
    public List<Envelope> last() {
        return last;
    }

    /** An envelope as an input read somewhere (where does not matter to a student's or teacher's machine). */
    public static Input input(Envelope e) {
        return new Input(e, new Position("test", 0, 0), 0);
    }
}
