package dev.ikd.launcher;

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
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.TrainingListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd bench accuracy}: one teacher per seed, then every method under the same student budget,
 * for each student size and label setting. Writes bench/results/accuracy-DATASET.json and a table
 * in BENCHMARKS.md.
 */
@Command(name = "accuracy", mixinStandardHelpOptions = true,
    description = "Test accuracy of student alone, KD, IKD, IKD-adapter, PESF, IAKD and IAKD+IKD under one budget.")
final class AccuracyBench implements Callable<Integer> {

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
        description = "Methods to run. Default: ${DEFAULT-VALUE}")
    List<String> methods;

    @Option(names = "--iakd-swap", defaultValue = "0.5:linear", description = "Swap schedule of the IAKD methods. Default: ${DEFAULT-VALUE}")
    String iakdSwap;

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
        Dataset data = run.loadDataset();
        List<ModelSpec> sizes = studentSizes == null ? defaultSizes(base.student()) : studentSizes.stream().map(ModelSpec::parse).toList();
        SwapSchedule swap = SwapSchedule.parse(iakdSwap);
        methods.forEach(AccuracyBench::method);
        long t0 = System.nanoTime();
        Map<String, Row> rows = new LinkedHashMap<>();
        List<Double> teacherAccuracies = new ArrayList<>();
        try (NDManager manager = run.newManager()) {
            for (int s = 0; s < seeds; s++) {
                TrainConfig seeded = base.withSeed(base.seed() + s);
                long tt = System.nanoTime();
                Network net = Network.build(seeded.teacher(), data);
                Params teacher = Teachers.obtain(seeded, data, teacherCheckpoint, manager, false);
                double teacherAccuracy = Evaluation.testAccuracy(net, teacher, data, manager);
                teacherAccuracies.add(teacherAccuracy);
                System.err.printf("seed %d: teacher %s test accuracy %.4f (%.0f s)%n", seeded.seed(), seeded.teacher(),
                    teacherAccuracy, (System.nanoTime() - tt) / 1e9);
                for (ModelSpec size : sizes) {
                    for (double fraction : labelFractions) {
                        for (String m : methods) {
                            Method how = method(m);
                            TrainConfig c = seeded.withStudent(size).withLabelFraction(fraction)
                                .with(how.mode(), how.swap() ? swap : SwapSchedule.OFF, how.alone());
                            TrainResult r = ReferenceTrainer.run(c, data, teacher, manager, TrainingListener.NONE);
                            Row row = rows.computeIfAbsent(size + "|" + fraction + "|" + m, k -> new Row(size.toString(), fraction, m));
                            row.accuracies.add(r.meanStudentAccuracy());
                            row.wallSeconds.add(r.wallSeconds());
                            System.err.printf("  %-14s labels %-5s %-12s %.4f  (%.1f s)%n", size, fraction, m,
                                r.meanStudentAccuracy(), r.wallSeconds());
                        }
                    }
                }
                teacher.close();
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
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

    /** What a method name means: the teacher's mode, whether IAKD swaps stages, and whether there is no teacher at all. */
    private record Method(TeacherMode mode, boolean swap, boolean alone) {
    }

    private static Method method(String name) {
        return switch (name) {
            case "alone" -> new Method(TeacherMode.FROZEN, false, true);
            case "kd" -> new Method(TeacherMode.FROZEN, false, false);
            case "ikd" -> new Method(TeacherMode.IKD, false, false);
            case "ikd-adapter" -> new Method(TeacherMode.IKD_ADAPTER, false, false);
            case "pesf" -> new Method(TeacherMode.PESF, false, false);
            case "iakd" -> new Method(TeacherMode.FROZEN, true, false);
            case "iakd+ikd" -> new Method(TeacherMode.IKD, true, false);
            default -> throw new IllegalArgumentException("unknown method '" + name
                + "'; known: alone, kd, ikd, ikd-adapter, pesf, iakd, iakd+ikd");
        };
    }

    private static final class Row {
        final String student;
        final double labelFraction;
        final String method;
        final List<Double> accuracies = new ArrayList<>();
        final List<Double> wallSeconds = new ArrayList<>();

        Row(String student, double labelFraction, String method) {
            this.student = student;
            this.labelFraction = labelFraction;
            this.method = method;
        }

        double mean() {
            return accuracies.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        double std() {
            double m = mean();
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
        String command = "ikd bench accuracy --dataset " + run.dataset + reading + " --seeds " + seeds + " --steps " + base.steps()
            + (tag == null ? "" : " --tag " + tag) + (teacherCheckpoint == null ? "" : " --teacher-checkpoint TEACHER") + (run.teacherLr == null ? "" : " --teacher-lr " + run.teacherLr)
            + (run.beta == null ? "" : " --beta " + run.beta) + (run.temperature == null ? "" : " --temperature " + run.temperature)
            + (run.examBatch == null ? "" : " --exam-batch " + run.examBatch) + (run.pretrainSteps == null ? "" : " --pretrain-steps " + run.pretrainSteps)
            + (methods.equals(List.of("alone", "kd", "ikd", "ikd-adapter", "pesf", "iakd", "iakd+ikd")) ? "" : " --methods " + String.join(",", methods))
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
        budget.addProperty("iakd_swap", iakdSwap);
        o.add("budget", budget);
        var teachers = new JsonArray();
        teacherAccuracies.forEach(teachers::add);
        o.add("teacher_test_accuracy", teachers);
        var jsonRows = new JsonArray();
        for (Row r : rows.values()) {
            var jr = new JsonObject();
            jr.addProperty("student", r.student);
            jr.addProperty("label_fraction", r.labelFraction);
            jr.addProperty("method", r.method);
            var acc = new JsonArray();
            r.accuracies.forEach(acc::add);
            jr.add("test_accuracy", acc);
            jr.addProperty("mean", r.mean());
            jr.addProperty("std", r.std());
            jr.addProperty("wall_s_per_run", r.wall());
            jsonRows.add(jr);
        }
        o.add("rows", jsonRows);
        // A table's file name without its extension (breast-cancer.csv: breast-cancer) names its results.
        output.record("accuracy-" + data.name().replaceFirst("\\.(csv|tsv|CSV|TSV)$", "") + (tag == null ? "" : "-" + tag), o,
            table(data, command, machine, base, rows, teacherAccuracies, wall));
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
            .append(", β ").append(base.teacherConfig().beta()).append(", IAKD swap ").append(iakdSwap).append(".\n\n");
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
                md.append(" | ").append(r == null ? "" : String.format(Locale.ROOT, "%.4f ± %.4f (%.0f s)", r.mean(), r.std(), r.wall()));
            }
            md.append(" |\n");
        }
        md.append("\nCells: test accuracy, mean ± std over seeds (wall time of one run).\n");
        return md.toString();
    }

}
