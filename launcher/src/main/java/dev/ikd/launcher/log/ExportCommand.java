package dev.ikd.launcher.log;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.google.gson.JsonObject;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.runlog.LogAccess;
import dev.ikd.runlog.ModelExport;
import dev.ikd.runlog.RunDataOptions;
import dev.ikd.runlog.RunLog;
import dev.ikd.runlog.RunSignatures;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd export}: a model of a run as a safetensors file anyone can read, with a JSON model card
 * beside it ({@link ModelExport}). A student is rebuilt from the log (its course steps replayed, as
 * {@code ikd replay --verify} does) and must end on the hash its report names; the teacher comes
 * from its blocks on the log; the teacher as one student's IKD shaped it from the teacher's
 * checkpoint of that student.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write a run's student, teacher, or the teacher one student shaped, as safetensors with a JSON model card.")
public final class ExportCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    LogAccess.Options source;

    @Option(names = "--run-id", required = true, description = "The run id.")
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
            + "of the teacher, or the teacher with the adapter (from the teacher's checkpoint; see --state-dir).")
        String teacherOf;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE.safetensors",
        description = "The file to write; the model card goes beside it as FILE.json.")
    Path out;

    @Option(names = "--teacher-id", paramLabel = "teacher-a|teacher-b|...", description = "With --teacher or --teacher-of in a run "
        + "of several teachers: which teacher.")
    String teacherId;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "With --teacher-of: the teacher's state directory (default with "
        + "--data-dir: DIR/state).")
    Path state;

    @Mixin
    RunDataOptions runData;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of lines.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!out.getFileName().toString().endsWith(".safetensors")) {
            throw new IllegalArgumentException("--out must end in .safetensors, got " + out);
        }
        // An id names a folder of the teacher's state: refused before any file is touched.
        for (String id : new String[] {which.student, which.teacherOf}) {
            if (id != null) {
                Envelopes.requireStudentId(id);
            }
        }
        if (teacherId != null) {
            if (which.student != null) {
                throw new IllegalArgumentException("--teacher-id names a teacher: give it with --teacher or --teacher-of, not --student");
            }
            Envelopes.requireTeacherId(teacherId);
        }
        String teacher = teacherId == null ? "teacher" : teacherId;
        ModelExport.Which model = which.student != null ? ModelExport.Which.student(which.student)
            : which.teacher ? ModelExport.Which.teacher(teacher) : ModelExport.Which.teacherOf(which.teacherOf, teacher);
        Path teacherState = state != null ? state : source.dataDir() == null ? null : source.dataDir().resolve("state");
        var manifest = signatures.manifest(source, runId);
        ModelExport.Written w = source.open(access -> ModelExport.write(RunLog.read(access, runId, manifest), model, runData,
            teacherState, out));
        if (json) {
            var o = new JsonObject();
            o.addProperty("model", w.name());
            o.addProperty("run", runId);
            o.addProperty("file", w.file().toString());
            o.addProperty("tensors", w.tensors());
            o.addProperty("spec", String.valueOf(w.spec()));
            o.addProperty("test_accuracy", w.testAccuracy());
            o.addProperty("param_sha256", w.paramSha256());
            o.addProperty("card", w.card().toString());
            System.out.println(o);
            return 0;
        }
        System.out.printf("exported %s of run %s: %s (%d tensors, %s), test accuracy %.4f, parameter sha256 %s%n", w.name(), runId,
            w.file(), w.tensors(), w.spec(), w.testAccuracy(), w.paramSha256());
        System.out.printf("model card: %s%n", w.card());
        return 0;
    }
}
