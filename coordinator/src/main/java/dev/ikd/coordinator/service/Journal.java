package dev.ikd.coordinator.service;

import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.sign.RunManifest;
import dev.ikd.proto.sign.Signatures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;

/**
 * A run's coordinator journal, {@code ikd.coordinator-journal}: every input the coordinator took,
 * in the order it took them, with where it was read and the time it was applied at; an input it
 * refused carries the reason. Folding the applied ones rebuilds the coordinator; they are also the
 * run's applied sequence, each step of each student exactly once.
 */
public final class Journal {

    /** How long reading a journal may take before it fails naming the topic. */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Journal() {
    }

    /** Every entry of {@code runId}'s journal, applied and refused, in order. */
    public static List<JournalEntry> read(KafkaAccess kafka, String runId, String clientId) {
        return read(kafka, null, runId, clientId);
    }

    /** The same, in a run that signs: an entry the coordinator did not sign is not the journal's, and is passed over. */
    public static List<JournalEntry> read(KafkaAccess kafka, RunManifest manifest, String runId, String clientId) {
        List<JournalEntry> entries = new ArrayList<>();
        KafkaClients.readFromStart(kafka, List.of(Topics.COORDINATOR_JOURNAL), clientId + "-journal", DEADLINE,
            r -> {
                if (r.value() instanceof Decoded.Valid v && v.envelope().getKind() == Kind.JOURNAL_ENTRY
                    && runId.equals(v.envelope().getRunId())
                    && Topics.misplaced(r.topic(), r.key(), v.envelope()) == null
                    && (manifest == null || Signatures.problem(manifest, v.envelope(), v.signed()) == null)) {
                    entries.add(v.envelope().getJournalEntry());
                }
            }, null);
        return entries;
    }

    /** The run's applied sequence: the entries of events the coordinator applied, in order. */
    public static List<JournalEntry> applied(KafkaAccess kafka, String runId, String clientId) {
        return read(kafka, runId, clientId).stream().filter(j -> j.getRejected().isEmpty()).toList();
    }
}
