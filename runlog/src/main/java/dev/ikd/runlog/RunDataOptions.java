package dev.ikd.runlog;

import java.nio.file.Path;

import dev.ikd.core.data.Dataset;
import dev.ikd.learning.data.RunData;
import dev.ikd.proto.v1.DatasetSpec;
import picocli.CommandLine.Option;

/** Where a command that reads a run's log finds the run's data: as the run named it, or moved. */
public final class RunDataOptions {

    @Option(names = "--datasets-dir", defaultValue = "data", description = "Where fetched data sets live. Default: ${DEFAULT-VALUE}")
    Path datasetsDir;

    @Option(names = "--data", paramLabel = "PATH", description = "The run's table or image folder, when it is no longer where "
        + "the run read it (its checksum must match the run's).")
    Path dataPath;

    /** The data set of a run's enrollment, read as the run read it. */
    public Dataset load(DatasetSpec spec) {
        return RunData.load(spec, dataPath, datasetsDir);
    }
}
