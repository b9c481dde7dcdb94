package dev.ikd.core.text;

import java.util.Locale;
import java.util.SplittableRandom;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.learn.Autograd;
import dev.ikd.core.learn.SparseTargets;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;

/**
 * A student language model learning in process from a teacher's soft targets as one encoding would
 * send them (groundwork for {@code ikd bench lm}; no services yet): per position, the course step of
 * §2 — SGD with momentum on {@code α T² · distillation + (1 − α) · next-token CE} — with the
 * distillation term over the encoded targets. Encodings ({@code --soft-targets}):
 * {@code dense} (float32, 4 bytes a token of the vocabulary), {@code fp16} (2), {@code topk:K} (K ids
 * and probabilities and the tail: 8K + 4 bytes), {@code sample:N} (N seeded draws as distinct (id,
 * count) pairs, 6 bytes each, and an offset of 4 bytes a position, as TokenTargets carries them;
 * target count/N).
 */
public final class LmKd {

    private LmKd() {
    }

    /** How soft targets travel. */
    public record Encoding(String kind, int size) {

        /** {@code dense}, {@code fp16}, {@code topk:K} or {@code sample:N}, or a one-line refusal. */
        public static Encoding parse(String text) {
            String t = text.strip().toLowerCase(Locale.ROOT);
            if (t.equals("dense") || t.equals("fp16")) {
                return new Encoding(t, 0);
            }
            String[] parts = t.split(":", 2);
            if (parts.length == 2 && (parts[0].equals("topk") || parts[0].equals("sample"))) {
                try {
                    int n = Integer.parseInt(parts[1]);
                    if (n >= 1) {
                        return new Encoding(parts[0], n);
                    }
                } catch (NumberFormatException e) {
                    // refused below
                }
            }
            throw new IllegalArgumentException("--soft-targets must be dense, fp16, topk:K or sample:N (K, N >= 1), got '" + text + "'");
        }

        @Override
        public String toString() {
            return size == 0 ? kind : kind + ":" + size;
        }
    }

    /** One batch's targets as a student receives them, and the bytes they take on the wire. */
    public record Targets(NDArray dense, NDArray ids, NDArray probs, NDArray tail, long bytes) {

