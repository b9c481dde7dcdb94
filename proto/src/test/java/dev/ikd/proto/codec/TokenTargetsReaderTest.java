package dev.ikd.proto.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import com.google.protobuf.ByteString;
import dev.ikd.proto.v1.TokenTargets;
import org.junit.jupiter.api.Test;

/**
 * The reader of a language model's soft targets, on sampled ones written by hand: what a sender of
 * {@code sample:N} can write is read back as count/N; what it cannot (a count of 0, more ids at a
 * position than draws, more draws than a count holds, rows padded past what any run sends) is
 * refused as malformed with its reason, before anything that large is made.
 */
class TokenTargetsReaderTest {

    /** Sampled targets: per row its ids and their counts, as the wire carries them (ids, counts, running offsets). */
    private static TokenTargets sampled(int draws, int vocab, int[][] ids, int[][] counts) {
        int total = 0;
        for (int[] row : ids) {
            total += row.length;
        }
        ByteBuffer i = ByteBuffer.allocate(4 * total).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer c = ByteBuffer.allocate(2 * total).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer o = ByteBuffer.allocate(4 * (ids.length + 1)).order(ByteOrder.LITTLE_ENDIAN);
        o.putInt(0);
        for (int r = 0, at = 0; r < ids.length; r++) {
            for (int j = 0; j < ids[r].length; j++) {
                i.putInt(ids[r][j]);
                c.putShort((short) counts[r][j]);
            }
            at += ids[r].length;
            o.putInt(at);
        }
        return TokenTargets.newBuilder().setEncoding("sample:" + draws).setPositions(ids.length).setVocab(vocab).setDraws(draws)
            .setIds(ByteString.copyFrom(i.array())).setCounts(ByteString.copyFrom(c.array())).setOffsets(ByteString.copyFrom(o.array()))
            .build();
    }

    @Test
    void sampledTargetsAreReadAsCountsOverDrawsPaddedToTheWidestRow() {
        var read = TokenTargetsReader.decode(sampled(4, 10, new int[][] {{3, 7}, {9}}, new int[][] {{1, 3}, {4}}));
        assertThat(read.width()).isEqualTo(2);
        assertThat(read.ids()).containsExactly(3, 7, 9, 0);
        assertThat(read.probs()).containsExactly(0.25f, 0.75f, 1f, 0f);
    }

    @Test
    void aCountOfZeroIsRefused() {
        assertThatThrownBy(() -> TokenTargetsReader.decode(sampled(4, 10, new int[][] {{3, 7}}, new int[][] {{0, 4}})))
            .isInstanceOf(MalformedMessageException.class).hasMessage("token targets: position 0 sends id 3 drawn 0 times");
    }

    @Test
    void moreIdsAtAPositionThanDrawsAreRefused() {
        assertThatThrownBy(() -> TokenTargetsReader.decode(sampled(2, 10, new int[][] {{1, 2, 3}}, new int[][] {{1, 1, 0}})))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessage("token targets: offsets are not a running count of ids at position 1");
    }

    @Test
    void moreDrawsThanACountHoldsAreRefused() {
        assertThatThrownBy(() -> TokenTargetsReader.decode(sampled(70_000, 10, new int[][] {{1}}, new int[][] {{70_000}})))
            .isInstanceOf(MalformedMessageException.class)
            .hasMessage("token targets: sample:70000 draws more than a count holds (65535)");
    }

    /**
     * A record of under 2 MB that would pad to 4·10^9 numbers (its positions times its widest row;
     * the int product wraps negative): refused with the reason, not an exception of another kind and
     * not an allocation of gigabytes.
     */
    @Test
    void rowsPaddedPastWhatAnyRunSendsAreRefusedBeforeTheyAreMade() {
        int rows = 100_000;
        int wide = 40_000;
        int[][] ids = new int[rows][];
        int[][] counts = new int[rows][];
        for (int r = 1; r < rows; r++) {
            ids[r] = new int[] {r % 50_000};
            counts[r] = new int[] {wide};
        }
        ids[0] = new int[wide];
        counts[0] = new int[wide];
        for (int j = 0; j < wide; j++) {
            ids[0][j] = j;
            counts[0][j] = 1;
        }
        TokenTargets t = sampled(wide, 50_000, ids, counts);
        assertThat(t.getSerializedSize()).isLessThan(2_000_000);
        assertThatThrownBy(() -> TokenTargetsReader.decode(t)).isInstanceOf(MalformedMessageException.class)
            .hasMessage("token targets: 100000 positions of up to 40000 sampled ids each, more than 134217728 to read");
    }
}
