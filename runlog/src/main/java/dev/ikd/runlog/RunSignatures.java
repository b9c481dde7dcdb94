package dev.ikd.runlog;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.sign.RunManifest;
import picocli.CommandLine.Option;

/** Whose signatures a command that reads a run's log checks: the run's manifest, given or found. */
public final class RunSignatures {

    @Option(names = "--keys", paramLabel = "DIR", description = "Check every record's signature against the run's manifest in DIR "
        + "(default with --data-dir: DIR/keys/RUN when the run was signed); a record that fails is left out.")
    Path keys;

    /**
     * The run's manifest to check every record's signature against: from {@code --keys}, or found by
     * itself in a data directory when the run was signed; null when the run's records are not checked.
     */
    public RunManifest manifest(LogAccess.Options source, String runId) {
        Path signedBy = keys != null ? keys : source.dataDir() == null ? null : source.dataDir().resolve("keys").resolve(runId);
        return signedBy != null && (keys != null || Files.exists(signedBy.resolve(RunKeys.MANIFEST))) ? RunKeys.manifest(signedBy)
            : null;
    }
}
