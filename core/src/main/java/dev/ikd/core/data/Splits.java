package dev.ikd.core.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The training pool split into course ids (soft targets cover all of them) and the quiz split the
 * exams come from (docs/architecture.md §2: carved from training data, never the test set). In the low-label
 * setting only a fraction of the pool is labelled; the quiz split and the CE term come from those.
 *
 * @param course  ids the course batches are drawn from
 * @param quiz    ids the exam batches are drawn from (all labelled)
 * @param labeled whether each training id's label may be used by the student
 */
public record Splits(int[] course, int[] quiz, boolean[] labeled) {

    /**
     * @param labelFraction share of the pool whose labels the student may use (1 = all)
     * @param quizFraction  share of the labelled samples held out as the quiz split
     */
    public static Splits of(int poolSize, double labelFraction, double quizFraction, long seed) {
        if (!(labelFraction > 0 && labelFraction <= 1)) {
            throw new IllegalArgumentException("label fraction must be in (0, 1], got " + labelFraction);
        }
        if (!(quizFraction > 0 && quizFraction < 1)) {
            throw new IllegalArgumentException("quiz fraction must be in (0, 1), got " + quizFraction);
        }
        int[] order = permutation(poolSize, seed);
        int labeledCount = Math.max(2, (int) Math.round(labelFraction * poolSize));
        int quizCount = Math.max(1, (int) Math.round(quizFraction * labeledCount));
        boolean[] labeled = new boolean[poolSize];
        for (int i = 0; i < labeledCount; i++) {
            labeled[order[i]] = true;
        }
        int[] quiz = Arrays.copyOfRange(order, 0, quizCount);
        int[] course = Arrays.copyOfRange(order, quizCount, poolSize);
        Arrays.sort(quiz);
        Arrays.sort(course);
        return new Splits(course, quiz, labeled);
    }

    /** Course ids whose labels the student may use. */
    public int[] labeledCourse() {
        return Arrays.stream(course).filter(i -> labeled[i]).toArray();
    }

    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        Arrays.setAll(p, i -> i);
        var random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
