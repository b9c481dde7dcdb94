package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class BytePairEncodingTest {

    static final String TEXT = "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs off, quickly.\n"
        + "Über café naïve — 東京 and 12345 numbers, 67 more!  Two  spaces\tand a tab.\n";

    /**
     * Training as the textbook says, with nothing incremental: count every adjacent pair of every
     * word again before each merge, take the most frequent (the smaller ids on a tie), merge it.
     */
    static List<int[]> bruteForce(List<String> texts, int vocabSize) {
        Pattern words = Pattern.compile(" ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
        List<int[]> ws = new ArrayList<>();
        for (String t : texts) {
            Matcher m = words.matcher(t);
            while (m.find()) {
                byte[] b = m.group().getBytes(StandardCharsets.UTF_8);
                int[] w = new int[b.length];
                for (int i = 0; i < b.length; i++) {
                    w[i] = b[i] & 0xff;
                }
                ws.add(w);
            }
        }
        List<int[]> merges = new ArrayList<>();
        while (256 + merges.size() < vocabSize) {
            Map<List<Integer>, Integer> counts = new HashMap<>();
            for (int[] w : ws) {
                for (int i = 0; i + 1 < w.length; i++) {
                    counts.merge(List.of(w[i], w[i + 1]), 1, Integer::sum);
                }
            }
            List<Integer> best = null;
            int bestCount = 1;
            for (var e : counts.entrySet()) {
                List<Integer> p = e.getKey();
                if (e.getValue() > bestCount || e.getValue() == bestCount && best != null && (p.get(0) < best.get(0)
                    || p.get(0).equals(best.get(0)) && p.get(1) < best.get(1))) {
                    best = p;
                    bestCount = e.getValue();
                }
            }
            if (best == null) {
                break;
            }
            int made = 256 + merges.size();
            merges.add(new int[] {best.get(0), best.get(1)});
            for (int k = 0; k < ws.size(); k++) {
                int[] w = ws.get(k);
                int[] out = new int[w.length];
                int n = 0;
                for (int i = 0; i < w.length; i++) {
                    if (i + 1 < w.length && w[i] == best.get(0) && w[i + 1] == best.get(1)) {
                        out[n++] = made;
                        i++;
                    } else {
                        out[n++] = w[i];
                    }
                }
                ws.set(k, Arrays.copyOf(out, n));
            }
        }
        return merges;
    }

    @Test
    void theMergesAreThoseOfTrainingFromScratchEveryStep() {
        Random r = new Random(7);
        String letters = "aab bc  abc ca\nbaab é";
        for (int trial = 0; trial < 20; trial++) {
            List<String> texts = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                StringBuilder s = new StringBuilder();
                for (int i = 0; i < 200; i++) {
                    s.append(letters.charAt(r.nextInt(letters.length())));
                }
                texts.add(s.toString());
            }
            BytePairEncoding bpe = BytePairEncoding.train(texts, 300);
            List<int[]> expected = bruteForce(texts, 300);
            assertThat(bpe.merges()).as("trial " + trial).hasSameSizeAs(expected);
            for (int i = 0; i < expected.size(); i++) {
                assertThat(bpe.merges().get(i)).as("trial " + trial + " merge " + i).containsExactly(expected.get(i));
            }
        }
    }

    @Test
    void theMostFrequentPairIsMergedFirst() {
        BytePairEncoding bpe = BytePairEncoding.train(List.of("aaabdaaabac"), 257);
        assertThat(bpe.merges()).singleElement().satisfies(m -> assertThat(m).containsExactly('a', 'a'));
        assertThat(bpe.vocabSize()).isEqualTo(257);
    }

    @Test
    void everyTextDecodesBackToItselfEvenWithBytesTrainingNeverSaw() {
        BytePairEncoding bpe = BytePairEncoding.train(List.of(TEXT.repeat(3)), 400);
        for (String s : List.of(TEXT, "", " ", "\n\n", "🙂 emoji and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "zzz unseen words qqq", "\t\t tabs  ")) {
            assertThat(bpe.decode(bpe.encode(s))).isEqualTo(s);
        }
        assertThat(bpe.encode(TEXT).length).as("it compresses the text it learned from")
            .isLessThan(TEXT.getBytes(StandardCharsets.UTF_8).length / 2);
    }

    @Test
    void trainingStopsWhenNoPairRepeatsAndTheMergesTravelAsText() {
        BytePairEncoding bpe = BytePairEncoding.train(List.of("abcd"), 1000);
        assertThat(bpe.vocabSize()).isEqualTo(256);
        BytePairEncoding trained = BytePairEncoding.train(List.of(TEXT), 320);
        BytePairEncoding back = BytePairEncoding.parse(trained.toText());
        assertThat(back.sha256()).isEqualTo(trained.sha256());
        assertThat(back.encode(TEXT)).containsExactly(trained.encode(TEXT));
        assertThat(BytePairEncoding.train(List.of(TEXT), 320).sha256()).as("deterministic").isEqualTo(trained.sha256());
    }

    @Test
    void badInputIsRefusedWithOneLine() {
        assertThatThrownBy(() -> BytePairEncoding.train(List.of("x"), 100))
            .hasMessage("a byte-level vocabulary has at least 256 tokens, got 100");
        assertThatThrownBy(() -> BytePairEncoding.parse("97 97\n97 x\n")).hasMessage(
            "tokenizer line 2 is not a merge of two token ids: '97 x'");
        assertThatThrownBy(() -> BytePairEncoding.parse("97 300\n")).hasMessage(
            "merge 0 joins [97, 300]: a merge joins two tokens made before it (below 256)");
        assertThatThrownBy(() -> BytePairEncoding.train(List.of("x"), 300).decode(new int[] {400}))
            .hasMessage("token 400 is not in a vocabulary of 256");
    }
}
