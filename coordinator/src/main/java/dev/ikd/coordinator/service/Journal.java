package dev.ikd.coordinator.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;

/** Reads one run's coordinator journal from the beginning to its current end, in the order it was written. */
public final class Journal {

    private Journal() {
    }

    public static List<JournalEntry> read(String bootstrap, String runId, String clientId) {
        List<JournalEntry> entries = new ArrayList<>();
        KafkaClients.readFromStart(bootstrap, List.of(Topics.COORDINATOR_JOURNAL), clientId + "-journal", Duration.ofSeconds(60),
            r -> {
                if (r.value() instanceof Decoded.Valid v && v.envelope().getKind() == Kind.JOURNAL_ENTRY
                    && runId.equals(v.envelope().getRunId())) {
                    entries.add(v.envelope().getJournalEntry());
                }
            }, null);
        return entries;
    }
}
