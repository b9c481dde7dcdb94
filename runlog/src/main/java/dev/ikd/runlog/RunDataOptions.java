package dev.ikd.runlog;

import java.nio.file.Path;

import dev.ikd.core.data.Dataset;
import dev.ikd.learning.data.RunData;
import dev.ikd.proto.v1.DatasetSpec;
import ai.djl.ndarray.NDManager;
import dev.ikd.core.text.BytePairEncoding;
import dev.ikd.core.text.LmData;
import dev.ikd.learning.export.LanguageModelFile;
import picocli.CommandLine.Option;

/** Where a command that reads a run's log finds the run's data: as the run named it, or moved. */
public final class RunDataOptions {

    @Option(names = "--datasets-dir", defaultValue = "data", description = "Where fetched data sets live. Default: ${DEFAULT-VALUE}")
    Path datasetsDir;

    @Option(names = "--data", paramLabel = "PATH", description = "The run's table or image folder, when it is no longer where "
        + "the run read it (its checksum must match the run's).")
    Path dataPath;

    @Option(names = "--teacher-checkpoint", paramLabel = "M.safetensors", description = "A language model's run: the teacher's model "
        + "file, whose tokenizer read the corpus.")
    Path teacherModel;

    /**
     * The data set of a run's enrollment, read as the run read it; a language model's corpus read by
     * the teacher's tokenizer and split by the run's seed (its checksum must match the run's).
     */
    public Dataset load(DatasetSpec spec) {
        if (!spec.getName().startsWith("lm:")) {
            return RunData.load(spec, dataPath, datasetsDir);
        }
        if (teacherModel == null) {
            throw new IllegalArgumentException("run on " + spec.getName() + " distilled a language model: pass the teacher's model file "
                + "(--teacher-checkpoint M.safetensors), whose tokenizer read the corpus");
        }
        BytePairEncoding tokenizer = tokenizer();
        Dataset data = LmData.read(spec.getName(), datasetsDir, spec.getSplitSeed(), tokenizer).dataset();
        if (!data.sha256().equals(spec.getSha256())) {
            throw new IllegalArgumentException(spec.getName() + " read by the tokenizer of " + teacherModel + " is " + data.sha256()
                + ", the run's is " + spec.getSha256() + ": another tokenizer, corpus or seed");
        }
        return data;
    }

    /** The tokenizer of the teacher's model file ({@code --teacher-checkpoint}), which read a language model's corpus. */
    public BytePairEncoding tokenizer() {
        try (NDManager manager = NDManager.newBaseManager()) {
            return LanguageModelFile.read(teacherModel, manager).tokenizer();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read " + teacherModel + ": " + e.getMessage());
        }
    }
}
