package dev.ikd.student;

import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.text.LmData;
import dev.ikd.proto.codec.TargetsForm;

/**
 * What makes a student a language model: its {@code gpt:} model, the run's sequences (read by the
 * teacher's tokenizer), and how its teacher's soft targets travel ({@code --soft-targets}).
 */
public record LmStudent(CausalTransformer model, LmData data, String encoding) {

    public LmStudent {
        if (model.context() != data.context() || model.vocabulary() != data.vocab()) {
            throw new IllegalArgumentException("the student " + model.spec() + " over " + model.vocabulary() + " tokens does not read "
                + "sequences of " + data.context() + " tokens over " + data.vocab());
        }
    }

    /** How its soft targets and feedback look on the wire. */
    public TargetsForm form() {
        return TargetsForm.tokens(encoding, data.context(), data.vocab());
    }
}
