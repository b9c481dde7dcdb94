package dev.ikd.launcher.service;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.sign.RunManifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ikd keys}: the signing keys and the manifest of a run whose services sign every message. */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = "Make a run's Ed25519 signing keys, one folder per role: DIR/<id>/ holds the run's manifest.properties (the "
        + "public keys of the coordinator, the teacher and every student, pinned) and that role's private <id>.key. Give each "
        + "machine its role's folder only (--keys DIR/student-0); DIR/manifest.properties, public keys only, is for replay "
        + "and export. Run again with more --students to add students; the keys made before are kept.")
public final class KeysCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the keys go (kept if already there).")
    Path out;

    @Option(names = "--run-id", required = true, description = "The run the keys are for.")
    String runId;

    @Option(names = "--students", defaultValue = "2", description = "How many students get a key. Default: ${DEFAULT-VALUE}")
    int students;

    @Option(names = "--teachers", defaultValue = "1", description = "How many teachers the run has: several get a key each "
        + "(teacher-a, teacher-b, ...). Default: ${DEFAULT-VALUE}")
    int teachers;

    @Override
    public Integer call() {
        if (teachers < 1 || teachers > 26) {
            throw new IllegalArgumentException("--teachers must be 1 to 26, got " + teachers);
        }
        if (students < 1) {
            throw new IllegalArgumentException("--students must be at least 1, got " + students);
        }
        if (!runId.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--run-id must be letters, digits, '.', '_' or '-', got '" + runId + "'");
        }
        RunManifest manifest = RunKeys.create(out, runId, students, teachers);
        System.out.printf("run %s: keys of %s, one folder each under %s (give each machine only its own: --keys %s); "
            + "%s there pins %d students%n", manifest.runId(), String.join(", ", RunKeys.identities(students, teachers)), out,
            out.resolve("<id>"), RunKeys.MANIFEST, manifest.students().size());
        return 0;
    }
}
