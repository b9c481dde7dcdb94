package dev.ikd.core.text;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A byte-level byte-pair-encoding tokenizer, as GPT-2's. Text is split into words (an optional
 * leading space and a run of letters, of digits or of other symbols; or a run of white space); the
 * UTF-8 bytes of a word are its first tokens, 0 to 255; training merges the most frequent pair of
 * adjacent tokens within words into a new token, again and again, until the vocabulary has its size
 * or no pair occurs twice. Every text encodes (every byte is a token) and decodes back to itself.
 *
 * <p>Training is deterministic: the pair counts are exact, and a tie goes to the pair of smaller
 * token ids. What the tokenizer is, is its list of merges ({@link #merges}, {@link #toText}); its
 * {@link #sha256} names it.
 *
 * <p>Neither of DJL's tokenizer modules trains one: its Hugging Face tokenizers binding and its
 * SentencePiece binding only load a tokenizer made elsewhere (and their natives come as separate
 * downloads), so ikd trains its own.
 */
public final class BytePairEncoding {

    /** Tokens 0 to 255 are the bytes. */
    public static final int BYTES = 256;

    private static final Pattern WORDS = Pattern.compile(" ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final List<int[]> merges;
    private final Map<Long, Integer> rank = new HashMap<>();
    private final byte[][] bytesOf;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BytePairEncoding(List<int[]> merges) {
        this.merges = List.copyOf(merges);
        this.bytesOf = new byte[BYTES + merges.size()][];
        for (int b = 0; b < BYTES; b++) {
            bytesOf[b] = new byte[] {(byte) b};
        }
        for (int i = 0; i < merges.size(); i++) {
            int[] m = merges.get(i);
            if (m.length != 2 || m[0] < 0 || m[1] < 0 || m[0] >= BYTES + i || m[1] >= BYTES + i) {
                throw new IllegalArgumentException("merge " + i + " joins " + Arrays.toString(m) + ": a merge joins two tokens "
                    + "made before it (below " + (BYTES + i) + ")");
            }
            if (rank.putIfAbsent(key(m[0], m[1]), i) != null) {
                throw new IllegalArgumentException("merge " + i + " joins " + m[0] + " and " + m[1] + " again");
            }
            byte[] a = bytesOf[m[0]];
            byte[] b = bytesOf[m[1]];
            byte[] joined = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, joined, a.length, b.length);
            bytesOf[BYTES + i] = joined;
        }
    }

    /** The tokenizer of these merges (token 256 + i joins merges.get(i)[0] and [1]). */
    public static BytePairEncoding of(List<int[]> merges) {
        return new BytePairEncoding(merges);
    }

    /**
     * Learns merges from {@code texts} until the vocabulary has {@code vocabSize} tokens (at least
     * 256, the bytes) or no pair of adjacent tokens occurs twice in a word.
     */
    public static BytePairEncoding train(Iterable<String> texts, int vocabSize) {
        if (vocabSize < BYTES) {
            throw new IllegalArgumentException("a byte-level vocabulary has at least " + BYTES + " tokens, got " + vocabSize);
        }
        Map<String, Integer> counted = new TreeMap<>();
        for (String text : texts) {
            Matcher m = WORDS.matcher(text);
            while (m.find()) {
                counted.merge(m.group(), 1, Integer::sum);
            }
        }
        List<int[]> words = new ArrayList<>(counted.size());
        long[] counts = new long[counted.size()];
        for (var e : counted.entrySet()) {
            byte[] b = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] w = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                w[i] = b[i] & 0xff;
            }
            counts[words.size()] = e.getValue();
            words.add(w);
        }
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, Set<Integer>> pairWords = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            count(words.get(w), w, counts[w], pairCount, pairWords);
        }
        // The most frequent pair first; a tie to the smaller pair of ids. Entries go stale as counts change: checked when taken.
        PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        pairCount.forEach((k, c) -> queue.add(new long[] {c, k}));
        List<int[]> merges = new ArrayList<>();
        while (BYTES + merges.size() < vocabSize && !queue.isEmpty()) {
            long[] top = queue.poll();
            long now = pairCount.getOrDefault(top[1], 0L);
            if (now != top[0]) {
                if (now > 0) {
                    queue.add(new long[] {now, top[1]});
                }
                continue;
            }
            if (now < 2) {
                break;
            }
            int a = (int) (top[1] >>> 32);
            int b = (int) top[1];
            int made = BYTES + merges.size();
            merges.add(new int[] {a, b});
            Set<Long> touched = new HashSet<>();
            for (int w : new ArrayList<>(pairWords.getOrDefault(top[1], Set.of()))) {
                uncount(words.get(w), w, counts[w], pairCount, pairWords, touched);
                words.set(w, merge(words.get(w), a, b, made));
                touched.addAll(count(words.get(w), w, counts[w], pairCount, pairWords));
            }
            for (long k : touched) {
                long c = pairCount.getOrDefault(k, 0L);
                if (c > 0) {
                    queue.add(new long[] {c, k}); // an entry of every pair's current count is always queued
                }
            }
        }
        return new BytePairEncoding(merges);
    }

    /** Adds the pairs of word {@code w} (seen {@code n} times); the pairs it counted. */
    private static List<Long> count(int[] w, int index, long n, Map<Long, Long> pairCount, Map<Long, Set<Integer>> pairWords) {
        List<Long> pairs = new ArrayList<>();
        for (int i = 0; i + 1 < w.length; i++) {
            long k = key(w[i], w[i + 1]);
            pairCount.merge(k, n, Long::sum);
            pairWords.computeIfAbsent(k, x -> new HashSet<>()).add(index);
            pairs.add(k);
        }
        return pairs;
    }

    private static void uncount(int[] w, int index, long n, Map<Long, Long> pairCount, Map<Long, Set<Integer>> pairWords,
                                Set<Long> touched) {
        for (int i = 0; i + 1 < w.length; i++) {
            long k = key(w[i], w[i + 1]);
            touched.add(k);
            long left = pairCount.merge(k, -n, Long::sum);
            if (left == 0) {
                pairCount.remove(k);
            }
            Set<Integer> in = pairWords.get(k);
            if (in != null) {
                in.remove(index);
                if (in.isEmpty()) {
                    pairWords.remove(k);
                }
            }
        }
    }

    /** {@code w} with every non-overlapping (a, b), left to right, replaced by {@code made}. */
    private static int[] merge(int[] w, int a, int b, int made) {
        int[] out = new int[w.length];
        int n = 0;
        for (int i = 0; i < w.length; i++) {
            if (i + 1 < w.length && w[i] == a && w[i + 1] == b) {
                out[n++] = made;
                i++;
            } else {
                out[n++] = w[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    /** The tokens of {@code text}: each word's bytes, merged by the earliest-learned merge first. */
    public int[] encode(String text) {
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        Matcher m = WORDS.matcher(text);
        while (m.find()) {
            int[] t = cache.computeIfAbsent(m.group(), this::encodeWord);
            parts.add(t);
            total += t.length;
        }
        int[] out = new int[total];
        int at = 0;
        for (int[] t : parts) {
            System.arraycopy(t, 0, out, at, t.length);
            at += t.length;
        }
        return out;
    }

    private int[] encodeWord(String word) {
        byte[] b = word.getBytes(StandardCharsets.UTF_8);
        int[] w = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            w[i] = b[i] & 0xff;
        }
        while (w.length > 1) {
            int best = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < w.length; i++) {
                best = Math.min(best, rank.getOrDefault(key(w[i], w[i + 1]), Integer.MAX_VALUE));
            }
            if (best == Integer.MAX_VALUE) {
                break;
            }
            int[] m = merges.get(best);
            w = merge(w, m[0], m[1], BYTES + best);
        }
        return w;
    }

    /** The text of {@code tokens}: their bytes, as UTF-8 (a cut through a character's bytes shows as U+FFFD). */
    public String decode(int[] tokens) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int t : tokens) {
            if (t < 0 || t >= bytesOf.length) {
                throw new IllegalArgumentException("token " + t + " is not in a vocabulary of " + bytesOf.length);
            }
            out.writeBytes(bytesOf[t]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    public int vocabSize() {
        return bytesOf.length;
    }

    /** The merges in the order learned: token 256 + i joins merges().get(i)[0] and [1]. */
    public List<int[]> merges() {
        return merges.stream().map(int[]::clone).toList();
    }

    /** The merges as text, one "LEFT RIGHT" per line: what a run carries, and {@link #parse} reads. */
    public String toText() {
        StringBuilder s = new StringBuilder();
        for (int[] m : merges) {
            s.append(m[0]).append(' ').append(m[1]).append('\n');
        }
        return s.toString();
    }

    /** The tokenizer {@link #toText} wrote, or a one-line refusal naming the line that is not a merge. */
    public static BytePairEncoding parse(String text) {
        List<int[]> merges = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            String[] parts = lines[i].strip().split(" ");
            try {
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                merges.add(new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])});
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("tokenizer line " + (i + 1) + " is not a merge of two token ids: '" + lines[i] + "'");
            }
        }
        return new BytePairEncoding(merges);
    }

    /** The SHA-256 of {@link #toText}: the name of this tokenizer. */
    public String sha256() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(toText().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
