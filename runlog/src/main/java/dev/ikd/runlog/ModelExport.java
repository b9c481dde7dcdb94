package dev.ikd.runlog;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.BytePairEncoding;
import dev.ikd.core.text.LmTraining;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.Presets;
import dev.ikd.learning.blocks.TeacherBlocks;
import dev.ikd.learning.data.RunData;
import dev.ikd.learning.export.LanguageModelFile;
import dev.ikd.learning.export.ModelCard;
import dev.ikd.learning.export.Safetensors;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.TeacherBlock;
import dev.ikd.runtime.checkpoint.CheckpointFiles;
import dev.ikd.student.LmStudent;
import dev.ikd.student.LmStudentLearner;
import dev.ikd.student.StudentLearner;

/**
 * A model of a run as a safetensors file with a JSON model card beside it: a student rebuilt from
 * the log (it must end on the hash its report names), the teacher from its blocks on the log, or
 * the teacher as one student's IKD shaped it (its copy of φ, or the frozen teacher and the adapter)
 * from the teacher's checkpoint of that student.
 */
public final class ModelExport {

    private ModelExport() {
    }

    /**
     * Which model: a student, the teacher ({@code student} and {@code teacherOf} null), or the teacher
     * one student shaped; {@code teacherId} names the teacher of several (teacher-a, ...), or is
     * {@code "teacher"}, the run's only one.
     */
    public record Which(String student, String teacherOf, String teacherId) {

        public static Which student(String id) {
            return new Which(id, null, "teacher");
        }

        public static Which teacher() {
            return teacher("teacher");
        }

        public static Which teacherOf(String id) {
            return teacherOf(id, "teacher");
        }

        /** Teacher {@code teacherId} of the run, as its students saw it at the start. */
        public static Which teacher(String teacherId) {
            return new Which(null, null, teacherId);
        }

        /** Teacher {@code teacherId} as IKD shaped it for student {@code id}. */
        public static Which teacherOf(String id, String teacherId) {
            return new Which(null, id, teacherId);
        }

        /** The model's name in the file and on the card: the student's id, {@code teacher} (or its id) or {@code teacher/ID}. */
        public String name() {
            return student != null ? student : teacherOf == null ? teacherId : teacherId + "/" + teacherOf;
        }
    }

    /**
     * What was written: the model's name and spec, its file and card, its tensors, and what it scores
     * on the test split (a language model's: the share of next tokens it ranks first).
     */
    public record Written(String name, String spec, Path file, Path card, int tensors, double testAccuracy, String paramSha256) {
    }

    /** What is exported: the network, its parameters (with an adapter's, for a teacher that has one), and its steps. */
    private record Exported(Network net, Params params, long steps) {
    }

