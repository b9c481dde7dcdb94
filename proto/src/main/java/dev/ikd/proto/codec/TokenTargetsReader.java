package dev.ikd.proto.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import com.google.protobuf.ByteString;
import dev.ikd.proto.v1.TokenTargets;

/**
 * A language model's soft targets as a student reads them off the wire ({@code TokenTargets},
 * docs/architecture.md §4): the numbers it learns from, or a refusal naming what does not fit the
 * message's encoding (sizes, ids, probabilities, sample counts). Pure Java, so a machine checks a
 * message's content when it arrives, before any model sees it.
 */
public final class TokenTargetsReader {

    /** The most draws a sampled position may have: each id's count travels in 16 bits. */
    public static final int MAX_DRAWS = 0xFFFF;

    /**
     * The most numbers the rows of sampled ids are padded to when read (positions × the widest row):
     * 2^27, a context of 16 × 1,024 positions at sample:8192 and over.
     */
    static final long MAX_PADDED = 1L << 27;

    private TokenTargetsReader() {
    }

    /** An encoding's name and size: {@code dense}, {@code fp16}, {@code topk:K}, {@code sample:N}. */
    public record Encoding(String kind, int size) {

        private static final java.util.regex.Pattern NAMES = java.util.regex.Pattern.compile("dense|fp16|(topk|sample):([1-9][0-9]{0,8})");

        /** The encoding a message names (as {@code --soft-targets} writes it), or a refusal. */
        public static Encoding parse(String text) {
            java.util.regex.Matcher m = NAMES.matcher(text);
            if (!m.matches()) {
                throw new MalformedMessageException("token targets: unknown encoding '" + text + "'");
            }
            return m.group(1) == null ? new Encoding(text, 0) : new Encoding(m.group(1), Integer.parseInt(m.group(2)));
        }

        /**
         * The columns of the feedback a learning teacher gets on what this encoding sends over a vocabulary
         * of {@code vocab}: every token (dense), or the K sent and the tail (topk:K).
         */
        public int feedbackColumns(int vocab) {
            return kind.equals("topk") ? Math.min(size, vocab) + 1 : vocab;
        }

        @Override
        public String toString() {
            return size == 0 ? kind : kind + ":" + size;
        }
    }

    /**
     * What a student reads: {@code dense} [rows·vocab] for dense and fp16 (the half values widened),
     * or per row {@code width} ids and probabilities (a row of fewer sample ids padded with id 0 and
     * probability 0), with top-K's tail.
     */
    public record Read(String encoding, int rows, int vocab, float[] dense, int width, int[] ids, float[] probs, float[] tail) {
    }

    /** The numbers a student learns from, or a refusal naming what does not fit. */
    public static Read decode(TokenTargets t) {
        Encoding e = Encoding.parse(t.getEncoding());
        int rows = t.getPositions();
        int vocab = t.getVocab();
        if (rows < 1 || vocab < 2) {
            throw new MalformedMessageException("token targets: " + rows + " positions over " + vocab + " tokens");
        }
        return switch (e.kind()) {
            case "dense" -> new Read("dense", rows, vocab, probabilities(t.getProbs(), (long) rows * vocab, "probs"), 0, null, null, null);
            case "fp16" -> {
                ByteBuffer b = expect(t.getHalf(), 2L * rows * vocab, "half");
                float[] dense = new float[rows * vocab];
                for (int i = 0; i < dense.length; i++) {
                    dense[i] = probability(halfValue(b.getShort()), "half", i);
                }
                yield new Read("fp16", rows, vocab, dense, 0, null, null, null);
            }
            case "topk" -> {
                int k = Math.min(e.size(), vocab);
                int[] ids = ids(t.getIds(), (long) rows * k, vocab);
                yield new Read(e.toString(), rows, vocab, null, k, ids, probabilities(t.getProbs(), (long) rows * k, "probs"),
                    probabilities(t.getTail(), rows, "tail"));
            }
            default -> sampled(t, e, rows, vocab);
        };
    }