        /**
         * Targets as a student reads them off the wire: {@code dense} [rows·vocab] (dense, fp16), or per
         * row {@code width} ids and probabilities with top-K's tail (null for sample: no tail); the
         * same arrays {@link #encode} makes in process.
         */
        public static Targets read(float[] dense, int rows, int vocab, int width, int[] ids, float[] probs, float[] tail, long bytes,
                                   NDManager m, DataType type) {
            if (dense != null) {
                return new Targets(Tensors.of(m, dense, new Shape(rows, vocab), type), null, null, null, bytes);
            }
            long[] wide = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                wide[i] = ids[i];
            }
            return new Targets(null, m.create(wide, new Shape(rows, width)), Tensors.of(m, probs, new Shape(rows, width), type),
                tail == null ? m.zeros(new Shape(rows), type) : Tensors.of(m, tail, new Shape(rows), type), bytes);
        }
    }

    /**
     * The teacher's soft targets p ([.., vocab], rows = its positions) as {@code e} sends them: dense ones stay the tensor they
     * are, the others are read out to be encoded.
     *
     * @param seed the draws' seed for {@code sample} (the run's, mixed with the step): the same seed draws the same
     */
    static Targets encode(Encoding e, NDArray probabilities, int rows, int vocab, long seed, NDManager m, DataType type) {
        if (e.kind().equals("dense")) {
            return new Targets(probabilities.reshape(rows, vocab).toType(type, false), null, null, null, 4L * rows * vocab);
        }
        float[] p = probabilities.toType(DataType.FLOAT32, false).toFloatArray();
        switch (e.kind()) {
            case "fp16": {
                float[] half = new float[p.length];
                for (int i = 0; i < p.length; i++) {
                    half[i] = roundToHalf(p[i]);
                }
                return new Targets(Tensors.of(m, half, new Shape(rows, vocab), type), null, null, null, 2L * rows * vocab);
            }
            case "topk": {
                SparseTargets.TopK s = SparseTargets.topK(p, rows, vocab, Math.min(e.size(), vocab));
                long[] ids = new long[s.ids().length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = s.ids()[i];
                }
                return new Targets(null, m.create(ids, new Shape(rows, s.k())), Tensors.of(m, s.probs(), new Shape(rows, s.k()), type),
                    Tensors.of(m, s.tail(), new Shape(rows), type), (8L * s.k() + 4) * rows);
            }
            case "sample": {
                SparseTargets.Sampled s = SparseTargets.sample(p, rows, vocab, e.size(), seed);
                int width = 1;
                long pairs = 0;
                for (int[] row : s.ids()) {
                    width = Math.max(width, row.length);
                    pairs += row.length;
                }
                long[] ids = new long[rows * width];
                float[] probs = new float[rows * width];
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < s.ids()[r].length; j++) {
                        ids[r * width + j] = s.ids()[r][j];
                        probs[r * width + j] = (float) s.counts()[r][j] / s.draws();
                    }
                }
                return new Targets(null, m.create(ids, new Shape(rows, width)), Tensors.of(m, probs, new Shape(rows, width), type),
                    m.zeros(new Shape(rows), type), 6L * pairs + 4L * rows);
            }
            default:
                throw new IllegalStateException(e.kind());
        }
    }

    /** The float32 value nearest to {@code f} (a probability, 0 ≤ f ≤ 1) that IEEE half precision holds, ties to even. */
    public static float roundToHalf(float f) {
        if (f == 0 || !Float.isFinite(f)) {
            return f;
        }
        int exponent = Math.max(Math.getExponent(f), -14); // below 2^-14 half precision is subnormal, its step fixed
        double ulp = Math.scalb(1.0, exponent - 10);
        return (float) (Math.rint(f / ulp) * ulp);
    }

    /**
     * What a student's training measured: its parameters, bytes of soft targets per predicted token, ms per step, and the
     * teacher it ended with (the one it started from unless the teacher learned).
     */
    public record Trained(Params params, double bytesPerToken, double msPerStep, Params teacher) {
    }

    /**
     * The student after a course step: θ' and the momentum v' it moved with, the course loss at θ,
     * and, where they were kept, its course logits at θ [positions, V] (detached; else null), which
     * the exam step's feedback reads instead of a forward pass again.
     */
    public record Step(Params theta, Params velocity, double loss, NDArray logits) {
    }

    /**
     * The course step of §2 on one batch: {@code v' = μ v + ∇L_c(θ)}, {@code θ' = θ − η v'}, with
     * {@code L_c = α T² · distillation + (1 − α) · CE} over the targets {@code t} (null: CE alone).
     * {@code input} [N, L] and {@code next} [N, L, 1] are the tokens read and the ones to predict;
     * θ' and v' are new arrays in {@code into}; the course logits are kept in {@code keepLogits} (null: not kept).
     */
    public static Step courseStep(CausalTransformer student, Params theta, Params velocity, NDArray input, NDArray next, Targets t,
                           StudentConfig c, NDManager into, NDManager keepLogits) {
        long rows = input.getShape().get(0) * input.getShape().get(1);
        NDArray[] kept = new NDArray[1];
        Autograd.Gradient grad = Autograd.of(theta, into, th -> {
            NDArray logits = student.logits(th, input);
            if (keepLogits != null) {
                kept[0] = logits.reshape(rows, -1).stopGradient();
                kept[0].attach(keepLogits);
            }
            NDArray ce = logits.logSoftmax(-1).gather(next, -1).neg().mean();
            if (t == null) {
                return ce;
            }
            NDArray flat = logits.reshape(rows, -1);
            NDArray distill = t.dense() != null ? LmDistillation.dense(flat, t.dense(), c.temperature())
                : LmDistillation.topK(flat, t.ids(), t.probs(), t.tail(), c.temperature());
            double weight = c.alpha() * c.temperature() * c.temperature();
            return distill.mul(Tensors.scalar(distill, weight)).add(ce.mul(Tensors.scalar(ce, 1 - c.alpha())));
        });
        Params g = grad.gradient();
        Params v = g.plusScaled(velocity, c.momentum(), into);
        g.close();
        return new Step(theta.plusScaled(v, -c.learningRate(), into), v, grad.value(), kept[0]);
    }

    /**
     * {@code steps} course steps of the student from {@code start}, batches of {@code batch}
     * sequences drawn with {@code seed}; the teacher's targets at temperature T from its logits,
     * encoded by {@code encoding} (null: the student alone, on next-token CE).
     */
    public static Trained train(CausalTransformer student, Params start, CausalTransformer teacher, Params teacherParams,
                                Encoding encoding, int[][] sequences, long steps, int batch, StudentConfig c, long seed,
                                NDManager manager) {
        return train(student, start, teacher, teacherParams, encoding, null, sequences, null, steps, batch, c, seed, manager);
    }

    /**
     * As above; with {@code learning} (not null) the teacher learns too, IKD on positions: after each
     * course step the student takes an exam on a batch of {@code quiz} (sequences held apart from the
     * course, drawn with a stream of their own) and the teacher takes its exam step on the feedback
     * ({@link LmIkd}), serving the next step from what it learned.
     */
    public static Trained train(CausalTransformer student, Params start, CausalTransformer teacher, Params teacherParams,
                                Encoding encoding, TeacherConfig learning, int[][] sequences, int[][] quiz, long steps, int batch,
                                StudentConfig c, long seed, NDManager manager) {
        SplittableRandom random = new SplittableRandom(seed);
        SplittableRandom quizRandom = new SplittableRandom(seed ^ LmSteps.QUIZ_STREAM);
        LmIkd ikd = learning == null ? null : new LmIkd(teacher, teacherParams, encoding, learning, c, steps, manager);
        Params theta = start.copy(manager);
        Params v = theta.map((name, a) -> manager.zeros(a.getShape(), a.getDataType()));
        double bytes = 0;
        long tokens = 0;
        long t0 = System.nanoTime();
        for (long step = 0; step < steps; step++) {
            int[][] part = LmSteps.draw(sequences, batch, random);
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = LmTraining.batchOf(part, scope);
                long n = x.getShape().get(0);
                long l = x.getShape().get(1) - 1;
                NDArray input = x.get(":, 0:" + l);
                Targets targets = null;
                if (encoding != null) {
                    Params phi = ikd == null ? teacherParams : ikd.teacher();
                    NDArray p = LmSteps.probabilities(teacher, phi, input, c.temperature());
                    targets = encode(encoding, p, (int) (n * l), teacher.vocabulary(), LmSteps.sampleSeed(seed, step), scope,
                        theta.get("gpt.wte").getDataType());
                    bytes += targets.bytes();
                    tokens += n * l;
                }
                NDArray next = x.get(":, 1:").toType(DataType.INT64, false).expandDims(-1);
                Step moved = courseStep(student, theta, v, input, next, targets, c, manager, ikd == null ? null : scope);
                if (ikd != null) {
                    ikd.examStep(step, student, theta, moved, input, next, targets,
                        LmTraining.batchOf(LmSteps.draw(quiz, batch, quizRandom), scope), scope);
                }
                theta.close(); // the step before's θ and v: every step's arrays would stay in the run's manager otherwise
                v.close();
                theta = moved.theta();
                v = moved.velocity();
            }
        }
        v.close();
        return new Trained(theta, tokens == 0 ? 0 : bytes / tokens, (System.nanoTime() - t0) / 1e6 / Math.max(1, steps),
            ikd == null ? teacherParams : ikd.teacher());
    }
}