    /**
     * Writes {@code which} of the run in {@code log} to {@code out} and its card beside it, on the
     * run's data as {@code load} reads it back. {@code teacherState} is the teacher's state
     * directory, needed for {@link Which#teacherOf}.
     */
    public static Written write(RunLog log, Which which, RunDataOptions load, Path teacherState, Path out) throws Exception {
        List<String> students = log.students();
        if (students.isEmpty()) {
            throw new IllegalArgumentException("the log holds no run '" + log.runId() + "' (no enrollment with that run id)");
        }
        String id = which.student() != null ? which.student() : which.teacherOf();
        if (id != null && !students.contains(id)) {
            throw new IllegalArgumentException("run " + log.runId() + " has no " + id + "; its students: "
                + String.join(", ", students));
        }
        Envelope enrollment = log.enrollment(id != null ? id : students.get(0));
        Dataset data = load.load(enrollment.getEnrollment().getDataset());
        if (Replay.isLanguageModel(enrollment)) {
            if (which.student() == null) {
                throw new IllegalArgumentException("run " + log.runId() + " distilled a language model: export a student (--student ID); "
                    + "its teacher is the model file it started from");
            }
            return languageModel(log, id, data, load.tokenizer(), out);
        }
        DataType type = Presets.forSource(RunData.source(enrollment.getEnrollment().getDataset())).type();
        try (NDManager manager = NDManager.newBaseManager()) {
            Exported model;
            if (which.student() != null) {
                try (StudentLearner student = Replay.finished(log, id, data, manager)) {
                    model = new Exported(student.network(), student.parameters().copy(manager), log.steps(id).size());
                }
            } else {
                model = teacher(log, which.teacherId(), which.teacherOf(), data, type, teacherState, manager);
            }
            double accuracy = Evaluation.testAccuracy(model.net(), model.params(), data, manager);
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> p : model.params().asMap().entrySet()) {
                tensors.put(p.getKey(), new Safetensors.Tensor(p.getValue().getShape().getShape(), p.getValue().toFloatArray()));
            }
            String name = which.name();
            ModelSpec spec = model.net().spec();
            Safetensors.write(out, tensors, Map.of("ikd.run_id", log.runId(), "ikd.model", name, "ikd.spec", spec.toString()));
            String fileSha = ModelCard.sha256Of(out);
            Dataset.Table t = data.table();
            String forward = ModelCard.forward(spec.family().name().toLowerCase(Locale.ROOT));
            if (model.params().names().contains(Evaluation.ADAPTER)) {
                forward += " With the adapter: logits -= tanh(h @ adapter.w1 + adapter.b1) @ adapter.w2 + adapter.b2, where h is "
                    + "what the head's dense layer takes (the flattened last stage).";
            }
            ModelCard card = new ModelCard(ModelCard.FORMAT, log.runId(), name, spec.toString(), forward, data.sampleShape(),
                t == null ? List.of() : t.featureNames(), t == null ? new double[0] : t.mean(), t == null ? new double[0] : t.std(),
                data.origin().source(), data.origin().options(), data.sha256(), data.classNames(), model.steps(),
                enrollment.getEnrollment().getHyperParameters().getTeacherMode(), accuracy, model.params().sha256(), fileSha,
                spec.isScript() ? ModelCard.sha256Of(spec.scriptFile()) : null);
            Path cardFile = ModelCard.beside(out);
            card.write(cardFile);
            model.params().close();
            return new Written(name, spec.toString(), out, cardFile, tensors.size(), accuracy, card.paramSha256());
        }
    }

    /**
     * A language model's student, rebuilt from the log, written as {@code ikd train --out} writes one:
     * safetensors, its card (with the test perplexity) and the tokenizer beside it, for {@code ikd generate}.
     */
    private static Written languageModel(RunLog log, String id, Dataset data, BytePairEncoding tokenizer, Path out) throws Exception {
        try (NDManager manager = NDManager.newBaseManager(); LmStudentLearner student = Replay.finishedLanguageModel(log, id, data, manager)) {
            LmStudent lm = student.student();
            int batch = log.enrollment(id).getEnrollment().getHyperParameters().getBatchSize();
            double[] tested = LmTraining.evaluate(lm.model(), student.parameters(), lm.sequences().test(), batch, manager);
            double perplexity = tested[0];
            double accuracy = tested[1];
            LanguageModelFile.Card card = LanguageModelFile.write(out, id, lm.model(), student.parameters(), tokenizer, data.name(),
                student.stepsDone(), perplexity);
            return new Written(id, lm.model().spec(), out, ModelCard.beside(out), student.parameters().names().size(), accuracy,
                card.paramSha256());
        }
    }

    private static Exported teacher(RunLog log, String teacherId, String id, Dataset data, DataType type, Path state,
                                    NDManager manager) throws Exception {
        String runId = log.runId();
        List<TeacherBlock> blocks = log.teacherBlocks(teacherId);
        if (blocks.isEmpty() || !blocks.get(0).hasModel()) {
            throw new IllegalArgumentException("run " + runId + " has no blocks of " + teacherId + " naming its model in the log"
                + (teacherId.equals("teacher") && !log.teacherBlocks("teacher-a").isEmpty()
                    ? " (the run has several teachers: name one with --teacher-id)" : ""));
        }
        ModelSpec spec = RunData.model(blocks.get(0).getModel());
        if (spec.isScript() && id == null) {
            throw new IllegalArgumentException("run " + runId + "'s teacher is the TorchScript module " + spec.script() + ": ikd "
                + "holds none of its parameters (export the adapter it learned for a student with --teacher-of ID)");
        }
        Network net;
        try {
            net = Network.build(spec, data);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (the teacher's file as the run named it: export where that "
                + "path holds it)", e);
        }
        Params teacher = TeacherBlocks.assemble(runId, blocks, net, type, manager);
        if (id == null) {
            return new Exported(net, teacher, 0);
        }
        if (state == null) {
            throw new IllegalArgumentException("--teacher-of needs the teacher's state: give --state-dir DIR (or --data-dir)");
        }
        CheckpointFiles files = CheckpointFiles.of(state, runId, teacherId);
        var loaded = files.load(id).orElseThrow(() -> new IllegalArgumentException("no teacher checkpoint of " + id + " in "
            + files.path()));
        PupilState pupil = loaded.checkpoint().getState().unpack(PupilState.class);
        if (!pupil.hasTrainable()) {
            throw new IllegalArgumentException("the teacher did not learn for " + id + " (mode "
                + log.enrollment(id).getEnrollment().getHyperParameters().getTeacherMode() + "): export --teacher instead");
        }
        Params learned = ParamsCodec.params(pupil.getTrainable(), manager);
        Map<String, NDArray> all = new LinkedHashMap<>(teacher.asMap());
        all.putAll(learned.asMap());
        return new Exported(net, new Params(all), pupil.getApplied() + 1);
    }
}
