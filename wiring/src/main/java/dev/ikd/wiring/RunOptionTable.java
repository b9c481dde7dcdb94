package dev.ikd.wiring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ListResourceBundle;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;

import dev.ikd.core.data.ImageFolders;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.train.TrainConfig;

/**
 * The run's options, one row each: its name (the option is {@code --NAME}, the config key
 * {@code NAME}), whether its default comes from the data set's preset, the commands that refuse it
 * (and why), and its value in a resolved run. Everything that lists run options is made from this
 * table: {@code --print-config} (and so the config keys), the preset values {@code --help} shows,
 * the refusals of options a command does not use, and the arguments each service's own JVM gets.
 * The picocli fields of {@link RunOptions} declare the type and the description; a test holds the
 * two to the same names.
 */
public final class RunOptionTable {

    private RunOptionTable() {
    }

    /**
     * One run option.
     *
     * @param preset   whether the data set's preset gives its default (and {@code --help} shows that value)
     * @param refusers the commands that do not use it, each with why; given on their command line it stops them with one line
     * @param resolved its value in a resolved run, or null where this run does not show it (a csv option of an image run)
     */
    public record Row(String name, boolean preset, Map<String, String> refusers, BiFunction<RunOptions, TrainConfig, Object> resolved) {

        public String option() {
            return "--" + name;
        }
    }

    private static final String PRETRAIN = "pretraining takes --teacher, --pretrain-steps, --dataset, --seed and --device; the "
        + "run's students, their steps and learning options belong to the run";
    private static final String COORDINATOR = "the coordinator checks the protocol and builds no model: model and learning "
        + "options belong to the teacher and the students";
    private static final String TEACHER = "a student's course settings reach the teacher in its enrollment: give them to the "
        + "student";
    private static final String STUDENT = "the teacher's own learning options belong to the teacher";
    private static final String LATE = "a teacher serves every step it is asked for; the students and the coordinator decide "
        + "when a step goes without a late one";

    private static final Map<String, String> NONE = Map.of();

