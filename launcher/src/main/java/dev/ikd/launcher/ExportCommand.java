package dev.ikd.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.Evaluation;
import dev.ikd.core.train.Presets;
import dev.ikd.learning.blocks.TeacherBlocks;
import dev.ikd.learning.data.RunData;
import dev.ikd.learning.export.ModelCard;
import dev.ikd.learning.export.Safetensors;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.TeacherBlock;
import dev.ikd.runtime.checkpoint.CheckpointFiles;
import dev.ikd.student.StudentMachine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd export}: a model of a run as a safetensors file anyone can read, with a JSON model card
 * beside it. A student is rebuilt from the log (its course steps replayed, as {@code ikd replay
 * --verify} does) and must end on the hash its report names; the teacher comes from its blocks on
 * the log; the teacher as one student's IKD shaped it (its φ copy, or the frozen teacher and the
 * adapter) from the teacher's checkpoint of that student.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write a run's student, teacher, or the teacher one student shaped, as safetensors with a JSON model card.")
final class ExportCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    LogAccess.Options source;

    @Option(names = "--run", required = true, description = "The run id.")
    String runId;

    @Mixin
    RunSignatures signatures;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
        @Option(names = "--student", paramLabel = "ID", description = "The student to export, e.g. student-0.")
        String student;

        @Option(names = "--teacher", description = "The run's teacher as its students saw it at the start (from the log).")
        boolean teacher;

        @Option(names = "--teacher-of", paramLabel = "ID", description = "The teacher as IKD shaped it for student ID: its copy "
            + "of the teacher, or the teacher with the adapter (from the teacher's checkpoint; see --state).")
        String teacherOf;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE.safetensors",
        description = "The file to write; the model card goes beside it as FILE.json.")
    Path out;

    @Option(names = "--state", paramLabel = "DIR", description = "With --teacher-of: the teacher's state directory (default with "
        + "--data-dir: DIR/state).")
    Path state;

    @Mixin
    RunDataOptions runData;

    @Override
    public Integer call() throws Exception {
        if (!out.getFileName().toString().endsWith(".safetensors")) {
            throw new IllegalArgumentException("--out must end in .safetensors, got " + out);
        }
        // An id names a folder of the teacher's state: refused before any file is touched.
        for (String id : new String[] {which.student, which.teacherOf}) {
            if (id != null) {
                dev.ikd.proto.envelope.Envelopes.requireStudentId(id);
            }
        }
        var manifest = signatures.manifest(source, runId);
        return source.open(access -> export(RunLog.read(access, runId, manifest)));
    }

    private int export(RunLog log) throws Exception {
        List<String> students = log.students();
        if (students.isEmpty()) {
            throw new IllegalArgumentException("the log holds no run '" + runId + "' (no enrollment with that run id)");
        }
        String id = which.student != null ? which.student : which.teacherOf;
        if (id != null && !students.contains(id)) {
            throw new IllegalArgumentException("run " + runId + " has no " + id + "; its students: " + String.join(", ", students));
        }
        Envelope enrollment = log.enrollment(id != null ? id : students.get(0));
        DatasetSpec d = enrollment.getEnrollment().getDataset();
        Dataset data = runData.load(d);
        DataType type = Presets.forSource(RunData.source(d)).type();
        try (NDManager manager = NDManager.newBaseManager()) {
            Exported model = which.student != null ? student(log, id, enrollment, data, manager)
                : teacher(log, id, data, type, manager);
            double accuracy = Evaluation.testAccuracy(model.net(), model.params(), data, manager);
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> p : model.params().asMap().entrySet()) {
                tensors.put(p.getKey(), new Safetensors.Tensor(p.getValue().getShape().getShape(), p.getValue().toFloatArray()));
            }
            String name = which.student != null ? id : which.teacher ? "teacher" : "teacher/" + id;
            ModelSpec spec = model.net().spec();
            Safetensors.write(out, tensors, Map.of("ikd.run_id", runId, "ikd.model", name, "ikd.spec", spec.toString()));
            String fileSha = ModelCard.sha256Of(out);
            Dataset.Table t = data.table();
            String forward = ModelCard.forward(spec.family().name().toLowerCase(java.util.Locale.ROOT));
            if (model.params().names().contains(Evaluation.ADAPTER)) {
                forward += " With the adapter: logits -= tanh(h @ adapter.w1 + adapter.b1) @ adapter.w2 + adapter.b2, where h is "
                    + "what the head's dense layer takes (the flattened last stage).";
            }
            ModelCard card = new ModelCard(ModelCard.FORMAT, runId, name, spec.toString(), forward, data.sampleShape(),
                t == null ? List.of() : t.featureNames(), t == null ? new double[0] : t.mean(), t == null ? new double[0] : t.std(),
                data.origin().source(), data.origin().options(), data.sha256(), data.classNames(), model.steps(),
                enrollment.getEnrollment().getHyperParameters().getTeacherMode(), accuracy, model.params().sha256(), fileSha,
                spec.isScript() ? ModelCard.sha256Of(spec.scriptFile()) : null);
            Path cardFile = ModelCard.beside(out);
            card.write(cardFile);
            System.out.printf("exported %s of run %s: %s (%d tensors, %s), test accuracy %.4f, parameter sha256 %s%n", name, runId,
                out, tensors.size(), spec, accuracy, card.paramSha256());
            System.out.printf("model card: %s%n", cardFile);
            model.params().close();
            return 0;
        }
    }

    /** What is exported: the network, its parameters (with an adapter's, for a teacher that has one), and its steps. */
    private record Exported(Network net, Params params, long steps) {
    }

    private Exported student(RunLog log, String id, Envelope enrollment, Dataset data, NDManager manager) {
        List<RunLog.Step> steps = log.steps(id);
        long planned = enrollment.getEnrollment().getHyperParameters().getSteps();
        if (steps.size() < planned) {
            throw new IllegalArgumentException(id + " of run " + runId + " stops at step " + steps.size() + " of " + planned
                + " in the log; export takes a student that finished");
        }
        try (StudentMachine student = ReplayCommand.replayed(log, ReplayCommand.settingsOf(id, enrollment, data, null, null, planned),
            manager)) {
            student.apply(ReplayCommand.input(log.admitted(id).orElseThrow()));
            for (RunLog.Step s : steps) {
                student.relearnCourse(s.softTargets());
            }
            Envelope report = log.reports().get(id);
            String logged = report != null ? report.getStudentReport().getParamSha256()
                : steps.get(steps.size() - 1).examResult().getExamResult().getParamSha256();
            if (!student.parameterHash().equals(logged)) {
                throw new IllegalStateException(id + " rebuilt from the log ends on " + student.parameterHash() + ", but the log "
                    + "names " + logged + "; run 'ikd replay --verify' to find the step that differs");
            }
            return new Exported(student.network(), student.parameters().copy(manager), steps.size());
        }
    }

    private Exported teacher(RunLog log, String id, Dataset data, DataType type, NDManager manager) throws Exception {
        List<TeacherBlock> blocks = log.teacherBlocks();
        if (blocks.isEmpty() || !blocks.get(0).hasModel()) {
            throw new IllegalArgumentException("run " + runId + " has no teacher blocks naming the teacher's model in the log");
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
        Path dir = state != null ? state : source.dataDir() == null ? null : source.dataDir().resolve("state");
        if (dir == null) {
            throw new IllegalArgumentException("--teacher-of needs the teacher's state: give --state DIR (or --data-dir)");
        }
        CheckpointFiles files = CheckpointFiles.of(dir, runId, "teacher");
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
