package dev.ikd.proto.codec;

import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.Tensor;
import dev.ikd.proto.v1.TokenTargets;

/**
 * What a run's soft targets and feedback look like on the wire (docs/architecture.md §4), as the
 * student's and the teacher's machines check them: a classifier's are [batch, classes] probabilities
 * and feedback; a language model's are {@code TokenTargets} in the run's encoding over its
 * vocabulary ({@code classes}), one row per position ({@code positions} per sequence), and its
 * feedback is [batch · positions, columns] on what was sent: every token (dense) or the K sent and
 * the tail (topk:K); none when the teacher is frozen.
 *
 * @param tokens    the encoding of a language model's soft targets ({@code --soft-targets}); empty for a classifier
 * @param positions the rows one example gives: 1 for a classifier, the context for a language model
 */
public record TargetsForm(String tokens, int positions, int classes) {

    public TargetsForm {
        if (!tokens.isEmpty()) {
            TokenTargetsReader.Encoding.parse(tokens);
        }
        if (positions < 1 || classes < 1) {
            throw new IllegalArgumentException(positions + " positions of " + classes + " classes");
        }
    }

    /** A classifier's: [batch, classes]. */
    public static TargetsForm classes(int classes) {
        return new TargetsForm("", 1, classes);
    }

    /** A language model's, over {@code vocab} tokens and {@code context} positions a sequence, sent as {@code encoding}. */
    public static TargetsForm tokens(String encoding, int context, int vocab) {
        return new TargetsForm(encoding, context, vocab);
    }

    public boolean language() {
        return !tokens.isEmpty();
    }

    /** The rows of a batch of {@code batch} examples. */
    public int rows(int batch) {
        return batch * positions;
    }

    /** The columns of the feedback to a teacher ({@code frozen}: one that learns nothing, and gets none from a language model). */
    public int feedbackColumns(boolean frozen) {
        if (!language()) {
            return classes;
        }
        return frozen ? 0 : TokenTargetsReader.Encoding.parse(tokens).feedbackColumns(classes);
    }

    /**
     * A [rows, cols] matrix of finite floats (a classifier's soft targets, a teacher's feedback), or a
     * refusal that names it ({@code what}): none sent, another shape, or a value not finite.
     */
    public static float[] matrix(Tensor t, int rows, int cols, String what) {
        if (t.getData().isEmpty() && t.getShapeCount() == 0) {
            throw new RejectedMessageException(what + ": none sent");
        }
        long[] shape = TensorCodec.shape(t);
        if (shape.length != 2 || shape[0] != rows || shape[1] != cols) {
            throw new RejectedMessageException(what + ": shape " + java.util.Arrays.toString(shape) + ", the batch needs [" + rows + ", "
                + cols + "]");
        }
        return TensorCodec.toFloats(t, TensorCodec.Finite.REQUIRED);
    }

    /**
     * A language model's soft targets for a batch of {@code batch}, read and checked ({@code what}
     * names them in a refusal): in this run's encoding, one row per position, over its vocabulary.
     */
    public TokenTargetsReader.Read check(SoftTargets st, int batch, String what) {
        if (!st.hasTokens()) {
            throw new RejectedMessageException(what + " carry no token targets, but this run distils a language model (" + tokens + ")");
        }
        TokenTargets t = st.getTokens();
        if (!TokenTargetsReader.Encoding.parse(t.getEncoding()).toString().equals(tokens) || t.getPositions() != rows(batch)
            || t.getVocab() != classes) {
            throw new RejectedMessageException(what + " are " + t.getEncoding() + " over " + t.getPositions() + " positions of "
                + t.getVocab() + " tokens, the course batch needs " + tokens + " over " + rows(batch) + " of " + classes);
        }
        return TokenTargetsReader.decode(t);
    }
}
