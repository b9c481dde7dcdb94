package dev.ikd.wiring;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.Leash;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.BytePairEncoding;
import dev.ikd.core.text.LmCorpus;
import dev.ikd.core.text.LmData;
import dev.ikd.core.text.LmIkd;
import dev.ikd.core.text.LmKd;
import dev.ikd.core.text.LmTraining;
import dev.ikd.core.train.Presets;
import dev.ikd.learning.export.LanguageModelFile;

/**
 * {@code ikd pretrain} on a language-model corpus ({@code --dataset lm:...}): a BPE tokenizer trained
 * on the corpus's train split, a {@code gpt:} model trained with Adam on its sequences, written as a
 * {@link LanguageModelFile} (safetensors, card, tokenizer) with its test perplexity. {@code ikd train}
 * on one: students distilled from such a model, in process ({@link #distil}).
 */
public final class LanguageModels {

    public static final String DEFAULT_SPEC = "gpt:2:128:4:64";
    public static final long DEFAULT_STEPS = 1000;
    public static final int DEFAULT_BATCH = 16;
    public static final double DEFAULT_LR = 3e-3;

    private LanguageModels() {
    }

    /** Whether {@code --dataset} names a language-model corpus. */
    public static boolean isCorpus(String dataset) {
        return dataset.startsWith("lm:");
    }

    /** What pretraining made: the card written, and the sequences it learned from and was tested on. */
    public record Pretrained(LanguageModelFile.Card card, int trainSequences, int testSequences) {

        /** What --json prints: the card's fields (snake_case) and the sequence counts. */
        public String json() {
            com.google.gson.JsonObject o = new com.google.gson.GsonBuilder()
                .setFieldNamingPolicy(com.google.gson.FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES).create().toJsonTree(card)
                .getAsJsonObject();
            o.remove("forward");
            o.addProperty("train_sequences", trainSequences);
            o.addProperty("test_sequences", testSequences);
            return o.toString();
        }
    }

    /**
     * Pretrains the run's {@code --teacher} (a gpt: spec; default {@value #DEFAULT_SPEC}) on its
     * corpus for {@code --pretrain-steps} Adam steps (default {@value #DEFAULT_STEPS}) of
     * {@code --batch} sequences (default {@value #DEFAULT_BATCH}) at {@code --lr} (default
     * {@value #DEFAULT_LR}), from {@code --seed}, with a tokenizer of {@code vocab} tokens.
     */
    /** What one distilled student measured, and where it was written (null: not written). */
    public record DistilledStudent(String id, long steps, double testPerplexity, double softTargetBytesPerToken, String paramSha256,
                                   double teacherTestPerplexityAfter, Path model) {
    }

