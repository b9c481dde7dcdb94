package dev.ikd.student;

import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.text.LmData;
import dev.ikd.proto.codec.TargetsForm;

/**
 * What makes a student a language model: its {@code gpt:} model, the run's data (read by the
 * teacher's tokenizer) and its splits cut at the model's context, and how its teacher's soft targets
 * travel ({@code --soft-targets}).
 */
public record LmStudent(CausalTransformer model, LmData data, LmData.Sequences sequences, String encoding) {

    public LmStudent {
        if (model.context() != sequences.context() || model.vocabulary() != data.vocab()) {
            throw new IllegalArgumentException("the student " + model.spec() + " over " + model.vocabulary() + " tokens does not read "
                + "sequences of " + sequences.context() + " tokens over " + data.vocab());
        }
    }

    /** The student {@code model} of the run's {@code data}, its splits cut at the model's context. */
    public static LmStudent of(CausalTransformer model, LmData data, String encoding) {
        return new LmStudent(model, data, data.sequences(model.context()), encoding);
    }

    /** How its soft targets and feedback look on the wire. */
    public TargetsForm form() {
        return TargetsForm.tokens(encoding, model.context(), data.vocab());
    }
}
