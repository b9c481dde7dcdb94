package dev.ikd.launcher.run;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.wiring.LanguageModels;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.StudentProgress;
import dev.ikd.wiring.Teachers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd train}: the in-process reference run, the same step functions the services call. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Run teacher pretraining (or load a teacher checkpoint) and the course/exam loop in one process; on a "
        + "language-model corpus (--dataset lm:...) distil a model from 'ikd pretrain' (--teacher-checkpoint M.safetensors) into "
        + "gpt: students.")
public final class TrainCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    RunOptions run;

    @Option(names = "--teacher-checkpoint", description = "A checkpoint from 'ikd pretrain' instead of pretraining now.")
    Path teacherCheckpoint;

    @Option(names = "--json", description = "Print one JSON object on stdout; progress stays on stderr.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "Language models: write each student there as a model file with its "
        + "card and tokenizer, for 'ikd generate'.")
    Path out;

    @Override
    public Integer call() throws java.io.IOException {
        if (LanguageModels.isCorpus(run.dataset)) {
            System.out.println(LanguageModels.distil(run, teacherCheckpoint, out).text(json));
            return 0;
        } else if (out != null) {
            throw new IllegalArgumentException("--out is for language models (--dataset lm:...), not " + run.dataset);
        }
        TrainConfig c = run.toConfig();
        Dataset data = run.loadDataset();
        TrainResult result;
        double teacherAccuracy;
        List<Teachers.Row> teacherRows;
        try (NDManager manager = run.newManager()) {
            List<Params> teachers = Teachers.obtainAll(c, data, teacherCheckpoint, manager, true);
            teacherRows = Teachers.rows(c, data, teachers, manager);
            teacherAccuracy = teacherRows.get(0).testAccuracy();
            List<String> ids = Services.studentIds(c.students());
            try (StudentProgress progress = new StudentProgress(ids, c.steps())) {
                result = ReferenceTrainer.run(c, data, teachers, manager, progress);
            }
        }
        if (json) {
            var o = new JsonObject();
            o.addProperty("dataset", data.name());
            o.addProperty("dataset_sha256", result.datasetSha256());
            o.addProperty("teacher_mode", c.mode().cliName());
            o.addProperty("seed", c.seed());
            o.addProperty("wall_s", result.wallSeconds());
            o.addProperty("teacher_test_accuracy", teacherAccuracy);
            o.add("teachers", Teachers.Row.json(teacherRows));
            var students = new JsonArray();
            for (TrainResult.StudentResult s : result.students()) {
                var so = new JsonObject();
                so.addProperty("id", s.id());
                so.addProperty("steps", s.steps());
                so.addProperty("test_accuracy", s.testAccuracy());
                so.addProperty("param_sha256", s.paramSha256());
                students.add(so);
            }
            o.add("students", students);
            System.out.println(o);
        } else {
            if (c.teachers().count() == 1) {
                System.out.printf("%s, teacher %s (test accuracy %.4f), mode %s, %d steps, seed %d, %.1f s%n", data.name(),
                    c.teacher(), teacherAccuracy, c.mode().cliName(), c.steps(), c.seed(), result.wallSeconds());
            } else {
                System.out.printf("%s, %d teachers weighed %s, mode %s, %d steps, seed %d, %.1f s%n", data.name(), c.teachers().count(),
                    c.teachers().weighting(), c.mode().cliName(), c.steps(), c.seed(), result.wallSeconds());
                System.out.print(Teachers.Row.lines(teacherRows));
            }
            System.out.printf("%-12s %-14s %s%n", "student", "test accuracy", "parameter sha256");
            for (TrainResult.StudentResult s : result.students()) {
                System.out.printf("%-12s %-14.4f %s%n", s.id(), s.testAccuracy(), s.paramSha256());
            }
        }
        return 0;
    }
}
