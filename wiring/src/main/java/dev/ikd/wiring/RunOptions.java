package dev.ikd.wiring;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.data.ImageFolders;
import dev.ikd.core.data.Limits;
import dev.ikd.core.data.Tables;
import dev.ikd.core.learn.Leash;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.train.Presets;
import dev.ikd.core.train.TeacherSet;
import dev.ikd.core.train.TrainConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The options that describe a run, shared by train, pretrain and bench: the one place that parses them. */
public final class RunOptions {

    @Option(names = "--dataset", defaultValue = "digits",
        description = "digits, sentences (bundled), mnist, fashion-mnist, imdb (scripts/fetch-data.sh), csv:PATH (a table) or "
            + "images:DIR (one folder of PNG/JPEG files per class). Default: ${DEFAULT-VALUE}")
    public String dataset;

    @Option(names = "--image-size", paramLabel = "N|WxH",
        description = "With images:DIR: the size every image is resampled to. Default: " + ImageFolders.DEFAULT_SIZE)
    String imageSize;

    @Option(names = "--image-channels", paramLabel = "1|3|auto",
        description = "With images:DIR: grey (1) or colour (3); auto: grey when every image is. Default: auto")
    String imageChannels;

    @Option(names = "--csv-header", defaultValue = "auto", paramLabel = "auto|yes|no",
        description = "With csv:PATH: whether the first row names the columns (auto: it does when a column of numbers has text "
            + "there). Default: ${DEFAULT-VALUE}")
    String csvHeader;

    @Option(names = "--label-column", paramLabel = "NAME|INDEX",
        description = "With csv:PATH: the label column, by header name or 0-based index. Default: the last column.")
    String labelColumn;

    @Option(names = "--csv-max-rows", paramLabel = "N", description = "With csv:PATH: read at most this many rows. Default: "
        + "1000000") Long csvMaxRows;
    @Option(names = "--csv-max-columns", paramLabel = "N", description = "With csv:PATH: at most this many columns. Default: 10000")
    Integer csvMaxColumns;
    @Option(names = "--csv-max-cell", paramLabel = "CHARS", description = "With csv:PATH: at most this many characters a cell. "
        + "Default: 1000") Integer csvMaxCell;
    @Option(names = "--image-max-pixels", paramLabel = "N", description = "With images:DIR: no image of more pixels is decoded. "
        + "Default: 50000000") Long imageMaxPixels;

    @Option(names = "--datasets-dir", defaultValue = "data",
        description = "Where fetched data sets live (scripts/fetch-data.sh). Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--teacher", description = "Teacher model spec, family:boundary:widths, or torchscript:FILE.pt[#METHOD] (a "
        + "frozen TorchScript module; #METHOD gives its penultimate features). Default: ${ikd.preset.teacher}")
    String teacher;

    @Option(names = "--teachers", defaultValue = "1", paramLabel = "K",
        description = "Teachers every student learns from, each its own service (teacher-a, teacher-b, ...; 1 to 26). "
            + "Default: ${DEFAULT-VALUE}")
    public int teachers;

    @Option(names = "--teacher-models", paramLabel = "SPEC;SPEC;...",
        description = "With --teachers K: each teacher's model spec, separated by ';' (default: --teacher for every one; each is "
            + "pretrained from its own seed).")
    String teacherModels;

    @Option(names = "--teacher-weighting", paramLabel = "equal|confidence|fixed:W1,...",
        description = "With --teachers K: how a student weighs the teachers' soft targets per sample: equal; fixed weights, one "
            + "per teacher; or confidence (each teacher's cross-entropy on the label, its entropy where the student has no label). "
            + "Default: equal")
    String teacherWeighting;

    @Option(names = "--teachers-required", paramLabel = "K",
        description = "With --teachers: how many teachers' soft targets a step needs once it has waited --teacher-deadline-ms for "
            + "all of them; it then goes ahead with those that answered, their weights renormalised. Default: all of them")
    Integer teachersRequired;

    @Option(names = "--teacher-deadline-ms", paramLabel = "MS",
        description = "With --teachers-required below --teachers: how long a step waits for every teacher's soft targets. "
            + "Default: 2000")
    Long teacherDeadlineMs;

    @Option(names = "--student", description = "Student model spec. Default: ${ikd.preset.student}")
    String student;

