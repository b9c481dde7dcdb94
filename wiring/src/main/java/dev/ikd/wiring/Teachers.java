package dev.ikd.wiring;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.checkpoint.SavedLearner;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.Pretrain;
import dev.ikd.core.train.TeacherSet;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.StepListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Where a run's teacher comes from: a checkpoint from {@code ikd pretrain}, or pretraining now. */
public final class Teachers {

    private Teachers() {
    }

    /**
     * Every teacher of the run, in order: one from its checkpoint or pretrained now; several each
     * pretrained now from its own seed (a checkpoint holds one teacher).
     */
    public static List<Params> obtainAll(TrainConfig c, Dataset data, Path checkpoint, NDManager manager, boolean progress) {
        TeacherSet set = c.teachers();
        if (set.count() == 1) {
            return List.of(obtain(c, data, checkpoint, manager, progress));
        }
        if (checkpoint != null) {
            throw new IllegalArgumentException("--teacher-checkpoint holds one teacher; each of the run's " + set.count()
                + " teachers is pretrained from its own seed");
        }
        List<Params> out = new ArrayList<>();
        for (int k = 0; k < set.count(); k++) {
            out.add(obtain(c.ofTeacher(k), data, null, manager, progress));
        }
        return out;
    }

    /** One of the run's teachers as a run's summary names it: its id, model and test accuracy. */
    public record Row(String id, String model, double testAccuracy) {

        /** The run's teachers as {@code --json} lists them: id, model, test accuracy. */
        public static com.google.gson.JsonArray json(List<Row> rows) {
            var out = new com.google.gson.JsonArray();
            for (Row r : rows) {
                var t = new com.google.gson.JsonObject();
                t.addProperty("id", r.id());
                t.addProperty("model", r.model());
                t.addProperty("test_accuracy", r.testAccuracy());
                out.add(t);
            }
            return out;
        }

        /** The run's teachers, a line each. */
        public static String lines(List<Row> rows) {
            StringBuilder out = new StringBuilder();
            rows.forEach(r -> out.append(String.format("%-12s %-14.4f %s%n", r.id(), r.testAccuracy(), r.model())));
            return out.toString();
        }
    }

    /** The run's teachers ({@code pretrained}, in order) with their test accuracy. */
    public static List<Row> rows(TrainConfig c, Dataset data, List<Params> pretrained, NDManager manager) {
        List<Row> rows = new ArrayList<>();
        for (int k = 0; k < pretrained.size(); k++) {
            var spec = c.teachers().models().get(k);
            rows.add(new Row(Services.teacherId(c, k), spec.toString(), dev.ikd.core.train.Evaluation.testAccuracy(
                Network.build(spec, data), pretrained.get(k), data, manager)));
        }
        return rows;
    }

    public static Params obtain(TrainConfig c, Dataset data, Path checkpoint, NDManager manager, boolean progress) {
        Network net = Network.build(c.teacher(), data);
        if (net.isScript()) {
            return scripted(c, net);
        }
        if (checkpoint != null) {
            SavedLearner ckpt = SavedLearner.read(checkpoint, manager);
            String sha = ckpt.metadata().get("dataset_sha256");
            if (!data.sha256().equals(sha)) {
                throw new CheckpointException("teacher checkpoint " + checkpoint + " was trained on data set "
                    + ckpt.metadata().get("dataset") + " (" + sha + "), not " + data.name() + " (" + data.sha256() + ")");
            }
            Params theta = ckpt.group("theta");
            try (Params expected = net.init(0, c.type(), manager)) {
                SavedLearner.requireSameLayout(checkpoint, theta, expected);
            }
            return theta;
        }
        return pretrain(c, data, net, manager, progress);
    }

    /**
     * A user's TorchScript teacher: frozen, so it is not pretrained and ikd holds none of its
     * parameters; refused in the modes it cannot serve.
     */
    private static Params scripted(TrainConfig c, Network net) {
        if (c.mode() == TeacherMode.IKD) {
            throw new IllegalArgumentException("--teacher " + c.teacher() + " is frozen: use --teacher-mode frozen, pesf or "
                + "ikd-adapter (ikd learns the teacher's own parameters)");
        }
        if (c.swap().enabled()) {
            throw new IllegalArgumentException("--swap needs a teacher with stages ikd knows; " + c.teacher() + " has none");
        }
        if (c.mode().usesAdapter() && net.featureSize() == 0) {
            throw new IllegalArgumentException("--teacher-mode " + c.mode().cliName() + " needs the teacher's penultimate features: "
                + "return (logits, features) from forward, or name a method that gives them (" + c.teacher() + "#METHOD)");
        }
        return new Params(new java.util.LinkedHashMap<>());
    }

    public static Params pretrain(TrainConfig c, Dataset data, Network net, NDManager manager, boolean progress) {
        if (!progress) {
            return Pretrain.teacher(net, data, c.pretrain(), c.seed(), c.type(), manager, StepListener.NONE);
        }
        try (ProgressBar bar = bar("teacher " + c.teacher(), c.pretrain().steps())) {
            return Pretrain.teacher(net, data, c.pretrain(), c.seed(), c.type(), manager, new StepListener() {
                @Override
                public void onPretrainStep(long step, long total, double loss) {
                    bar.stepTo(step + 1);
                    bar.setExtraMessage(String.format(" loss %.3f", loss));
                }
            });
        }
    }

    public static void save(Path file, TrainConfig c, Dataset data, Params theta) {
        if (c.teacher().isScript()) {
            return; // the user's file is the teacher
        }
        new SavedLearner(c.pretrain().steps(), c.seed(), Map.of("role", "teacher", "spec", c.teacher().toString(),
            "dataset", data.name(), "dataset_sha256", data.sha256()), Map.of("theta", theta)).write(file);
    }

    static ProgressBar bar(String task, long total) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
            .setUpdateIntervalMillis(250).continuousUpdate().setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
            .build();
    }
}
