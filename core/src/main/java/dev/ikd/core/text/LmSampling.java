package dev.ikd.core.text;

import java.util.Arrays;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;

/**
 * Text from a causal transformer ({@code ikd generate}): the prompt's tokens, then one token at a time
 * drawn from the model's next-token distribution at the last position (the model reads at most its
 * context, the latest tokens), at a temperature and within a nucleus (top-p), seeded.
 */
public final class LmSampling {

    private LmSampling() {
    }

    /** How to draw: temperature 0 takes the most likely token; top-p keeps the fewest most likely tokens whose mass reaches p. */
    public record Settings(int tokens, double temperature, double topP, long seed) {

        public Settings {
            if (tokens < 0) {
                throw new IllegalArgumentException("--tokens must be >= 0, got " + tokens);
            }
            if (!(temperature >= 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("--temperature must be a finite number >= 0, got " + temperature);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
            }
        }
    }

    /** The prompt followed by {@code s.tokens()} generated tokens, as text. */
    public static String generate(CausalTransformer model, Params p, BytePairEncoding tokenizer, String prompt, Settings s,
                                  NDManager manager) {
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("--prompt must hold at least one character: the model continues a text");
        }
        int[] prompted = tokenizer.encode(prompt);
        int[] text = Arrays.copyOf(prompted, prompted.length + s.tokens());
        SplittableRandom random = new SplittableRandom(s.seed());
        for (int i = prompted.length; i < text.length; i++) {
            text[i] = next(lastLogits(model, p, Arrays.copyOf(text, i), manager), s.temperature(), s.topP(), random);
        }
        return tokenizer.decode(text);
    }

    /** The next-token logits after {@code tokens} (the last {@code context} of them), in double. */
    public static double[] lastLogits(CausalTransformer model, Params p, int[] tokens, NDManager manager) {
        int from = Math.max(0, tokens.length - model.context());
        long[] window = new long[tokens.length - from];
        for (int i = 0; i < window.length; i++) {
            window[i] = tokens[from + i];
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray logits = model.logits(p, scope.create(window, new Shape(1, window.length)));
            return logits.get("0, -1").toType(DataType.FLOAT64, false).toDoubleArray();
        }
    }

    /**
     * A token from {@code logits}: the most likely (the smallest id of a tie) at temperature 0; else
     * a draw from softmax(logits / T) over the nucleus, the most likely tokens (by probability, then
     * id) up to the first whose running mass reaches {@code topP}, renormalised.
     */
    public static int next(double[] logits, double temperature, double topP, SplittableRandom random) {
        if (temperature == 0) {
            int best = 0;
            for (int c = 1; c < logits.length; c++) {
                if (logits[c] > logits[best]) {
                    best = c;
                }
            }
            return best;
        }
        double[] p = dev.ikd.core.learn.SparseTargets.softmax(logits, 0, logits.length, temperature);
        Integer[] order = new Integer[p.length];
        for (int c = 0; c < order.length; c++) {
            order[c] = c;
        }
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int kept = 0;
        double mass = 0;
        while (kept < order.length && (kept == 0 || mass < topP)) {
            mass += p[order[kept++]];
        }
        double u = random.nextDouble() * mass;
        for (int i = 0; i < kept; i++) {
            u -= p[order[i]];
            if (u < 0) {
                return order[i];
            }
        }
        return order[kept - 1];
    }
}