    @Option(names = "--teacher-mode", defaultValue = "ikd", description = "frozen, ikd, ikd-adapter or pesf. Default: ${DEFAULT-VALUE}")
    public String teacherMode;

    @Option(names = "--students", defaultValue = "1",
        description = "Number of students ('ikd bench scale': a list, e.g. 1,2,4). Default: ${DEFAULT-VALUE}")
    public String students;

    @Option(names = "--steps", defaultValue = "200", description = "Course/exam steps per student. Default: ${DEFAULT-VALUE}")
    public long steps;

    @Option(names = "--seed", defaultValue = "1", description = "Run seed: parameters, splits, batches. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--swap", description = "IAKD stage swapping, p0[:constant|linear], e.g. 0.5:linear (in ikd bench accuracy: "
        + "the schedule of the IAKD methods, 0.5:linear unless given).")
    public String swap;

    @Option(names = "--label-fraction", description = "Share of training labels the students may use. Default: ${ikd.preset.label-fraction}")
    Double labelFraction;

    @Option(names = "--lr", description = "Student learning rate η. Default: ${ikd.preset.lr}") Double lr;
    @Option(names = "--momentum", description = "Student momentum. Default: ${ikd.preset.momentum}") Double momentum;
    @Option(names = "--temperature", description = "Distillation temperature T. Default: ${ikd.preset.temperature}") public Double temperature;
    @Option(names = "--alpha", description = "Weight α of the distillation term. Default: ${ikd.preset.alpha}") Double alpha;
    @Option(names = "--beta", description = "Weight β of the teacher's CE anchor (0 = pure IKD). Default: ${ikd.preset.beta}") public Double beta;
    @Option(names = "--teacher-lr", description = "Teacher learning rate in the exam step. Default: ${ikd.preset.teacher-lr}") public Double teacherLr;
    @Option(names = "--teacher-leash", paramLabel = "none|BRAKE=V,...", description = "How far a learning teacher may move: "
        + "none, or brakes kl=λ (trust region to the teacher it started from), warmup=STEPS and decay=none|linear|cosine (its "
        + "learning rate), clip=NORM (the feedback's norm), every=K (apply gradients every K steps), pilot=1 (MetaDistil's pilot "
        + "update: the exam is on a pilot step, the real step learns from the updated teacher), e.g. kl=0.5,clip=0.05. "
        + "Default: ${ikd.preset.teacher-leash}") public String teacherLeash;
    @Option(names = "--soft-targets", paramLabel = "dense|fp16|topk:K|sample:N", description = "Language models (--dataset "
        + "lm:...): how the teacher's targets travel (ikd learns through dense and topk only). Default: "
        + LanguageModels.DEFAULT_SOFT_TARGETS) public String softTargets;
    @Option(names = "--batch", description = "Course batch size. Default: ${ikd.preset.batch}") Integer batch;
    @Option(names = "--exam-batch", description = "Exam batch size. Default: ${ikd.preset.exam-batch}") public Integer examBatch;
    @Option(names = "--pretrain-steps", description = "Teacher pretraining steps when no checkpoint is given. Default: "
        + "${ikd.preset.pretrain-steps}") public Long pretrainSteps;

    @Option(names = "--prefetch", defaultValue = "8", paramLabel = "STEPS",
        description = "With --teacher-mode frozen: how many steps of soft targets the teacher sends ahead of each student's "
            + "feedback, so the student does not wait on the network. Default: ${DEFAULT-VALUE}")
    public int prefetch;

    @Option(names = "--print-config", description = "Print the run's options as resolved (the data set's preset filled in), "
        + "in the form --config reads, and exit.")
    public boolean printConfig;

    @Option(names = "--device", defaultValue = "cpu",
        description = "cpu, or gpu (needs the CUDA natives: build with -Pcuda). Default: ${DEFAULT-VALUE}")
    String device;

    /** A manager on the chosen device: CPU unless a GPU is asked for (DJL alone would take any GPU it sees). */
    public NDManager newManager() {
        return NDManager.newBaseManager(Devices.select(device));
    }

    /** The data set; a table's summary (rows, features, classes and their balance, splits) goes to stderr. */
    public Dataset loadDataset() {
        Dataset data = Datasets.load(dataset, dataDir, loadOptions());
        if (data.table() != null) {
            System.err.println("ikd: " + data.summary() + "; features standardised with the training split's mean and deviation");
        } else if (dataset.startsWith("images:")) {
            System.err.println("ikd: " + data.summary() + " (" + String.join("x", java.util.Arrays.stream(data.sampleShape())
                .mapToObj(Long::toString).toList()) + ", channels first, 0..1)");
        }
        return data;
    }

