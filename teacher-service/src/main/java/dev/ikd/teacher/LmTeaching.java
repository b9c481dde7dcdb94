package dev.ikd.teacher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.learn.Divergence;
import dev.ikd.core.learn.SparseTargets;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Tensors;
import dev.ikd.core.text.LmIkd;
import dev.ikd.core.text.LmSteps;
import dev.ikd.core.text.LmTraining;
import dev.ikd.core.train.StepListener;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.learning.tokens.TokenTargetsCodec;
import dev.ikd.proto.codec.TokenTargetsReader;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.state.ParamGroup;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Measured;
import dev.ikd.teacher.protocol.Teaching;

/**
 * One student's language-model teacher on DJL, behind the machine's {@link Teaching} port: step k's
 * batch drawn from the student's seed and k ({@link LmSteps}), soft targets softmax(u/T) encoded as
 * the run sends them ({@link TokenTargetsCodec}; sample draws seeded by the student's seed and k);
 * in mode ikd its own copy of φ learns from the student's feedback on what it sent ({@link LmIkd#learn}),
 * exactly as {@code LmKd.train} lets it learn in process. A frozen teacher's loss is its next-token
 * cross-entropy on the course batch.
 */
final class LmTeaching implements Teaching {

    /**
     * What every student's teacher shares: the settings, where tensors live, who hears the steps, and
     * the run's training sequences cut at each context a student enrolled with (cut once, read by all).
     */
    record Shared(TeacherService.Settings settings, NDManager manager, StepListener listener,
                  java.util.concurrent.ConcurrentMap<Integer, int[][]> cuts) implements Teaching.School {

        Shared(TeacherService.Settings settings, NDManager manager, StepListener listener) {
            this(settings, manager, listener, new java.util.concurrent.ConcurrentHashMap<>());
        }

        /** The training sequences of {@code context} + 1 tokens. */
        int[][] train(int context) {
            return cuts.computeIfAbsent(context, c -> dev.ikd.core.text.LmCorpus.cut(settings.lm().data().train(), c));
        }

        @Override
        public Teaching enroll(String studentId, Enrollment enrollment) {
            int context = enrollment.getHyperParameters().getContext();
            int most = settings.lm().model().context();
            if (context < 1 || context > most) {
                throw new RejectedMessageException("student " + studentId + " reads sequences of " + context + " tokens, this teacher "
                    + settings.lm().model().spec() + " from 1 to " + most);
            }
            return new LmTeaching(this, studentId, enrollment);
        }

        @Override
        public Teaching restore(String studentId, Enrollment enrollment, PupilState saved) {
            LmTeaching t = new LmTeaching(this, studentId, enrollment);
            try {
                t.restore(saved);
                return t;
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
        }
    }

    private final Shared shared;
    private final LmTeacher lm;
    private final String studentId;
    private final long seed;
    private final int batch;
    private final double temperature;
    /** The student's context, and the run's training sequences cut at it. */
    private final int context;
    private final int[][] train;
    private final NDManager manager;
    /** Null when frozen. */
    private final LmIkd ikd;
    private long version;
    /**
     * The top-K support last served ([positions · K] ids), the step it was for and φ's version then;
     * null until a step is served (after a restart, {@link #support} computes it again).
     */
    private int[] served;
    private long servedStep;
    private long servedVersion;

    private LmTeaching(Shared shared, String studentId, Enrollment enrollment) {
        this.shared = shared;
        this.lm = shared.settings().lm();
        this.studentId = studentId;
        var hp = enrollment.getHyperParameters();
        this.seed = hp.getSeed();
        this.batch = hp.getBatchSize();
        this.temperature = hp.getTemperature();
        this.context = hp.getContext();
        this.train = shared.train(context);
        this.manager = shared.manager().newSubManager();
        this.ikd = shared.settings().mode() == TeacherMode.FROZEN ? null : new LmIkd(lm.model(), lm.pretrained(), lm.encoding(),
            shared.settings().config(), new StudentConfig(hp.getLearningRate(), hp.getMomentum(), hp.getTemperature(), hp.getAlpha()),
            hp.getSteps(), manager);
    }

    private void restore(PupilState saved) {
        version = saved.getVersion();
        if (ikd == null) {
            return;
        }
        try (NDManager scope = manager.newSubManager()) {
            Params phi = ParamsCodec.params(saved.getTrainable(), scope);
            String difference = phi.layoutDifference(ikd.teacher());
            if (difference != null) {
                throw new CheckpointException("the saved teacher of " + studentId + " is another model: " + difference);
            }
            ikd.restore(phi, ParamsCodec.params(saved.getVelocity(), scope),
                saved.hasGathered() ? ParamsCodec.params(saved.getGathered(), scope) : null, (int) saved.getGatheredSteps());
        }
    }

    private Params phi() {
        return ikd == null ? lm.pretrained() : ikd.teacher();
    }

    @Override
    public long version() {
        return version;
    }

    /** Step k's sequences [batch, context + 1]. */
    private NDArray sequences(long k, NDManager scope) {
        return LmTraining.batchOf(LmSteps.batch(train, batch, seed, k), scope);
    }

    /** The soft targets of {@code input} [batch, context] from φ as it is now, [positions · V]. */
    private float[] probabilities(NDArray input) {
        return LmSteps.probabilities(lm.model(), phi(), input, temperature).toType(DataType.FLOAT32, false).toFloatArray();
    }

    @Override
    public Served serve(long k) {
        long t0 = System.nanoTime();
        long cpu0 = StepListener.cpuNanos();
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = sequences(k, scope);
            int rows = (int) (x.getShape().get(0) * context);
            float[] p = probabilities(x.get(":, 0:" + context));
            String diverged = Divergence.ofMatrix("a soft target", p, lm.data().vocab());
            var tokens = diverged != null ? null
                : TokenTargetsCodec.encode(lm.encoding(), p, rows, lm.data().vocab(), LmSteps.sampleSeed(seed, k));
            if (tokens != null && ikd != null && lm.encoding().kind().equals("topk")) {
                served = TokenTargetsReader.decode(tokens).ids();
                servedStep = k;
                servedVersion = version;
            }
            long cpu = StepListener.cpuNanos() - cpu0;
            if (diverged == null) {
                shared.listener().onSoftTargets(new StepListener.SoftTargetsServed(studentId, k, System.nanoTime() - t0, cpu));
            }
            return new Served(null, tokens, temperature, Measured.newBuilder().setBusyUs(cpu / 1000).build(), diverged);
        }
    }

