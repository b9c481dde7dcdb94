package dev.ikd.teacher;

import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.LmData;
import dev.ikd.core.text.LmKd;
import dev.ikd.proto.codec.TargetsForm;

/**
 * What makes a teacher a language model's: its pretrained {@code gpt:} model, the run's sequences
 * (read by its tokenizer at the students' context), and how its soft targets travel.
 */
public record LmTeacher(CausalTransformer model, Params pretrained, LmData data, LmKd.Encoding encoding) {

    public LmTeacher {
        if (model.vocabulary() != data.vocab() || model.context() < data.context()) {
            throw new IllegalArgumentException("the teacher " + model.spec() + " over " + model.vocabulary() + " tokens cannot read "
                + "sequences of " + data.context() + " tokens over " + data.vocab());
        }
    }

    /** How its soft targets and feedback look on the wire. */
    public TargetsForm form() {
        return TargetsForm.tokens(encoding.toString(), data.context(), data.vocab());
    }
}
