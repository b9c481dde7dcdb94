package dev.ikd.launcher;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.sign.RunManifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ikd keys}: the signing keys and the manifest of a run whose services sign every message. */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = "Make a run's Ed25519 signing keys: manifest.properties (the coordinator's and the teacher's public keys) "
        + "and one private <id>.key per sender. Give each machine the manifest and only its own keys, then start its "
        + "services with --keys DIR.")
final class KeysCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the keys go (kept if already there).")
    Path out;

    @Option(names = "--run-id", required = true, description = "The run the keys are for.")
    String runId;

    @Option(names = "--students", defaultValue = "2", description = "How many students get a key. Default: ${DEFAULT-VALUE}")
    int students;

    @Override
    public Integer call() {
        if (students < 1) {
            throw new IllegalArgumentException("--students must be at least 1, got " + students);
        }
        if (!runId.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--run-id must be letters, digits, '.', '_' or '-', got '" + runId + "'");
        }
        RunManifest manifest = RunKeys.create(out, runId, students);
        System.out.printf("run %s: manifest and private keys of %s in %s%n", manifest.runId(),
            String.join(", ", RunKeys.identities(students)), out.toAbsolutePath());
        return 0;
    }
}