    @Override
    public Update teach(long k, long steps, float[] d, float[] courseLogits) {
        long t0 = System.nanoTime();
        long cpu0 = StepListener.cpuNanos();
        double loss;
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = sequences(k, scope);
            int l = context;
            NDArray input = x.get(":, 0:" + l);
            NDArray next = x.get(":, 1:").toType(DataType.INT64, false).expandDims(-1);
            if (ikd == null) {
                loss = LmTraining.loss(lm.model(), phi(), x).toType(DataType.FLOAT64, false).getDouble();
            } else {
                int rows = (int) (x.getShape().get(0) * l);
                NDArray feedback = Tensors.of(scope, d, new Shape(rows, d.length / rows), DataType.FLOAT32);
                loss = ikd.learn(k, input, next, feedback, support(k, input, rows, scope), scope);
                version++;
            }
        }
        long cpu = StepListener.cpuNanos() - cpu0;
        shared.listener().onTeacherStep(new StepListener.TeacherStepped(studentId, k, loss, version, 0, Double.NaN,
            System.nanoTime() - t0, cpu));
        return new Update(loss, version, 0, Double.NaN, Measured.newBuilder().setBusyUs(cpu / 1000).build(),
            Divergence.ofLoss("the teacher's loss", loss));
    }

    /**
     * The ids top-K sent for step k's {@code input} [positions, K] (null for dense): the ones it
     * served, kept, or (after a restart) the top-K of φ again, which has not moved since it served
     * them, so they are the ones the student learned from.
     */
    private NDArray support(long k, NDArray input, int rows, NDManager scope) {
        if (!lm.encoding().kind().equals("topk")) {
            return null;
        }
        int vocab = lm.data().vocab();
        int width = Math.min(lm.encoding().size(), vocab);
        int[] sent = served != null && servedStep == k && servedVersion == version ? served
            : SparseTargets.topK(probabilities(input), rows, vocab, width).ids();
        long[] ids = new long[sent.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = sent[i];
        }
        return scope.create(ids, new Shape(rows, width));
    }

    @Override
    public void saveTo(PupilState.Builder state) {
        if (ikd != null) {
            state.setTrainable(ParamsCodec.group(ikd.teacher())).setVelocity(ParamsCodec.group(ikd.velocity()));
            if (ikd.gathered() != null) {
                state.setGathered(ParamsCodec.group(ikd.gathered())).setGatheredSteps(ikd.gatheredCount());
            }
        }
    }

    @Override
    public ParamGroup learned() {
        return ikd == null ? null : ParamsCodec.group(ikd.teacher());
    }

    @Override
    public void close() {
        manager.close();
    }
}