    /** The options that say how to read the data set (only those given: a data set refuses one it does not take). */
    public Map<String, String> loadOptions() {
        Map<String, String> o = new java.util.TreeMap<>();
        if (!"auto".equalsIgnoreCase(csvHeader.strip())) {
            o.put(Tables.Options.HEADER, csvHeader);
        }
        if (labelColumn != null) {
            o.put(Tables.Options.LABEL_COLUMN, labelColumn);
        }
        if (imageSize != null) {
            o.put(ImageFolders.SIZE, imageSize);
        }
        if (imageChannels != null) {
            o.put(ImageFolders.CHANNELS, imageChannels);
        }
        for (var limit : Map.of(Limits.CSV_ROWS, String.valueOf(csvMaxRows), Limits.CSV_COLUMNS, String.valueOf(csvMaxColumns),
            Limits.CSV_CELL, String.valueOf(csvMaxCell), Limits.IMAGE_PIXELS, String.valueOf(imageMaxPixels)).entrySet()) {
            if (!"null".equals(limit.getValue())) {
                o.put(limit.getKey(), limit.getValue());
            }
        }
        return o;
    }

    public TrainConfig toConfig() {
        if (LanguageModels.isCorpus(dataset)) {
            throw new IllegalArgumentException("--dataset " + dataset + " is a language-model corpus: ikd pretrain, train, local (without "
                + "--compare), coordinator, teacher (without --teacher-id) and student "
                + "take it");
        }
        if (softTargets != null && !LanguageModels.isCorpus(dataset)) {
            throw new IllegalArgumentException("--soft-targets is for language models (--dataset lm:...), not " + dataset);
        }
        int count = studentCount(students);
        if (prefetch < 1) {
            throw new IllegalArgumentException("--prefetch must be at least 1 step, got " + prefetch);
        }
        if (steps < 0) {
            throw new IllegalArgumentException("--steps must be >= 0, got " + steps);
        }
        TrainConfig p = Presets.forSource(dataset);
        StudentConfig sc = p.studentConfig();
        sc = new StudentConfig(or(lr, sc.learningRate()), or(momentum, sc.momentum()), or(temperature, sc.temperature()),
            or(alpha, sc.alpha()));
        TeacherConfig tc = p.teacherConfig();
        tc = new TeacherConfig(or(teacherLr, tc.learningRate()), tc.momentum(), or(beta, tc.beta()), tc.adapterHidden(),
            teacherLeash == null ? tc.leash() : Leash.parse(teacherLeash));
        TrainConfig.PretrainConfig pc = p.pretrain();
        if (pretrainSteps != null) {
            pc = new TrainConfig.PretrainConfig(pretrainSteps, pc.batchSize(), pc.learningRate(), pc.momentum());
        }
        TrainConfig c = new TrainConfig(teacher == null ? p.teacher() : ModelSpec.parse(teacher),
            student == null ? p.student() : studentSpec("--student", student), TeacherMode.parse(teacherMode), count, steps, seed,
            sc, tc, batch == null ? p.batchSize() : batch, examBatch == null ? p.examBatchSize() : examBatch,
            swap == null ? SwapSchedule.OFF : SwapSchedule.parse(swap), labelFraction == null ? p.labelFraction() : labelFraction,
            p.quizFraction(), pc, p.type(), false);
        return c.withTeachers(teacherSet(c.teacher()));
    }

