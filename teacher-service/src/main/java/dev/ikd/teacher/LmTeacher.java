package dev.ikd.teacher;

import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.LmData;
import dev.ikd.core.text.LmKd;
import dev.ikd.proto.codec.TargetsForm;

/**
 * What makes a teacher a language model's: its pretrained {@code gpt:} model, the run's data (read by
 * its tokenizer; each student's enrollment says the context its sequences are cut at), and how its
 * soft targets travel.
 */
public record LmTeacher(CausalTransformer model, Params pretrained, LmData data, LmKd.Encoding encoding) {

    public LmTeacher {
        if (model.vocabulary() != data.vocab()) {
            throw new IllegalArgumentException("the teacher " + model.spec() + " over " + model.vocabulary() + " tokens cannot read "
                + "a corpus read into " + data.vocab());
        }
    }

    /**
     * How its soft targets and feedback look on the wire: its encoding over its vocabulary, a row a
     * position (the machine takes each student's positions a sequence from its enrollment).
     */
    public TargetsForm form() {
        return TargetsForm.tokens(encoding.toString(), 1, data.vocab());
    }
}
