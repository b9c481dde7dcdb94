package dev.ikd.learning.tokens;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.protobuf.ByteString;
import dev.ikd.core.learn.SparseTargets;
import dev.ikd.core.text.LmKd;
import dev.ikd.proto.codec.TokenTargetsReader;
import dev.ikd.proto.v1.TokenTargets;

/**
 * A language model's soft targets on the wire ({@code TokenTargets}, docs/architecture.md §4): a
 * teacher's probabilities per position encoded as {@code --soft-targets} says, and, once
 * {@link TokenTargetsReader} has read and checked them, the arrays a student learns from: the same
 * numbers {@code LmKd} learns from in process.
 */
public final class TokenTargetsCodec {

    private TokenTargetsCodec() {
    }

    /** What the student learns from, in {@code m}: the arrays {@code LmKd} makes in process from the same numbers. */
    public static LmKd.Targets targets(TokenTargets t, NDManager m, DataType type) {
        TokenTargetsReader.Read r = TokenTargetsReader.decode(t);
        return LmKd.Targets.read(r.dense(), r.rows(), r.vocab(), r.width(), r.ids(), r.probs(), r.tail(),
            t.getSerializedSize(), m, type);
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
                if (e.size() > TokenTargetsReader.MAX_DRAWS) {
                    throw new IllegalArgumentException("sample:" + e.size() + " draws more than a count on the wire holds ("
                        + TokenTargetsReader.MAX_DRAWS + ")");
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
    }
}
