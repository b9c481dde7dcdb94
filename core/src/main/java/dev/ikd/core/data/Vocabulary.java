package dev.ikd.core.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Word ids for text data, built from the training split only. Id 0 pads, id 1 stands for every
 * word the vocabulary does not know.
 */
public final class Vocabulary {

    public static final int PAD = 0;
    public static final int UNKNOWN = 1;
    private static final Pattern BREAKS = Pattern.compile("<br\\s*/?>", Pattern.CASE_INSENSITIVE);
    private static final Pattern NON_WORD = Pattern.compile("[^a-z0-9']+");

    private final Map<String, Integer> ids;

    private Vocabulary(Map<String, Integer> ids) {
        this.ids = ids;
    }

    public static List<String> tokenize(String text) {
        String clean = BREAKS.matcher(text).replaceAll(" ").toLowerCase(Locale.ROOT);
        List<String> out = new ArrayList<>();
        for (String t : NON_WORD.split(clean)) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /** The {@code maxSize - 2} most frequent words seen at least {@code minCount} times (ties by spelling). */
    public static Vocabulary build(List<String> trainTexts, int maxSize, int minCount) {
        Map<String, Integer> counts = new HashMap<>();
        for (String text : trainTexts) {
            for (String t : tokenize(text)) {
                counts.merge(t, 1, Integer::sum);
            }
        }
        List<Map.Entry<String, Integer>> kept = counts.entrySet().stream()
            .filter(e -> e.getValue() >= minCount)
            .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
            .limit(Math.max(0, maxSize - 2))
            .toList();
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < kept.size(); i++) {
            ids.put(kept.get(i).getKey(), i + 2);
        }
        return new Vocabulary(ids);
    }

    public int size() {
        return ids.size() + 2;
    }

    /** Token ids of {@code text}, cut or padded to {@code length}. */
    public float[] encode(String text, int length) {
        float[] out = new float[length];
        List<String> tokens = tokenize(text);
        for (int i = 0; i < Math.min(length, tokens.size()); i++) {
            out[i] = ids.getOrDefault(tokens.get(i), UNKNOWN);
        }
        return out;
    }
}