    /** The run's teachers: --teachers of --teacher (or of --teacher-models), weighed by --teacher-weighting. */
    private TeacherSet teacherSet(ModelSpec first) {
        if (teachers < 1 || teachers > TeacherSet.MAX) {
            throw new IllegalArgumentException("--teachers must be 1 to " + TeacherSet.MAX + ", got " + teachers);
        }
        List<ModelSpec> models = new ArrayList<>();
        if (teacherModels == null) {
            for (int k = 0; k < teachers; k++) {
                models.add(first);
            }
        } else {
            String[] specs = teacherModels.split(";", -1);
            if (specs.length != teachers) {
                throw new IllegalArgumentException("--teacher-models gives " + specs.length + " model specs for --teachers " + teachers);
            }
            if (teacher != null && !ModelSpec.parse(specs[0].strip()).equals(first)) {
                throw new IllegalArgumentException("--teacher " + teacher + " and the first of --teacher-models (" + specs[0].strip()
                    + ") differ: give one of them");
            }
            for (String spec : specs) {
                models.add(ModelSpec.parse(spec.strip()));
            }
        }
        if (teacherWeighting != null && teachers == 1) {
            throw new IllegalArgumentException("--teacher-weighting weighs several teachers: give --teachers 2 or more");
        }
        int required = teachersRequired == null ? teachers : teachersRequired;
        if (teacherDeadlineMs != null && required == teachers) {
            throw new IllegalArgumentException("--teacher-deadline-ms is how long a step waits before it goes without a late teacher: "
                + "give --teachers-required below --teachers (" + teachers + ")");
        }
        return new TeacherSet(models, teacherWeighting == null ? TeacherWeighting.EQUAL : TeacherWeighting.parse(teacherWeighting),
            required, teacherDeadlineMs == null ? TeacherSet.DEADLINE_MS : teacherDeadlineMs);
    }

    /**
     * Makes {@code --help} of {@code command} show the values this run would take from its data
     * set's preset (the {@code --dataset} given, or the default), e.g. "Default: 0.02 (the digits
     * preset)"; options that do not make a run leave it saying that the preset decides.
     */
    public void showPresetInHelp(CommandSpec command) {
        Map<String, Object> values;
        try {
            values = resolvedOptions();
        } catch (IllegalArgumentException e) {
            command.resourceBundle(RunOptionTable.presetHelp(null, null));
            return;
        }
        String preset = dataset.contains(":") ? dataset.substring(0, dataset.indexOf(':')) : dataset;
        command.resourceBundle(RunOptionTable.presetHelp(preset, values));
    }

    /**
     * The run's options as this command would use them, every preset value filled in, one
     * {@code key=value} a line in the form {@code --config} reads.
     */
    public String resolved() {
        StringBuilder out = new StringBuilder("# resolved run options (ikd --print-config); usable as --config FILE\n");
        resolvedOptions().forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
        return out.toString();
    }

    /** The same options, by name, in the order {@link #resolved} prints them (the order of {@link RunOptionTable#ROWS}). */
    Map<String, Object> resolvedOptions() {
        return RunOptionTable.resolved(this);
    }

    /** These options as picocli parsed them (this mixin's own model): where {@link #asArgs} reads them from. */
    @Spec(Spec.Target.SELF)
    CommandSpec self;

    /**
     * These options as a command line for another ikd process (the services of a benchmark run in
     * their own JVMs): every option that has a value, read from picocli's model of this mixin, so an
     * option added to this class travels without a list to keep.
     */
    public List<String> asArgs() {
        if (self == null) {
            throw new IllegalStateException("RunOptions.asArgs needs options that picocli parsed");
        }
        List<String> a = new ArrayList<>();
        for (OptionSpec o : self.options()) {
            Object value = o.getValue();
            if (value == null || o.longestName().equals("--print-config")) {
                continue;
            }
            if (o.typeInfo().isBoolean()) {
                if ((Boolean) value) {
                    a.add(o.longestName());
                }
                continue;
            }
            a.add(o.longestName());
            a.add(value.toString());
        }
        return a;
    }

    /** {@link #asArgs} without the run options {@code command} refuses: the command line of that service's own JVM. */
    public List<String> asArgs(String command) {
        return RunOptionTable.forCommand(command, asArgs());
    }

    /** A student's model spec: one ikd builds and trains (a TorchScript module can only teach). */
    public static ModelSpec studentSpec(String option, String text) {
        ModelSpec spec = ModelSpec.parse(text);
        if (spec.isScript()) {
            throw new IllegalArgumentException(option + " " + text + ": a TorchScript module can be a teacher (--teacher), not a "
                + "student; students are mlp, cnn or text models ikd trains");
        }
        return spec;
    }

    /** A number of students: a whole number of at least 1, or a one-line refusal. */
    public static int studentCount(String text) {
        int n;
        try {
            n = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--students must be a whole number, got '" + text + "'");
        }
        if (n < 1) {
            throw new IllegalArgumentException("--students must be at least 1, got " + n);
        }
        return n;
    }

    private static double or(Double value, double fallback) {
        return value == null ? fallback : value;
    }
}
