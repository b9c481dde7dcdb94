package dev.ikd.learning.tokens;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import com.google.protobuf.ByteString;
import dev.ikd.core.learn.SparseTargets;
import dev.ikd.core.text.LmKd;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.v1.TokenTargets;

/**
 * A language model's soft targets on the wire ({@code TokenTargets}, docs/architecture.md §4): a
 * teacher's probabilities per position encoded as {@code --soft-targets} says, and read back by the
 * student as the numbers it learns from, the same numbers {@code LmKd} learns from in process. A
 * message whose sizes, ids or numbers do not fit its encoding is refused with the reason.
 */
public final class TokenTargetsCodec {

    private TokenTargetsCodec() {
    }

    /**
     * What a student reads: {@code dense} [rows·vocab] for dense and fp16 (the half values widened),
     * or per row {@code width} ids and probabilities (a row of fewer sample ids padded with id 0 and
     * probability 0), with top-K's tail.
     */
    public record Read(String encoding, int rows, int vocab, float[] dense, int width, int[] ids, float[] probs, float[] tail) {
    }

    /** Probabilities {@code p} [rows·vocab] as {@code e} sends them; sample draws from {@code seed}. */
    public static TokenTargets encode(LmKd.Encoding e, float[] p, int rows, int vocab, long seed) {
        TokenTargets.Builder t = TokenTargets.newBuilder().setEncoding(e.toString()).setPositions(rows).setVocab(vocab);
        switch (e.kind()) {
            case "dense" -> t.setProbs(floats(p));
            case "fp16" -> {
                ByteBuffer b = buffer(2 * p.length);
                for (float f : p) {
                    b.putShort(Half.bits(LmKd.roundToHalf(f)));
                }
                t.setHalf(ByteString.copyFrom(b.array()));
            }
            case "topk" -> {
                SparseTargets.TopK s = SparseTargets.topK(p, rows, vocab, Math.min(e.size(), vocab));
                t.setIds(ints(s.ids())).setProbs(floats(s.probs())).setTail(floats(s.tail()));
            }
            case "sample" -> {
                if (e.size() > 0xFFFF) {
                    throw new IllegalArgumentException("sample:" + e.size() + " draws more than a count on the wire holds (65535)");
                }
                SparseTargets.Sampled s = SparseTargets.sample(p, rows, vocab, e.size(), seed);
                int total = 0;
                for (int[] row : s.ids()) {
                    total += row.length;
                }
                ByteBuffer ids = buffer(4 * total);
                ByteBuffer counts = buffer(2 * total);
                ByteBuffer offsets = buffer(4 * (rows + 1));
                offsets.putInt(0);
                for (int r = 0, at = 0; r < rows; r++) {
                    for (int j = 0; j < s.ids()[r].length; j++) {
                        ids.putInt(s.ids()[r][j]);
                        counts.putShort((short) s.counts()[r][j]);
                    }
                    at += s.ids()[r].length;
                    offsets.putInt(at);
                }
                t.setDraws(e.size()).setIds(ByteString.copyFrom(ids.array())).setCounts(ByteString.copyFrom(counts.array()))
                    .setOffsets(ByteString.copyFrom(offsets.array()));
            }
            default -> throw new IllegalStateException(e.kind());
        }
        return t.build();
    }

    /** The numbers a student learns from, or a refusal naming what does not fit. */
    public static Read decode(TokenTargets t) {
        LmKd.Encoding e;
        try {
            e = LmKd.Encoding.parse(t.getEncoding());
        } catch (IllegalArgumentException ex) {
            throw new MalformedMessageException("token targets: unknown encoding '" + t.getEncoding() + "'");
        }
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
                    dense[i] = probability(Half.value(b.getShort()), "half", i);
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

    private static Read sampled(TokenTargets t, LmKd.Encoding e, int rows, int vocab) {
        if (t.getDraws() != e.size()) {
            throw new MalformedMessageException("token targets: " + e + " with draws " + t.getDraws());
        }
        ByteBuffer offsets = expect(t.getOffsets(), 4L * (rows + 1), "offsets");
        int[] at = new int[rows + 1];
        for (int r = 0; r <= rows; r++) {
            at[r] = offsets.getInt();
            if (r == 0 ? at[0] != 0 : at[r] < at[r - 1] || at[r] - at[r - 1] > vocab) {
                throw new MalformedMessageException("token targets: offsets are not a running count of ids at position " + r);
            }
        }
        int[] flat = ids(t.getIds(), at[rows], vocab);
        ByteBuffer counts = expect(t.getCounts(), 2L * at[rows], "counts");
        int width = 1;
        for (int r = 0; r < rows; r++) {
            width = Math.max(width, at[r + 1] - at[r]);
        }
        int[] ids = new int[rows * width];
        float[] probs = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            int sum = 0;
            for (int j = 0; j < at[r + 1] - at[r]; j++) {
                int count = Short.toUnsignedInt(counts.getShort());
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

    private static ByteString floats(float[] values) {
        ByteBuffer b = buffer(4 * values.length);
        for (float f : values) {
            b.putFloat(f);
        }
        return ByteString.copyFrom(b.array());
    }

    private static ByteString ints(int[] values) {
        ByteBuffer b = buffer(4 * values.length);
        for (int v : values) {
            b.putInt(v);
        }
        return ByteString.copyFrom(b.array());
    }

    /** IEEE 754 half precision, for values that are already half values (Java 17 has no Float.floatToFloat16). */
    static final class Half {

        private Half() {
        }

        /** The half-precision bits of {@code f}, a finite float that half precision holds exactly. */
        static short bits(float f) {
            int x = Float.floatToRawIntBits(f);
            int sign = (x >>> 16) & 0x8000;
            float a = Math.abs(f);
            if (a == 0) {
                return (short) sign;
            }
            int exponent = Math.getExponent(a);
            if (exponent < -14) { // subnormal: a multiple of 2^-24
                return (short) (sign | Math.round(Math.scalb(a, 24)));
            }
            int mantissa = Math.round(Math.scalb(a, 10 - exponent)) - 1024;
            return (short) (sign | (exponent + 15) << 10 | mantissa);
        }

        static float value(short bits) {
            int h = bits & 0xFFFF;
            int exponent = (h >>> 10) & 0x1F;
            int mantissa = h & 0x3FF;
            float magnitude = exponent == 0 ? Math.scalb((float) mantissa, -24)
                : exponent == 31 ? (mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN)
                : Math.scalb((float) (mantissa + 1024), exponent - 25);
            return (h & 0x8000) != 0 ? -magnitude : magnitude;
        }
    }
}
