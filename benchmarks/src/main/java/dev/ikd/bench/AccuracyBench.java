package dev.ikd.bench;

import java.nio.file.Path;
import java.util.ArrayList;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.StepListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import dev.ikd.core.learn.FeatureCache;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Teachers;

/**
 * {@code ikd bench accuracy}: one teacher per seed, then every method under the same student budget,
 * for each student size and label setting. Writes bench/results/accuracy-DATASET.json and a table
 * in BENCHMARKS.md.
 */
@Command(name = "accuracy", mixinStandardHelpOptions = true,
    description = "Test accuracy of student alone, KD, IKD, IKD-adapter, PESF, IAKD and IAKD+IKD under one budget.")
public final class AccuracyBench implements Callable<Integer> {

    @Mixin
    RunOptions run;

    @Option(names = "--seeds", defaultValue = "3", description = "Seeds (one teacher each). Default: ${DEFAULT-VALUE}")
    int seeds;

    @Option(names = "--student-sizes", split = ";",
        description = "Student specs separated by ';' (default: a very small one and a moderate one for the data set).")
    List<String> studentSizes;

    @Option(names = "--label-fractions", split = ",", defaultValue = "1.0,0.05",
        description = "Label settings: 1.0 = every label, 0.05 = low-label. Default: ${DEFAULT-VALUE}")
    List<Double> labelFractions;

    @Option(names = "--methods", split = ",", defaultValue = "alone,kd,ikd,ikd-adapter,pesf,iakd,iakd+ikd",
        description = "Methods to run; a learning teacher's on a leash as METHOD@BRAKE=V+BRAKE=V (the brakes of "
            + "--teacher-leash, and beta=β), e.g. ikd@kl=1+clip=0.05. Default: ${DEFAULT-VALUE}")
    List<String> methods;

    /** The IAKD methods' swap schedule when --swap names none. */
    static final String IAKD_SWAP = "0.5:linear";

    /** The swap schedule of the IAKD methods: --swap, or {@link #IAKD_SWAP}; the other methods never swap. */
    private String iakdSwap() {
        return run.swap == null ? IAKD_SWAP : run.swap;
    }

    @Option(names = "--teacher-label-noise", split = ",", paramLabel = "F1,F2,...",
        description = "With --teachers K: the share of training labels made wrong (each to another class) before pretraining "
            + "each teacher, e.g. 0,0.4,0 (default: none).")
    List<Double> teacherLabelNoise;

    /** The methods with several teachers, unless --methods names others: KD from each alone, the ensembles, IKD on one. */
    static List<String> ensembleMethods(int teachers) {
        List<String> m = new ArrayList<>();
        for (int k = 0; k < teachers; k++) {
            m.add("kd:teacher-" + (char) ('a' + k));
        }
        m.addAll(List.of("kd:equal", "kd:confidence", "ikd:confidence"));
        return m;
    }

    static final List<String> DEFAULT_METHODS = List.of("alone", "kd", "ikd", "ikd-adapter", "pesf", "iakd", "iakd+ikd");

    @Option(names = "--tag", description = "Names a variant (e.g. a knob sweep): results go to accuracy-DATASET-TAG.json and a section of their own.")
    String tag;

    @Option(names = "--teacher-checkpoint", description = "With --seeds 1: this pretrained teacher instead of pretraining (knob sweeps).")
    Path teacherCheckpoint;

    @Mixin
    BenchOutput output;

