package dev.ikd.coordinator.service;

import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.sign.RunManifest;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

import dev.ikd.proto.envelope.DeadLetters;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.JournalEntry;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.processor.Durability;
import dev.ikd.runtime.processor.Input;
import dev.ikd.runtime.processor.Machine;
import dev.ikd.runtime.processor.Positions;
import dev.ikd.runtime.processor.Service;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The coordinator's durability: its event journal on Kafka. Making a record durable appends it to
 * the journal (acknowledged by the brokers) before the commands it caused are sent; recovering
 * folds the journal through a fresh machine at the recorded times, sending nothing, and the
 * commands of the last entry become the outbox, sent again because their first sending may have
 * died with the process. Journal and replicated log together replace a checkpoint file: the
 * coordinator needs no disk of its own.
 */
final class JournalDurability implements Durability {

    private static final long APPEND_WAIT_S = 180;

    private final Producer<String, Envelope> producer;
    private final KafkaAccess kafka;
    private final RunManifest manifest;
    private final String runId;
    private final String serviceId;
    private final Clock clock;

    JournalDurability(Producer<String, Envelope> producer, KafkaAccess kafka, RunManifest manifest, String runId, String serviceId, Clock clock) {
        this.producer = producer;
        this.kafka = kafka;
        this.manifest = manifest;
        this.runId = runId;
        this.serviceId = serviceId;
        this.clock = clock;
    }

    @Override
    public <M extends Machine> Map<String, Recovered<M>> recover(Service<M> service, Predicate<String> belongs) {
        if (!belongs.test(runId)) {
            return Map.of();
        }
        List<JournalEntry> entries = Journal.read(kafka, manifest, runId, serviceId);
        if (entries.isEmpty()) {
            return Map.of(); // a new run: its machine is made when its first input arrives
        }
        M machine = service.fresh(runId);
        Positions covered = Positions.none();
        List<Envelope> last = List.of();
        for (JournalEntry j : entries) {
            Position at = new Position(j.getTopic(), j.getPartition(), j.getOffset());
            if (!j.getRejected().isEmpty()) {
                last = List.of(new DeadLetters(producer, serviceId, runId, clock).letter(j.getTopic(), j.getPartition(), j.getOffset(),
                    j.getEvent().getEventTimeMs(), j.getEvent().getStudentId(), Envelopes.encode(j.getEvent()), j.getRejected()).value());
            } else {
                try {
                    last = machine.apply(new Input(j.getEvent(), at, j.getNowMs()));
                } catch (RejectedMessageException e) {
                    throw new IllegalStateException("the journal of run " + runId + " does not replay: "
                        + j.getEvent().getIdempotencyKey() + " at " + at.partitionName() + "@" + at.offset() + " is now rejected: "
                        + e.getMessage(), e);
                }
            }
            covered.advance(at);
        }
        return Map.of(runId, new Recovered<>(machine, covered, last));
    }

    @Override
    public void record(Handled h) {
        Input in = h.input();
        var entry = JournalEntry.newBuilder().setTopic(in.at().topic()).setPartition(in.at().partition())
            .setOffset(in.at().offset()).setNowMs(in.nowMs()).setEvent(in.envelope());
        if (h.refusal() != null) {
            entry.setRejected(h.refusal());
        }
        Envelope e = Envelopes.header(runId, in.envelope().getStudentId(), in.envelope().getStep(), Kind.JOURNAL_ENTRY, serviceId,
            clock).setJournalEntry(entry).build();
        try {
            producer.send(new ProducerRecord<>(Topics.COORDINATOR_JOURNAL, Topics.keyOf(e), e)).get(APPEND_WAIT_S, TimeUnit.SECONDS);
        } catch (ExecutionException ex) {
            throw new IllegalStateException("cannot append to " + Topics.COORDINATOR_JOURNAL + ": " + ex.getCause(), ex.getCause());
        } catch (TimeoutException ex) {
            throw new IllegalStateException("no acknowledgement from " + Topics.COORDINATOR_JOURNAL + " after " + APPEND_WAIT_S + " s",
                ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while appending to " + Topics.COORDINATOR_JOURNAL, ex);
        }
    }
}
