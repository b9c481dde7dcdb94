package dev.ikd.learning.tokens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;

import com.google.protobuf.ByteString;
import dev.ikd.core.learn.SparseTargets;
import dev.ikd.core.text.LmKd;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.codec.TokenTargetsReader;
import dev.ikd.proto.v1.TokenTargets;
import org.junit.jupiter.api.Test;

class TokenTargetsCodecTest {

    private static final int ROWS = 12;
    private static final int VOCAB = 300;

    static float[] probabilities(int rows, int vocab, long seed) {
        Random r = new Random(seed);
        float[] p = new float[rows * vocab];
        for (int i = 0; i < rows; i++) {
            double[] z = new double[vocab];
            for (int c = 0; c < vocab; c++) {
                z[c] = 3 * r.nextGaussian();
            }
            double[] q = SparseTargets.softmax(z, 0, vocab, 1);
            for (int c = 0; c < vocab; c++) {
                p[i * vocab + c] = (float) q[c];
            }
        }
        return p;
    }

    @Test
    void everyHalfPrecisionValueRoundTripsThroughItsBits() {
        for (int h = 0; h < 0x10000; h++) {
            float v = TokenTargetsReader.halfValue((short) h);
            if (Float.isFinite(v)) {
                assertThat(TokenTargetsReader.halfValue(TokenTargetsCodec.Half.bits(v))).as("half %04x", h).isEqualTo(v);
                assertThat(LmKd.roundToHalf(Math.abs(v))).as("a half value rounds to itself").isEqualTo(Math.abs(v));
            }
        }
    }

    @Test
    void aStudentReadsTheNumbersEachEncodingMeansAndTheBytesAreTheEncodingsOwn() {
        float[] p = probabilities(ROWS, VOCAB, 1);
        TokenTargetsReader.Read dense = TokenTargetsReader.decode(TokenTargetsCodec.encode(LmKd.Encoding.parse("dense"), p, ROWS, VOCAB, 0));
        assertThat(dense.dense()).containsExactly(p);
        TokenTargets half = TokenTargetsCodec.encode(LmKd.Encoding.parse("fp16"), p, ROWS, VOCAB, 0);
        float[] rounded = TokenTargetsReader.decode(half).dense();
        for (int i = 0; i < p.length; i++) {
            assertThat(rounded[i]).isEqualTo(LmKd.roundToHalf(p[i]));
        }
        assertThat(half.getHalf().size()).isEqualTo(2 * ROWS * VOCAB);

        TokenTargets topk = TokenTargetsCodec.encode(LmKd.Encoding.parse("topk:8"), p, ROWS, VOCAB, 0);
        TokenTargetsReader.Read top = TokenTargetsReader.decode(topk);
        SparseTargets.TopK s = SparseTargets.topK(p, ROWS, VOCAB, 8);
        assertThat(top.ids()).containsExactly(s.ids());
        assertThat(top.probs()).containsExactly(s.probs());
        assertThat(top.tail()).containsExactly(s.tail());
        assertThat(topk.getSerializedSize()).as("8 ids and probabilities and a tail a position, and a few bytes").isBetween(
            (8 * 8 + 4) * ROWS, (8 * 8 + 4) * ROWS + 40);

        TokenTargets sampled = TokenTargetsCodec.encode(LmKd.Encoding.parse("sample:32"), p, ROWS, VOCAB, 77);
        TokenTargetsReader.Read read = TokenTargetsReader.decode(sampled);
        SparseTargets.Sampled drawn = SparseTargets.sample(p, ROWS, VOCAB, 32, 77);
        int pairs = 0;
        for (int r = 0; r < ROWS; r++) {
            float sum = 0;
            for (int j = 0; j < read.width(); j++) {
                if (j < drawn.ids()[r].length) {
                    assertThat(read.ids()[r * read.width() + j]).isEqualTo(drawn.ids()[r][j]);
                    assertThat(read.probs()[r * read.width() + j]).isEqualTo((float) drawn.counts()[r][j] / 32);
                } else {
                    assertThat(read.probs()[r * read.width() + j]).as("padding").isZero();
                }
                sum += read.probs()[r * read.width() + j];
            }
            assertThat(sum).isEqualTo(1f);
            pairs += drawn.ids()[r].length;
        }
        assertThat(sampled.getSerializedSize()).as("6 bytes a distinct id, 4 a position").isBetween(6 * pairs + 4 * ROWS,
            6 * pairs + 4 * ROWS + 50);
    }

    @Test
    void targetsThatDoNotFitTheirEncodingAreRefusedWithTheReason() {
        float[] p = probabilities(ROWS, VOCAB, 2);
        TokenTargets topk = TokenTargetsCodec.encode(LmKd.Encoding.parse("topk:4"), p, ROWS, VOCAB, 0);
        TokenTargets sampled = TokenTargetsCodec.encode(LmKd.Encoding.parse("sample:8"), p, ROWS, VOCAB, 3);
        byte[] badId = topk.getIds().toByteArray();
        java.util.Arrays.fill(badId, 0, 4, (byte) 0xff); // -1
        byte[] badCount = sampled.getCounts().toByteArray();
        badCount[0]++;
        for (var c : new Object[][] {
            {topk.toBuilder().setEncoding("topk:zero").build(), "token targets: unknown encoding 'topk:zero'"},
            {topk.toBuilder().setPositions(0).build(), "token targets: 0 positions over 300 tokens"},
            {topk.toBuilder().setTail(ByteString.copyFrom(new byte[7])).build(), "token targets: tail holds 7 bytes, not 48"},
            {topk.toBuilder().setIds(ByteString.copyFrom(badId)).build(), "token targets: ids[0] = -1 is not a token of 300"},
            {TokenTargets.newBuilder(topk).setProbs(floatBytes(2f, 16 * 3)).build(), "token targets: probs[0] = 2.0 is not a probability"},
            {sampled.toBuilder().setCounts(ByteString.copyFrom(badCount)).build(), "token targets: position 0's counts add up to 9, not 8"},
            {sampled.toBuilder().setDraws(9).build(), "token targets: sample:8 with draws 9"}}) {
            assertThatThrownBy(() -> TokenTargetsReader.decode((TokenTargets) c[0])).isInstanceOf(MalformedMessageException.class)
                .hasMessage((String) c[1]);
        }
    }

    private static ByteString floatBytes(float first, int count) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * count).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putFloat(first);
        return ByteString.copyFrom(b.array());
    }
}