    /** A language-model distillation run in process: its teacher, its settings and its students. */
    /** @param verified over Kafka with --verify-inprocess: whether every student ended on the in-process run's hash (null: not checked) */
    public record Distilled(String dataset, LanguageModelFile.Card teacher, double teacherTestPerplexity, String teacherMode,
                            String softTargets, long seed, double wallSeconds, List<DistilledStudent> students, Boolean verified) {

        /** Not checked against another run. */
        public Distilled(String dataset, LanguageModelFile.Card teacher, double teacherTestPerplexity, String teacherMode,
                         String softTargets, long seed, double wallSeconds, List<DistilledStudent> students) {
            this(dataset, teacher, teacherTestPerplexity, teacherMode, softTargets, seed, wallSeconds, students, null);
        }

        /** The same run, checked: {@code verified}. */
        public Distilled verified(boolean same) {
            return new Distilled(dataset, teacher, teacherTestPerplexity, teacherMode, softTargets, seed, wallSeconds, students, same);
        }

        /** One JSON object (--json), or lines: the run, then a row a student. */
        public String text(boolean json) {
            if (!json) {
                StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%s, teacher %s (test perplexity %.2f), mode %s, soft "
                    + "targets %s, seed %d, %.1f s%n%-12s %-16s %-14s %s%n", dataset, teacher.spec(), teacherTestPerplexity, teacherMode,
                    softTargets, seed, wallSeconds, "student", "test perplexity", "bytes/token", "parameter sha256"));
                for (DistilledStudent s : students) {
                    b.append(String.format(Locale.ROOT, "%-12s %-16.2f %-14.1f %s%s%n", s.id(), s.testPerplexity(),
                        s.softTargetBytesPerToken(), s.paramSha256(), s.model() == null ? "" : "  " + s.model()));
                }
                if (verified != null) {
                    b.append(verified ? "every student ends on the in-process run's hash" : "NOT VERIFIED: a student's hash differs from the "
                        + "in-process run's");
                }
                return b.toString().stripTrailing();
            }
            JsonObject o = new JsonObject();
            o.addProperty("dataset", dataset);
            o.addProperty("teacher", teacher.spec());
            o.addProperty("teacher_param_sha256", teacher.paramSha256());
            o.addProperty("teacher_test_perplexity", teacherTestPerplexity);
            o.addProperty("vocab_size", teacher.vocabSize());
            o.addProperty("teacher_mode", teacherMode);
            o.addProperty("soft_targets", softTargets);
            o.addProperty("seed", seed);
            o.addProperty("wall_s", wallSeconds);
            if (verified != null) {
                o.addProperty("verified_in_process", verified);
            }
            JsonArray list = new JsonArray();
            for (DistilledStudent s : students) {
                JsonObject so = new JsonObject();
                so.addProperty("id", s.id());
                so.addProperty("steps", s.steps());
                so.addProperty("test_perplexity", s.testPerplexity());
                so.addProperty("soft_target_bytes_per_token", s.softTargetBytesPerToken());
                so.addProperty("param_sha256", s.paramSha256());
                if (!Double.isNaN(s.teacherTestPerplexityAfter())) {
                    so.addProperty("teacher_test_perplexity_after", s.teacherTestPerplexityAfter());
                }
                if (s.model() != null) {
                    so.addProperty("model", s.model().toString());
                }
                list.add(so);
            }
            o.add("students", list);
            return o.toString();
        }
    }

    public static final String DEFAULT_STUDENT = "gpt:1:64:2:64";

    public static final String DEFAULT_SOFT_TARGETS = "topk:128";

    /**
     * {@code ikd train} on a language-model corpus: distils the teacher {@code teacherFile} (from
     * {@code ikd pretrain --dataset lm:...}; its tokenizer reads the corpus) into {@code --students}
     * {@code gpt:} students (default {@value #DEFAULT_STUDENT}; student i starts from seed + i) in
     * process, each {@code --steps} course steps of {@code --batch} sequences (default
     * {@value #DEFAULT_BATCH}) with soft targets sent as {@code --soft-targets} (default
     * {@value #DEFAULT_SOFT_TARGETS}). Teacher mode frozen is KD; ikd lets the teacher learn from each
     * student's exams on the quiz split ({@code LmIkd}), on the leash and β of the run (the project's
     * default unless given). The corpus is split by {@code --seed}, as {@code ikd pretrain} split it with
     * the same seed. With {@code out}, each student is written there as a model file with its card and the
     * teacher's tokenizer ({@code ikd generate} reads it).
     */
    public static Distilled distil(RunOptions run, Path teacherFile, Path out) throws IOException {
        long t0 = System.nanoTime();
        try (NDManager manager = run.newManager()) {
            Setup s = setup(run, teacherFile, manager, true);
            LanguageModelFile.Loaded teacher = s.teacher();
            int[][] test = s.sequences().test();
            double teacherPerplexity = LmTraining.perplexity(teacher.model(), teacher.params(), test, s.batch(), manager);
            List<DistilledStudent> students = new ArrayList<>();
            for (int i = 0; i < s.count(); i++) {
                try (NDManager scope = manager.newSubManager()) {
                    long seed = run.seed + i;
                    LmKd.Trained r = LmKd.train(s.student(), s.student().init(seed, DataType.FLOAT32, scope), teacher.model(),
                        teacher.params(), s.encoding(), s.mode() == TeacherMode.FROZEN ? null : s.teacherConfig(), s.sequences().train(),
                        s.sequences().quiz(), run.steps, s.batch(), s.config(), seed, scope);
                    double perplexity = LmTraining.perplexity(s.student(), r.params(), test, s.batch(), scope);
                    double after = s.mode() == TeacherMode.FROZEN ? Double.NaN
                        : LmTraining.perplexity(teacher.model(), r.teacher(), test, s.batch(), scope);
                    String id = Services.studentId(i);
                    Path file = out == null ? null : out.resolve(id + ".safetensors");
                    if (file != null) {
                        LanguageModelFile.write(file, id, s.student(), r.params(), teacher.tokenizer(), run.dataset, run.steps, perplexity);
                    }
                    students.add(new DistilledStudent(id, run.steps, perplexity, r.bytesPerToken(), r.params().sha256(), after, file));
                }
            }
            return new Distilled(run.dataset, teacher.card(), teacherPerplexity, s.mode().cliName(), s.encoding().toString(), run.seed,
                (System.nanoTime() - t0) / 1e9, students);
        }
    }

    /**
     * What a language-model run is made of, in process or over Kafka: its teacher mode (frozen or
     * ikd), encoding, number of students, batch, the students' course settings and the teacher's
     * learning ones, the teacher loaded from its file, the corpus read by the teacher's tokenizer
     * (and as a data set that names it, for the enrollments), and, where students are made, their
     * model and the corpus's splits cut at its context (else null).
     */
    record Setup(TeacherMode mode, LmKd.Encoding encoding, int count, int batch, StudentConfig config, TeacherConfig teacherConfig,
                 LanguageModelFile.Loaded teacher, LmData data, Dataset named, CausalTransformer student, LmData.Sequences sequences) {
    }

    /** The run's options checked and its teacher and corpus read (and its students' model with {@code students}), or a one-line refusal. */
    static Setup setup(RunOptions run, Path teacherFile, NDManager manager, boolean students) throws IOException {
        if (teacherFile == null) {
            throw new IllegalArgumentException("a language model's teacher is a model from 'ikd pretrain --dataset " + run.dataset
                + " --out M.safetensors': pass --teacher-checkpoint M.safetensors");
        }
        if (run.teachers != 1) {
            throw new IllegalArgumentException("--teachers " + run.teachers + ": a language model's run has one teacher, its "
                + "--teacher-checkpoint (several teachers are for classifiers)");
        }
        TeacherMode mode = TeacherMode.parse(run.teacherMode);
        if (mode != TeacherMode.FROZEN && mode != TeacherMode.IKD) {
            throw new IllegalArgumentException("--teacher-mode " + run.teacherMode + " is for classifiers; a language model's teacher "
                + "is frozen (KD) or ikd");
        }
        LmKd.Encoding encoding = LmKd.Encoding.parse(run.softTargets == null ? DEFAULT_SOFT_TARGETS : run.softTargets);
        if (mode == TeacherMode.IKD) {
            LmIkd.check(encoding);
        }
        int count = RunOptions.studentCount(run.students);
        int batch = run.batch == null ? DEFAULT_BATCH : run.batch;
        if (run.steps < 1 || batch < 1) {
            throw new IllegalArgumentException("--steps and --batch must be at least 1, got " + run.steps + " and " + batch);
        }
        StudentConfig c = new StudentConfig(run.lr == null ? 0.5 : run.lr, run.momentum == null ? 0.9 : run.momentum,
            run.temperature == null ? 2.0 : run.temperature, run.alpha == null ? 0.7 : run.alpha);
        TeacherConfig learning = new TeacherConfig(run.teacherLr == null ? 0.05 : run.teacherLr, 0.9,
            run.beta == null ? Presets.BETA : run.beta, 1, run.teacherLeash == null ? Presets.LEASH : Leash.parse(run.teacherLeash));
        LanguageModelFile.Loaded teacher = LanguageModelFile.read(teacherFile, manager);
        LmData data = LmData.read(run.dataset, run.dataDir, run.seed, teacher.tokenizer());
        if (!students) {
            return new Setup(mode, encoding, count, batch, c, learning, teacher, data, data.dataset(), null, null);
        }
        CausalTransformer student = CausalTransformer.parse(run.student == null ? DEFAULT_STUDENT : run.student,
            teacher.model().vocabulary());
        if (student.context() > teacher.model().context()) {
            throw new IllegalArgumentException("the student reads " + student.context() + " tokens, the teacher at most "
                + teacher.model().context() + ": give the student a context of at most that");
        }
        return new Setup(mode, encoding, count, batch, c, learning, teacher, data, data.dataset(), student,
            data.sequences(student.context()));
    }

    public static Pretrained pretrain(RunOptions run, int vocab, Path out) throws IOException {
        String spec = run.teacher == null ? DEFAULT_SPEC : run.teacher;
        long steps = run.pretrainSteps == null ? DEFAULT_STEPS : run.pretrainSteps;
        int batch = run.batch == null ? DEFAULT_BATCH : run.batch;
        double lr = run.lr == null ? DEFAULT_LR : run.lr;
        CausalTransformer.parse(spec, 2); // a bad spec stops here, before the corpus is read
        if (steps < 1 || batch < 1 || !(lr > 0)) {
            throw new IllegalArgumentException("--pretrain-steps, --batch and --lr must be above 0 for a language model");
        }
        LmCorpus split = LmCorpus.split(run.dataset, LmCorpus.documents(run.dataset, run.dataDir), run.seed, 0.1, 0.1);
        BytePairEncoding bpe = BytePairEncoding.train(split.train(), vocab);
        CausalTransformer model = CausalTransformer.parse(spec, bpe.vocabSize());
        int[][] train = LmCorpus.sequences(bpe, split.train(), model.context());
        int[][] test = LmCorpus.sequences(bpe, split.test(), model.context());
        if (test.length == 0) {
            throw new IllegalArgumentException(run.dataset + ": its test split is shorter than one sequence of " + model.context()
                + " tokens");
        }
        try (NDManager manager = run.newManager()) {
            Params p = LmTraining.adam(model, model.init(run.seed, DataType.FLOAT32, manager), train, steps, batch, lr, run.seed, manager);
            double perplexity = LmTraining.perplexity(model, p, test, batch, manager);
            String name = out.getFileName().toString().replaceFirst("\\.safetensors$", "");
            return new Pretrained(LanguageModelFile.write(out, name, model, p, bpe, run.dataset, steps, perplexity), train.length,
                test.length);
        }
    }
}