    /** In the order {@code --print-config} prints them. */
    public static final List<Row> ROWS = List.of(
        row("dataset", NONE, (o, c) -> o.dataset),
        row("csv-header", NONE, (o, c) -> o.dataset.startsWith("csv:") ? o.csvHeader : null),
        row("label-column", NONE, (o, c) -> o.dataset.startsWith("csv:") ? (o.labelColumn == null ? "" : o.labelColumn) : null),
        row("image-size", NONE, (o, c) -> !o.dataset.startsWith("images:") ? null
            : o.imageSize == null ? ImageFolders.DEFAULT_SIZE : o.imageSize),
        row("image-channels", NONE, (o, c) -> !o.dataset.startsWith("images:") ? null
            : o.imageChannels == null ? "auto" : o.imageChannels),
        row("csv-max-cell", NONE, (o, c) -> o.csvMaxCell),
        row("csv-max-columns", NONE, (o, c) -> o.csvMaxColumns),
        row("csv-max-rows", NONE, (o, c) -> o.csvMaxRows),
        row("image-max-pixels", NONE, (o, c) -> o.imageMaxPixels),
        row("teacher-mode", NONE, (o, c) -> c.mode().cliName()),
        preset("teacher", Map.of("coordinator", COORDINATOR), (o, c) -> c.teacher()),
        row("teachers", Map.of("pretrain", "pretraining makes one teacher's checkpoint"), (o, c) -> c.teachers().count()),
        row("teacher-models", Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR, "student", STUDENT),
            (o, c) -> c.teachers().count() == 1 ? null : String.join(";", c.teachers().models().stream().map(Object::toString).toList())),
        row("teacher-weighting", Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR, "teacher", TEACHER),
            (o, c) -> c.teachers().count() == 1 ? null : c.teachers().weighting()),
        row("teachers-required", Map.of("pretrain", PRETRAIN, "teacher", LATE),
            (o, c) -> c.teachers().count() == 1 ? null : c.teachers().required()),
        row("teacher-deadline-ms", Map.of("pretrain", PRETRAIN, "teacher", LATE, "student", "the coordinator tells a student when "
            + "its step's deadline has passed: give it to the coordinator"),
            (o, c) -> c.teachers().degradable() ? c.teachers().deadlineMs() : null),
        preset("student", Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR, "teacher", TEACHER), (o, c) -> c.student()),
        row("students", Map.of("pretrain", PRETRAIN), (o, c) -> c.students()),
        row("soft-targets", Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR),
            (o, c) -> LanguageModels.isCorpus(o.dataset) ? (o.softTargets == null ? LanguageModels.DEFAULT_SOFT_TARGETS : o.softTargets)
                : null),
        row("steps", Map.of("pretrain", PRETRAIN), (o, c) -> c.steps()),
        row("seed", NONE, (o, c) -> c.seed()),
        preset("lr", studentLearning(), (o, c) -> c.studentConfig().learningRate()),
        preset("momentum", studentLearning(), (o, c) -> c.studentConfig().momentum()),
        preset("temperature", studentLearning(), (o, c) -> c.studentConfig().temperature()),
        preset("alpha", studentLearning(), (o, c) -> c.studentConfig().alpha()),
        preset("beta", teacherLearning(), (o, c) -> c.teacherConfig().beta()),
        preset("teacher-lr", teacherLearning(), (o, c) -> c.teacherConfig().learningRate()),
        // The student takes the leash too: its pilot=1 changes the protocol (the student's real course step waits for the
        // updated teacher), the other brakes it ignores.
        preset("teacher-leash", Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR), (o, c) -> c.teacherConfig().leash()),
        preset("batch", Map.of("coordinator", COORDINATOR, "teacher", TEACHER), (o, c) -> c.batchSize()),
        preset("exam-batch", studentLearning(), (o, c) -> c.examBatchSize()),
        preset("label-fraction", NONE, (o, c) -> c.labelFraction()),
        row("swap", Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR), (o, c) -> c.swap() == SwapSchedule.OFF ? null : c.swap()),
        preset("pretrain-steps", Map.of("coordinator", COORDINATOR, "student", STUDENT), (o, c) -> c.pretrain().steps()),
        row("prefetch", Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR, "teacher", "a frozen teacher sends as far "
            + "ahead as each student's enrollment asks: give --prefetch to the student"), (o, c) -> o.prefetch),
        row("device", Map.of("coordinator", COORDINATOR), (o, c) -> o.device),
        row("datasets-dir", NONE, (o, c) -> o.dataDir));

    private static Map<String, String> studentLearning() {
        return Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR, "teacher", TEACHER);
    }

    private static Map<String, String> teacherLearning() {
        return Map.of("pretrain", PRETRAIN, "coordinator", COORDINATOR, "student", STUDENT);
    }

    private static Row row(String name, Map<String, String> refusers, BiFunction<RunOptions, TrainConfig, Object> resolved) {
        return new Row(name, false, refusers, resolved);
    }

    private static Row preset(String name, Map<String, String> refusers, BiFunction<RunOptions, TrainConfig, Object> resolved) {
        return new Row(name, true, refusers, resolved);
    }

    /** The options that only {@code --print-config} itself is: no value of a run. */
    public static final Set<String> NOT_A_VALUE = Set.of("--print-config");

    /** The run as {@code options} resolve it, by name, in the table's order: what {@code --print-config} prints. */
    static Map<String, Object> resolved(RunOptions options) {
        TrainConfig c = options.toConfig();
        Map<String, Object> out = new LinkedHashMap<>();
        for (Row r : ROWS) {
            Object value = r.resolved().apply(options, c);
            if (value != null) {
                out.put(r.name(), value);
            }
        }
        return out;
    }

    /** The run options {@code command} refuses on its command line, each with why (empty: it takes them all). */
    public static Map<String, String> refusedBy(String command) {
        Map<String, String> out = new TreeMap<>();
        for (Row r : ROWS) {
            String why = r.refusers().get(command);
            if (why != null) {
                out.put(r.option(), why);
            }
        }
        return out;
    }

    /**
     * {@code args} as {@code command} takes them: a command line made for every service of a run
     * (run options and others alike) without the run options that command refuses, and their values.
     */
    public static List<String> forCommand(String command, List<String> args) {
        Map<String, String> refused = refusedBy(command);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (refused.containsKey(name)) {
                if (!a.contains("=")) {
                    i++; // its value goes with it
                }
                continue;
            }
            out.add(a);
        }
        return out;
    }

    /**
     * What {@code --help} says of the options whose default comes from a preset: each value this run
     * would take ({@code values}, from {@code preset}), or, with {@code values} null, that the data
     * set's preset decides. picocli reads it for the {@code ${ikd.preset.NAME}} in their descriptions.
     */
    public static ListResourceBundle presetHelp(String preset, Map<String, Object> values) {
        List<Object[]> entries = new ArrayList<>();
        for (Row r : ROWS) {
            if (r.preset()) {
                entries.add(new Object[] {"ikd.preset." + r.name(), values == null ? "the data set's preset"
                    : values.get(r.name()) + " (the " + preset + " preset; --dataset picks another)"});
            }
        }
        Object[][] contents = entries.toArray(Object[][]::new);
        return new ListResourceBundle() {
            @Override
            protected Object[][] getContents() {
                return contents;
            }
        };
    }

    private static final java.util.regex.Pattern TEACHER_MODEL = java.util.regex.Pattern.compile("teacher\\.([a-z])\\.model");

    /**
     * In a config file, several teachers' models, one key each ({@code teacher.a.model=SPEC}, {@code teacher.b.model=...}),
     * become {@code teacher-models} (and {@code teachers}, unless the file gives it): the keys must run
     * from teacher.a on without a gap, and not come with {@code teacher-models}.
     */
    public static void foldTeacherModels(java.util.Properties values, String where) {
        java.util.TreeMap<Character, String> models = new java.util.TreeMap<>();
        for (String key : values.stringPropertyNames()) {
            var m = TEACHER_MODEL.matcher(key);
            if (m.matches()) {
                models.put(m.group(1).charAt(0), values.getProperty(key).strip());
                values.remove(key);
            }
        }
        if (models.isEmpty()) {
            return;
        }
        if (values.getProperty("teacher-models") != null) {
            throw new IllegalArgumentException(where + ": give the teachers' models as teacher-models or as "
                + "teacher.a.model, teacher.b.model, ..., not both");
        }
        char expected = 'a';
        for (char id : models.keySet()) {
            if (id != expected) {
                throw new IllegalArgumentException(where + ": teacher." + id + ".model without teacher." + expected
                    + ".model (teachers are teacher-a, teacher-b, ... in order)");
            }
            expected++;
        }
        values.setProperty("teacher-models", String.join(";", models.values()));
        if (values.getProperty("teachers") == null) {
            values.setProperty("teachers", Integer.toString(models.size()));
        }
    }
}