    private static Read sampled(TokenTargets t, Encoding e, int rows, int vocab) {
        if (t.getDraws() != e.size()) {
            throw new MalformedMessageException("token targets: " + e + " with draws " + t.getDraws());
        }
        if (e.size() > MAX_DRAWS) {
            throw new MalformedMessageException("token targets: " + e + " draws more than a count holds (" + MAX_DRAWS + ")");
        }
        ByteBuffer offsets = expect(t.getOffsets(), 4L * (rows + 1), "offsets");
        int[] at = new int[rows + 1];
        for (int r = 0; r <= rows; r++) {
            at[r] = offsets.getInt();
            if (r == 0 ? at[0] != 0 : at[r] < at[r - 1] || at[r] - at[r - 1] > Math.min(vocab, e.size())) {
                throw new MalformedMessageException("token targets: offsets are not a running count of ids at position " + r);
            }
        }
        int[] flat = ids(t.getIds(), at[rows], vocab);
        ByteBuffer counts = expect(t.getCounts(), 2L * at[rows], "counts");
        int width = 1;
        for (int r = 0; r < rows; r++) {
            width = Math.max(width, at[r + 1] - at[r]);
        }
        if ((long) rows * width > MAX_PADDED) {
            throw new MalformedMessageException("token targets: " + rows + " positions of up to " + width + " sampled ids each, more than "
                + MAX_PADDED + " to read");
        }
        int[] ids = new int[rows * width];
        float[] probs = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            int sum = 0;
            for (int j = 0; j < at[r + 1] - at[r]; j++) {
                int count = Short.toUnsignedInt(counts.getShort());
                if (count == 0) {
                    throw new MalformedMessageException("token targets: position " + r + " sends id " + flat[at[r] + j] + " drawn 0 times");
                }
                ids[r * width + j] = flat[at[r] + j];
                probs[r * width + j] = (float) count / e.size();
                sum += count;
            }
            if (sum != e.size()) {
                throw new MalformedMessageException("token targets: position " + r + "'s counts add up to " + sum + ", not " + e.size());
            }
        }
        return new Read(e.toString(), rows, vocab, null, width, ids, probs, new float[rows]);
    }

    private static ByteBuffer expect(ByteString bytes, long length, String field) {
        if (bytes.size() != length) {
            throw new MalformedMessageException("token targets: " + field + " holds " + bytes.size() + " bytes, not " + length);
        }
        return bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static float[] probabilities(ByteString bytes, long count, String field) {
        ByteBuffer b = expect(bytes, 4 * count, field);
        float[] out = new float[(int) count];
        for (int i = 0; i < out.length; i++) {
            out[i] = probability(b.getFloat(), field, i);
        }
        return out;
    }

    private static float probability(float f, String field, int i) {
        if (!(f >= 0 && f <= 1)) {
            throw new MalformedMessageException("token targets: " + field + "[" + i + "] = " + f + " is not a probability");
        }
        return f;
    }

    private static int[] ids(ByteString bytes, long count, int vocab) {
        ByteBuffer b = expect(bytes, 4 * count, "ids");
        int[] out = new int[(int) count];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getInt();
            if (out[i] < 0 || out[i] >= vocab) {
                throw new MalformedMessageException("token targets: ids[" + i + "] = " + out[i] + " is not a token of " + vocab);
            }
        }
        return out;
    }

    private static ByteBuffer buffer(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The float an IEEE 754 half-precision number holds. */
    public static float halfValue(short bits) {
        int h = bits & 0xFFFF;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        float magnitude = exponent == 0 ? Math.scalb((float) mantissa, -24)
            : exponent == 31 ? (mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN)
            : Math.scalb((float) (mantissa + 1024), exponent - 25);
        return (h & 0x8000) != 0 ? -magnitude : magnitude;
    }
}