    @Override
    public Integer call() {
        if (seeds < 1) {
            throw new IllegalArgumentException("--seeds must be at least 1, got " + seeds);
        }
        if (teacherCheckpoint != null && seeds != 1) {
            throw new IllegalArgumentException("--teacher-checkpoint holds one teacher: use it with --seeds 1");
        }
        TrainConfig base = run.toConfig();
        int teacherCount = base.teachers().count();
        if (teacherCount > 1 && methods.equals(DEFAULT_METHODS)) {
            methods = ensembleMethods(teacherCount);
        }
        List<Double> noise = teacherLabelNoise == null ? java.util.Collections.nCopies(teacherCount, 0.0) : teacherLabelNoise;
        if (noise.size() != teacherCount) {
            throw new IllegalArgumentException("--teacher-label-noise gives " + noise.size() + " shares for " + teacherCount + " teachers");
        }
        if (teacherCount > 1 && teacherCheckpoint != null) {
            throw new IllegalArgumentException("--teacher-checkpoint holds one teacher; each of " + teacherCount + " is pretrained per seed");
        }
        Dataset data = run.loadDataset();
        List<ModelSpec> sizes = studentSizes == null ? defaultSizes(base.student()) : studentSizes.stream().map(ModelSpec::parse).toList();
        SwapSchedule swap = SwapSchedule.parse(iakdSwap());
        methods.forEach(m -> BenchMethods.Ensemble.of(m, base.teachers()));
        long t0 = System.nanoTime();
        Map<String, Row> rows = new LinkedHashMap<>();
        List<Double> teacherAccuracies = new ArrayList<>();
        List<List<Double>> accuraciesOfTeachers = new ArrayList<>();
        for (int t = 0; t < teacherCount; t++) {
            accuraciesOfTeachers.add(new ArrayList<>());
        }
        try (NDManager manager = run.newManager()) {
            for (int s = 0; s < seeds; s++) {
                TrainConfig seeded = base.withSeed(base.seed() + s);
                List<Params> pretrained = new ArrayList<>();
                // Each teacher's backbone rows, computed once a seed for every method that serves from them.
                List<FeatureCache> caches = new ArrayList<>();
                for (int t = 0; t < teacherCount; t++) {
                    long tt = System.nanoTime();
                    ModelSpec spec = seeded.teachers().models().get(t);
                    Network net = Network.build(spec, data);
                    TrainConfig one = seeded.ofTeacher(t);
                    Params teacher = noise.get(t) == 0 ? Teachers.obtain(one, data, teacherCheckpoint, manager, false)
                        : Teachers.pretrain(one, data.withTrainLabelNoise(noise.get(t), one.seed()), net, manager, false);
                    double teacherAccuracy = Evaluation.testAccuracy(net, teacher, data, manager);
                    pretrained.add(teacher);
                    caches.add(new FeatureCache(net, teacher, data, seeded.type(), data.trainSize(), manager));
                    accuraciesOfTeachers.get(t).add(teacherAccuracy);
                    if (t == 0) {
                        teacherAccuracies.add(teacherAccuracy);
                    }
                    System.err.printf("seed %d: teacher %s%s%s test accuracy %.4f (%.0f s)%n", seeded.seed(),
                        teacherCount == 1 ? "" : seeded.teachers().id(t) + " ", spec, noise.get(t) == 0 ? "" : " (labels " + noise.get(t)
                            + " noisy)", teacherAccuracy, (System.nanoTime() - tt) / 1e9);
                }
                for (ModelSpec size : sizes) {
                    for (double fraction : labelFractions) {
                        for (String m : methods) {
                            BenchMethods.Ensemble which = BenchMethods.Ensemble.of(m, seeded.teachers());
                            BenchMethods.Method how = BenchMethods.method(which.method());
                            TrainConfig c = how.teacherConfig(seeded.withStudent(size).withLabelFraction(fraction)
                                .withTeachers(which.teachers()).with(how.mode(), how.swap() ? swap : SwapSchedule.OFF, how.alone()));
                            Row row = rows.computeIfAbsent(size + "|" + fraction + "|" + m, k -> new Row(size.toString(), fraction, m,
                                c.steps()));
                            TrainResult r;
                            try {
                                r = ReferenceTrainer.run(c, data, which.pick(pretrained), which.pick(caches), manager, row.drift);
                            } catch (dev.ikd.core.train.DivergedException e) {
                                // A method that diverges scores chance: its students end with nothing worth having.
                                row.diverged.add(e.getMessage());
                                row.accuracies.add(Double.NaN);
                                row.validation.add(Double.NaN);
                                System.err.printf("  %-14s labels %-5s %-28s diverged: %s%n", size, fraction, m, e.getMessage());
                                continue;
                            }
                            Evaluation.Halves halves = r.meanHalves();
                            row.accuracies.add(halves.test());
                            row.validation.add(halves.validation());
                            row.wallSeconds.add(r.wallSeconds());
                            row.drift.seedDone();
                            System.err.printf("  %-14s labels %-5s %-28s val %.4f test %.4f  (%.1f s)%n", size, fraction, m,
                                halves.validation(), halves.test(), r.wallSeconds());
                        }
                    }
                }
                caches.forEach(FeatureCache::close);
                pretrained.forEach(Params::close);
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        this.teachersOfRun = base.teachers().count() == 1 ? null : teachersJson(base, noise, accuraciesOfTeachers);
        write(base, data, sizes, rows, teacherAccuracies, wall);
        return 0;
    }

    private static List<ModelSpec> defaultSizes(ModelSpec preset) {
        // A very small student (large capacity gap) and a moderate one, both with the teacher's boundaries.
        int stages = preset.widths().size();
        return List.of(
            new ModelSpec(preset.family(), preset.boundary(), java.util.Collections.nCopies(stages, 2)),
            new ModelSpec(preset.family(), preset.boundary(), java.util.Collections.nCopies(stages, Math.max(4, preset.widths().get(0) * 2))));
    }

    /** With several teachers: each one's model, label noise and test accuracy per seed (null with one). */
    private JsonArray teachersOfRun;

    private static JsonArray teachersJson(TrainConfig base, List<Double> noise, List<List<Double>> accuracies) {
        var out = new JsonArray();
        for (int t = 0; t < base.teachers().count(); t++) {
            var o = new JsonObject();
            o.addProperty("id", base.teachers().id(t));
            o.addProperty("model", base.teachers().models().get(t).toString());
            o.addProperty("label_noise", noise.get(t));
            var acc = new JsonArray();
            accuracies.get(t).forEach(acc::add);
            o.add("test_accuracy", acc);
            out.add(o);
        }
        return out;
    }

    /** The mean KL drift of a method's teachers per step, over students and seeds. */
    static final class Drift implements StepListener {
        private final double[] sum;
        private final int[] count;
        private int seeds;

        Drift(long steps) {
            sum = new double[(int) steps];
            count = new int[(int) steps];
        }

        @Override
        public void onTeacherStep(TeacherStepped e) {
            sum[(int) e.step()] += e.driftKl();
            count[(int) e.step()]++;
        }

        void seedDone() {
            seeds++;
        }

        boolean measured() {
            return count.length > 0 && count[0] > 0;
        }

        double[] mean() {
            double[] m = new double[sum.length];
            for (int i = 0; i < m.length; i++) {
                m[i] = count[i] == 0 ? Double.NaN : sum[i] / count[i];
            }
            return m;
        }
    }

    /** Student's t quantile t(0.975, df) for df = 1..30, and 1.96 beyond: a 95% interval half-width is t · s / √n. */
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
        2.042};

    /** The half-width of the 95% confidence interval of the mean of {@code values} (0 for one value). */
    static double ci95(List<Double> values) {
        int n = values.size();
        if (n < 2) {
            return 0;
        }
        double m = values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double s = Math.sqrt(values.stream().mapToDouble(v -> (v - m) * (v - m)).sum() / (n - 1));
        return (n - 1 <= T975.length ? T975[n - 2] : 1.96) * s / Math.sqrt(n);
    }

    private static final class Row {
        final String student;
        final double labelFraction;
        final String method;
        /** Accuracy on the test split's second half (reported) and its first half (to choose by), per seed. */
        final List<Double> accuracies = new ArrayList<>();
        final List<Double> validation = new ArrayList<>();
        final List<Double> wallSeconds = new ArrayList<>();
        final List<String> diverged = new ArrayList<>();
        final Drift drift;

        Row(String student, double labelFraction, String method, long steps) {
            this.student = student;
            this.labelFraction = labelFraction;
            this.method = method;
            this.drift = new Drift(steps);
        }

        /** A diverged seed counts as chance would: it is not left out of the mean. */
        private static List<Double> scored(List<Double> values, double chance) {
            return values.stream().map(v -> v.isNaN() ? chance : v).toList();
        }

        double mean(double chance) {
            return scored(accuracies, chance).stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        double ci(double chance) {
            return ci95(scored(accuracies, chance));
        }

        double validationMean(double chance) {
            return scored(validation, chance).stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        double std() {
            double m = mean(0);
            return accuracies.size() < 2 ? 0 : Math.sqrt(accuracies.stream().mapToDouble(a -> (a - m) * (a - m)).sum()
                / (accuracies.size() - 1));
        }

        double wall() {
            return wallSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }
    }

    private void write(TrainConfig base, Dataset data, List<ModelSpec> sizes, Map<String, Row> rows,
                       List<Double> teacherAccuracies, double wall) {
        StringBuilder reading = new StringBuilder();
        run.loadOptions().forEach((k, v) -> reading.append(" --").append(k).append(' ').append(v));
        String command = "ikd bench accuracy --dataset " + run.dataset + reading + " --seeds " + seeds
            + (base.seed() == 1 ? "" : " --seed " + base.seed()) + " --steps " + base.steps()
            + (tag == null ? "" : " --tag " + tag) + (teacherCheckpoint == null ? "" : " --teacher-checkpoint TEACHER") + (run.teacherLr == null ? "" : " --teacher-lr " + run.teacherLr)
            + (run.beta == null ? "" : " --beta " + run.beta) + (run.teacherLeash == null ? "" : " --teacher-leash " + run.teacherLeash) + (run.temperature == null ? "" : " --temperature " + run.temperature)
            + (run.examBatch == null ? "" : " --exam-batch " + run.examBatch) + (run.pretrainSteps == null ? "" : " --pretrain-steps " + run.pretrainSteps)
            + (base.teachers().count() == 1 ? "" : " --teachers " + base.teachers().count() + " --teacher-models '"
                + String.join(";", base.teachers().models().stream().map(Object::toString).toList()) + "'"
                + (teacherLabelNoise == null ? "" : " --teacher-label-noise " + String.join(",",
                    teacherLabelNoise.stream().map(String::valueOf).toList())))
            + (methods.equals(DEFAULT_METHODS) || methods.equals(ensembleMethods(base.teachers().count())) ? ""
                : " --methods " + String.join(",", methods))
            + (studentSizes == null ? "" : " --student-sizes '" + String.join(";", studentSizes) + "'")
            + " --label-fractions " + String.join(",", labelFractions.stream().map(String::valueOf).toList());
        String machine = Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
            + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version") + ", DJL PyTorch CPU, 1 intra-op thread";
        var o = new JsonObject();
        o.addProperty("dataset", run.dataset);
        o.addProperty("dataset_sha256", data.sha256());
        o.addProperty("command", command);
        o.addProperty("machine", machine);
        o.addProperty("wall_s", wall);
        var budget = new JsonObject();
        budget.addProperty("steps", base.steps());
        budget.addProperty("batch", base.batchSize());
        budget.addProperty("exam_batch", base.examBatchSize());
        budget.addProperty("teacher", base.teacher().toString());
        budget.addProperty("pretrain_steps", base.pretrain().steps());
        budget.addProperty("lr", base.studentConfig().learningRate());
        budget.addProperty("temperature", base.studentConfig().temperature());
        budget.addProperty("alpha", base.studentConfig().alpha());
        budget.addProperty("teacher_lr", base.teacherConfig().learningRate());
        budget.addProperty("beta", base.teacherConfig().beta());
        budget.addProperty("iakd_swap", iakdSwap());
        o.add("budget", budget);
        var teachers = new JsonArray();
        teacherAccuracies.forEach(teachers::add);
        o.add("teacher_test_accuracy", teachers);
        if (teachersOfRun != null) {
            o.add("teachers", teachersOfRun);
        }
        var jsonRows = new JsonArray();
        for (Row r : rows.values()) {
            var jr = new JsonObject();
            jr.addProperty("student", r.student);
            jr.addProperty("label_fraction", r.labelFraction);
            jr.addProperty("method", r.method);
            double chance = 1.0 / data.classes();
            var acc = new JsonArray();
            r.accuracies.forEach(a -> acc.add(a.isNaN() ? chance : a));
            jr.add("test_accuracy", acc);
            var val = new JsonArray();
            r.validation.forEach(a -> val.add(a.isNaN() ? chance : a));
            jr.add("validation_accuracy", val);
            jr.addProperty("mean", r.mean(chance));
            jr.addProperty("ci95", r.ci(chance));
            jr.addProperty("validation_mean", r.validationMean(chance));
            jr.addProperty("std", r.std());
            jr.addProperty("diverged_seeds", r.diverged.size());
            jr.addProperty("wall_s_per_run", r.wall());
            if (r.drift.measured()) {
                var drift = new JsonArray();
                for (double d : r.drift.mean()) {
                    drift.add(d);
                }
                jr.add("teacher_drift_kl", drift);
            }
            jsonRows.add(jr);
        }
        o.add("rows", jsonRows);
        // A table's file name without its extension (breast-cancer.csv: breast-cancer) names its results.
        String name = "accuracy-" + data.name().replaceFirst("\\.(csv|tsv|CSV|TSV)$", "") + (tag == null ? "" : "-" + tag);
        List<String> plots = driftPlots(name, rows);
        output.record(name, o, table(data, command, machine, base, rows, teacherAccuracies, wall)
            + plots.stream().map(f -> "\n![teacher drift](bench/results/" + f + ")\n").reduce("", String::concat));
    }

    /** Per student size and label setting, the teachers' mean KL drift over the steps of every learning method. */
    private List<String> driftPlots(String name, Map<String, Row> rows) {
        Map<String, List<LinePlot.Series>> plots = new LinkedHashMap<>();
        java.awt.Color[] colors = {java.awt.Color.BLACK, new java.awt.Color(0xd62728), new java.awt.Color(0x1f77b4),
            new java.awt.Color(0x2ca02c), new java.awt.Color(0x9467bd), new java.awt.Color(0xff7f0e), new java.awt.Color(0x8c564b),
            new java.awt.Color(0xe377c2), new java.awt.Color(0x17becf)};
        for (Row r : rows.values()) {
            if (!r.drift.measured()) {
                continue;
            }
            String key = r.student + "|" + r.labelFraction;
            List<LinePlot.Series> lines = plots.computeIfAbsent(key, k -> new ArrayList<>());
            double[] y = r.drift.mean();
            double[] x = new double[y.length];
            java.util.Arrays.setAll(x, i -> i);
            lines.add(new LinePlot.Series(r.method, x, y, colors[lines.size() % colors.length], lines.size() >= colors.length));
        }
        List<String> files = new ArrayList<>();
        int i = 0;
        for (var e : plots.entrySet()) {
            String[] key = e.getKey().split("\\|");
            String file = name + "-drift" + (plots.size() == 1 ? "" : "-" + i++) + ".png";
            LinePlot.writeLinear(output.results.resolve(file), "teacher drift, " + key[0] + ", labels " + key[1],
                "step", "KL(initial teacher || teacher) on the exam batch", e.getValue());
            files.add(file);
        }
        return files;
    }

    private String table(Dataset data, String command, String machine, TrainConfig base, Map<String, Row> rows,
                         List<Double> teacherAccuracies, double wall) {
        var md = new StringBuilder();
        md.append("### Accuracy: ").append(data.name()).append(tag == null ? "" : " (" + tag + ")").append("\n\n");
        md.append("`").append(command).append("`  \n");
        md.append("Machine: ").append(machine).append(". Whole table: ").append(String.format(Locale.ROOT, "%.0f", wall))
            .append(" s.  \n");
        md.append("Budget per student: ").append(base.steps()).append(" steps of batch ").append(base.batchSize())
            .append(" (exam batch ").append(base.examBatchSize()).append("); teacher ").append(base.teacher())
            .append(" pretrained ").append(base.pretrain().steps()).append(" steps on every label, test accuracy ")
            .append(String.format(Locale.ROOT, "%s", teacherAccuracies.stream().map(a -> String.format(Locale.ROOT, "%.4f", a)).toList()))
            .append(". η ").append(base.studentConfig().learningRate()).append(", T ").append(base.studentConfig().temperature())
            .append(", α ").append(base.studentConfig().alpha()).append(", teacher lr ").append(base.teacherConfig().learningRate())
            .append(", β ").append(base.teacherConfig().beta()).append(", IAKD swap ").append(iakdSwap()).append(".\n\n");
        md.append("| student | labels | ").append(String.join(" | ", methods)).append(" |\n");
        md.append("|---|---|").append("---|".repeat(methods.size())).append("\n");
        Map<String, Map<String, Row>> byGroup = new LinkedHashMap<>();
        for (Row r : rows.values()) {
            byGroup.computeIfAbsent(r.student + "|" + r.labelFraction, k -> new LinkedHashMap<>()).put(r.method, r);
        }
        for (var g : byGroup.values()) {
            Row first = g.values().iterator().next();
            md.append("| ").append(first.student).append(" | ")
                .append(first.labelFraction == 1.0 ? "all" : String.format(Locale.ROOT, "%.0f%%", first.labelFraction * 100));
            for (String m : methods) {
                Row r = g.get(m);
                double chance = 1.0 / data.classes();
                md.append(" | ").append(r == null ? "" : String.format(Locale.ROOT, "%.4f ± %.4f%s", r.mean(chance), r.ci(chance),
                    r.diverged.isEmpty() ? "" : " (" + r.diverged.size() + " diverged)"));
            }
            md.append(" |\n");
        }
        md.append("\nCells: accuracy on the second half of the test split, mean ± 95% confidence interval over seeds (Student's "
            + "t); a seed whose run diverged counts as chance. The first half of the test split is the validation set that "
            + "settings are chosen on (in the JSON, with each run's wall time and its teachers' drift per step).\n");
        return md.toString();
    }

}
