package dev.ikd.runtime.processor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Abort;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.ServiceMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The outbox alone: where an envelope's records go, what a send waits for, and a send that fails. */
class OutboxTest {

    static Cluster fourPartitions() {
        Node node = new Node(0, "localhost", 9092);
        List<PartitionInfo> partitions = new java.util.ArrayList<>();
        for (String topic : Topics.ALL) {
            for (int p = 0; p < 4; p++) {
                partitions.add(new PartitionInfo(topic, p, node, new Node[] {node}, new Node[] {node}));
            }
        }
        return new Cluster("test", List.of(node), partitions, java.util.Set.of(), java.util.Set.of());
    }

    final MockProducer<String, Envelope> producer = new MockProducer<>(fourPartitions(), false, new StringSerializer(),
        new EnvelopeSerializer());
    final Context<Machine> c = new Context<>(new Processor.Settings("run-1", "coordinator", 8, 0, FaultPoints.NONE),
        new MockConsumer<>(OffsetResetStrategy.EARLIEST), producer, null, Durability.NONE,
        new ServiceMetrics(new SimpleMeterRegistry(), "coordinator"), Clock.systemUTC(), new Processor.Listener<>() {
        });
    final Outbox outbox = new Outbox(c);

    @Test
    void aStudentsRecordGoesToItsKindsTopicUnderItsKeyAndTheRunsEndToEveryPartition() {
        Envelope exam = Envelopes.header("run-1", "student-3", 2, Kind.EXAM_RESULT, "student-3", Clock.systemUTC())
            .setExamResult(ExamResult.getDefaultInstance()).build();
        assertThat(outbox.records(exam)).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo(Topics.EXAM_RESULTS);
            assertThat(r.key()).isEqualTo("student-3");
        });
        Envelope abort = Envelopes.header("run-1", "", 0, Kind.ABORT, "coordinator", Clock.systemUTC())
            .setAbort(Abort.newBuilder().setReason("r")).build();
        assertThat(outbox.records(abort)).extracting(r -> r.partition()).containsExactly(0, 1, 2, 3);
        assertThat(outbox.partitionOf(Topics.CONTROL, "student-3")).isEqualTo(
            org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2("student-3".getBytes())) % 4);
    }

    @Test
    void aSendCompletesOnceEveryRecordIsAcknowledgedAndAFailedOneStopsTheServiceWhenWaitedFor() throws Exception {
        Envelope abort = Envelopes.header("run-1", "", 0, Kind.ABORT, "coordinator", Clock.systemUTC())
            .setAbort(Abort.newBuilder().setReason("r")).build();
        var sent = outbox.send(List.of(abort));
        assertThat(producer.history()).hasSize(4).allSatisfy(r -> assertThat(r.value().getEventTimeUs()).isPositive());
        for (int i = 0; i < 3; i++) {
            producer.completeNext();
        }
        assertThat(sent).isNotDone();
        producer.completeNext();
        sent.get(5, TimeUnit.SECONDS);

        Envelope exam = Envelopes.header("run-1", "student-3", 2, Kind.EXAM_RESULT, "student-3", Clock.systemUTC())
            .setExamResult(ExamResult.getDefaultInstance()).build();
        Thread answer = new Thread(() -> outbox.sendAndWait(List.of(exam), "the exam result"));
        answer.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (producer.history().size() < 5 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        producer.errorNext(new org.apache.kafka.common.errors.TimeoutException("broker gone"));
        answer.join(10_000);
        assertThatThrownBy(() -> c.failure.get(5, TimeUnit.SECONDS)).cause().hasMessageContaining("cannot send the exam result: "
            + "org.apache.kafka.common.errors.TimeoutException: broker gone");
    }
}
