package dev.ikd.runtime.processor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Int64Value;
import com.google.protobuf.Message;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeSerializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.ExamResult;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.ServiceMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The durable processor's guarantees, with Kafka's own mock clients failing exactly where each test
 * means them to: the order of apply, checkpoint, send and commit; refusals and malformed input as
 * dead letters that change nothing; crash-only stops; backpressure; recovery from a checkpoint;
 * fault points.
 */
class ProcessorTest {

    static final String RUN = "run-1";
    static final String ME = "student-0";
    static final TopicPartition CONTROL = new TopicPartition(Topics.CONTROL, 0);

    /** A machine that counts what it applied and answers each CourseStart(k) with ExamResult(k). */
    static final class Counter implements Machine {
        final List<Long> applied = Collections.synchronizedList(new ArrayList<>());
        final List<String> events;
        volatile CountDownLatch gate;
        volatile boolean tickFails;
        long count;

        Counter(long count, List<String> events) {
            this.count = count;
            this.events = events;
        }

        @Override
        public List<Envelope> apply(Input input) {
            Envelope e = input.envelope();
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    throw new IllegalStateException(ex);
                }
            }
            if (e.getStep() == 666) {
                throw new IllegalStateException("a bug");
            }
            if (e.getStep() == 777) {
                throw new RejectedMessageException(null); // a refusal with no reason: its dead letter cannot be built
            }
            if (e.getStep() >= 100) {
                throw new RejectedMessageException("out of order: step " + e.getStep());
            }
            count++;
            applied.add(e.getStep());
            events.add("apply " + e.getStep());
            if (e.getKind() == Kind.ABORT) {
                // A large input's answer is as large: it carries the reason back.
                return List.of(answer(e.getStep()).toBuilder().setExamResult(ExamResult.newBuilder()
                    .setParamSha256(e.getAbort().getReason())).build());
            }
            return List.of(answer(e.getStep()));
        }

        @Override
        public List<Envelope> tick(long nowMs) {
            if (tickFails) {
                throw new IllegalStateException("a tick's bug");
            }
            return List.of();
        }

        @Override
        public Message state() {
            return Int64Value.of(count);
        }
    }

    final List<String> events = Collections.synchronizedList(new ArrayList<>());
    final Map<String, Counter> made = new HashMap<>();

    final Service<Counter> service = new Service<>() {
        @Override
        public String skip(Envelope e) {
            return e.getKind() == Kind.COURSE_START || e.getKind() == Kind.ABORT ? null : "not_mine";
        }

        @Override
        public String keyOf(Envelope e) {
            return e.getStudentId();
        }

        @Override
        public Counter fresh(String key) {
            Counter c = new Counter(0, events);
            made.put(key, c);
            return c;
        }

        @Override
        public Counter restore(String key, Any state) {
            try {
                Counter c = new Counter(state.unpack(Int64Value.class).getValue(), events);
                made.put(key, c);
                return c;
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    /** Durability in memory: what was recorded, in order, and what the producer had sent at that moment. */
    final class Saved implements Durability {
        final Map<String, Recovered<Counter>> before = new HashMap<>();
        final List<Handled> recorded = Collections.synchronizedList(new ArrayList<>());
        volatile RuntimeException failure;

        @Override
        @SuppressWarnings("unchecked")
        public <M extends Machine> Map<String, Recovered<M>> recover(Service<M> s, Predicate<String> belongs) {
            Map<String, Recovered<M>> out = new HashMap<>();
            before.forEach((k, r) -> {
                if (belongs.test(k)) {
                    out.put(k, (Recovered<M>) r);
                }
            });
            return out;
        }

        @Override
        public void record(Handled h) {
            if (failure != null) {
                throw failure;
            }
            events.add("checkpoint " + h.input().envelope().getStep() + " (sent so far: " + producer.history().size() + ")");
            recorded.add(h);
        }
    }

    /**
     * A mock consumer that behaves like one reading a log: it waits a little when it has nothing,
     * a seek reads the records from there again, the group's offsets can be set before it is
     * assigned, and its commits can be read after it closed.
     */
    static final class Consumer extends MockConsumer<String, Decoded> {
        final Map<TopicPartition, Long> commits = new java.util.concurrent.ConcurrentHashMap<>();
        final Map<TopicPartition, OffsetAndMetadata> groupOffsets = new java.util.concurrent.ConcurrentHashMap<>();
        final List<ConsumerRecord<String, Decoded>> log = new ArrayList<>();
        final java.util.concurrent.atomic.AtomicInteger pauses = new java.util.concurrent.atomic.AtomicInteger();

        Consumer() {
            super(OffsetResetStrategy.EARLIEST);
        }

        @Override
        public synchronized void addRecord(ConsumerRecord<String, Decoded> record) {
            log.add(record);
            super.addRecord(record);
        }

        @Override
        public synchronized void pause(java.util.Collection<TopicPartition> partitions) {
            pauses.incrementAndGet();
            super.pause(partitions);
        }

        @Override
        public synchronized void seek(TopicPartition tp, long offset) {
            super.seek(tp, offset);
            for (ConsumerRecord<String, Decoded> r : log) {
                if (r.topic().equals(tp.topic()) && r.partition() == tp.partition() && r.offset() >= offset) {
                    super.addRecord(r);
                }
            }
        }

        @Override
        public synchronized Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
            Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>(super.committed(partitions));
            groupOffsets.forEach((tp, o) -> {
                if (partitions.contains(tp)) {
                    out.putIfAbsent(tp, o);
                }
            });
            return out;
        }

        @Override
        public synchronized void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets,
                                             org.apache.kafka.clients.consumer.OffsetCommitCallback callback) {
            offsets.forEach((tp, o) -> commits.put(tp, o.offset()));
            super.commitAsync(offsets, callback);
        }

        @Override
        public synchronized ConsumerRecords<String, Decoded> poll(Duration timeout) {
            ConsumerRecords<String, Decoded> r = super.poll(timeout);
            if (r.isEmpty()) {
                try {
                    wait(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return r;
        }
    }

    final Consumer consumer = new Consumer();
    final MockProducer<String, Envelope> producer = new MockProducer<>(cluster(), false, new StringSerializer(),
        new EnvelopeSerializer());
    final Saved saved = new Saved();
    final ExecutorService workers = Executors.newFixedThreadPool(2);
    final List<FaultPoints.Fault> halts = Collections.synchronizedList(new ArrayList<>());
    Processor<Counter> processor;
    int maxRecordBytes = dev.ikd.runtime.KafkaTuning.DEFAULT_MAX_RECORD_BYTES;

    @AfterEach
    void close() {
        acknowledgeAll();
        if (processor != null) {
            processor.close();
        }
        workers.shutdownNow();
    }

    static Cluster cluster() {
        Node node = new Node(0, "localhost", 9092);
        List<PartitionInfo> partitions = new ArrayList<>();
        for (String topic : Topics.ALL) {
            partitions.add(new PartitionInfo(topic, 0, node, new Node[] {node}, new Node[] {node}));
        }
        return new Cluster("test", List.of(node), partitions, Set.of(), Set.of());
    }

    static Envelope courseStart(long step) {
        return Envelopes.header(RUN, ME, step, Kind.COURSE_START, "coordinator", Clock.systemUTC())
            .setCourseStart(CourseStart.getDefaultInstance()).build();
    }

    static Envelope answer(long step) {
        return Envelopes.header(RUN, ME, step, Kind.EXAM_RESULT, ME, Clock.systemUTC())
            .setExamResult(ExamResult.newBuilder().setParamSha256("h" + step)).build();
    }

    Processor<Counter> start(int bound, FaultPoints faults) {
        return start(bound, faults, 1);
    }

    Processor<Counter> start(int bound, FaultPoints faults, int unacked) {
        processor = new Processor<>(new Processor.Settings(RUN, ME, bound, 0, faults, unacked).withMaxRecordBytes(maxRecordBytes),
            new Processor.Inputs.OwnPartition(Set.of(Topics.CONTROL), ME), consumer, producer, service, saved,
            new ServiceMetrics(new SimpleMeterRegistry(), "student"), workers, Clock.systemUTC(), new Processor.Listener<>() {
            });
        consumer.updateBeginningOffsets(Map.of(CONTROL, 0L));
        processor.start().join();
        return processor;
    }

    Processor<Counter> start() {
        return start(64, FaultPoints.NONE);
    }

    void give(long offset, Decoded value) {
        consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(Topics.CONTROL, 0, offset, ME, value)));
    }

    void give(long offset, Envelope e) {
        give(offset, new Decoded.Valid(e));
    }

    long committed() {
        return consumer.commits.getOrDefault(CONTROL, -1L);
    }

    /** Completes every send the producer holds, as the brokers' acknowledgements would. */
    void acknowledgeAll() {
        while (producer.completeNext()) {
            // one acknowledgement per sent record
        }
    }

    List<ProducerRecord<String, Envelope>> sentTo(String topic) {
        return producer.history().stream().filter(r -> r.topic().equals(topic)).toList();
    }

    /** A learner applies its next records while the answers of the ones before are on their way, up to a bound. */
    @Nested
    class Unacknowledged {
        @Test
        void theNextRecordsAreAppliedBeforeTheFirstAnswersAreAcknowledgedAndTheCheckpointKeepsThemAll() throws Exception {
            start(64, FaultPoints.NONE, 3);
            for (int k = 0; k < 5; k++) {
                give(k, courseStart(k));
            }
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 3);
            Thread.sleep(200);
            assertThat(made.get(ME).applied).as("three in flight at most: 3 waits for 0's acknowledgement").containsExactly(0L, 1L, 2L);
            assertThat(saved.recorded.get(2).outbox()).as("record 2's checkpoint sends every unacknowledged answer again")
                .extracting(Envelope::getStep).containsExactly(0L, 1L, 2L);
            assertThat(committed()).as("nothing is committed past an unacknowledged answer").isLessThan(1);

            assertThat(producer.completeNext()).isTrue();
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 4);
            assertThat(saved.recorded.get(3).outbox()).extracting(Envelope::getStep).containsExactly(1L, 2L, 3L);
            await().atMost(5, TimeUnit.SECONDS).until(() -> committed() == 1);
            await().atMost(10, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return committed() == 5;
            });
            assertThat(sentTo(Topics.EXAM_RESULTS)).extracting(r -> r.value().getStep()).containsExactly(0L, 1L, 2L, 3L, 4L);
        }

        @Test
        void anEarlierRecordsFailedSendStopsTheServiceAndNothingPastItIsCommitted() {
            start(64, FaultPoints.NONE, 3);
            give(0, courseStart(0));
            give(1, courseStart(1));
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 2);
            producer.errorNext(new TimeoutException("Expiring 1 record(s) after 120000 ms"));
            await().atMost(5, TimeUnit.SECONDS).until(() -> processor.failure().isCompletedExceptionally());
            assertThatThrownBy(() -> processor.failure().join()).hasMessageContaining(
                "cannot send the answers to run-1/student-0/0/course_start: org.apache.kafka.common.errors.TimeoutException");
            acknowledgeAll();
            assertThat(committed()).isLessThan(1);
        }
    }

    @Nested
    class Order {
        @Test
        void aRecordIsAppliedThenCheckpointedThenSentThenCommitted() {
            start();
            give(0, courseStart(0));
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 1);
            assertThat(events).containsExactly("apply 0", "checkpoint 0 (sent so far: 0)");
            assertThat(committed()).as("nothing is committed before the answer is acknowledged").isNotEqualTo(1);

            acknowledgeAll();
            await().atMost(5, TimeUnit.SECONDS).until(() -> committed() == 1);
            assertThat(sentTo(Topics.EXAM_RESULTS)).singleElement().satisfies(r -> assertThat(r.value().getStep()).isZero());
            assertThat(saved.recorded).singleElement().satisfies(h -> {
                assertThat(h.covered().asMap()).containsEntry("ikd.control/0", 1L);
                assertThat(h.outbox()).extracting(Envelope::getKind).containsExactly(Kind.EXAM_RESULT);
            });
        }

        @Test
        void oneKeysRecordsAreHandledInTheOrderTheyArrive() {
            start();
            for (int k = 0; k < 20; k++) {
                give(k, courseStart(k));
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return committed() == 20;
            });
            assertThat(made.get(ME).applied).containsExactlyElementsOf(java.util.stream.LongStream.range(0, 20).boxed().toList());
        }
    }

    @Nested
    class BadInput {
        @Test
        void aRefusalIsDeadLetteredWithItsReasonChangesNothingAndIsCovered() {
            start();
            give(0, courseStart(0));
            give(1, courseStart(100));
            await().atMost(5, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return committed() == 2;
            });
            assertThat(made.get(ME).count).isEqualTo(1);
            assertThat(sentTo(Topics.DEAD_LETTER)).singleElement().satisfies(r -> {
                assertThat(r.value().getDeadLetter().getReason()).isEqualTo("out of order: step 100");
                assertThat(r.value().getDeadLetter().getOffset()).isEqualTo(1);
                assertThat(Envelopes.decode(r.value().getDeadLetter().getRawValue().toByteArray()).getIdempotencyKey())
                    .isEqualTo("run-1/student-0/100/course_start");
            });
            // The refusal is in the checkpoint: a restart does not refuse it a second time.
            Durability.Handled last = saved.recorded.get(1);
            assertThat(last.refusal()).isEqualTo("out of order: step 100");
            assertThat(last.covered().asMap()).containsEntry("ikd.control/0", 2L);
        }

        @Test
        void aMalformedRecordIsDeadLetteredAndAnotherRunsIsSkipped() {
            start();
            give(0, new Decoded.Malformed(new byte[] {1, 2}, "not a protobuf Envelope: truncated"));
            give(1, courseStart(0).toBuilder().setRunId("other").setIdempotencyKey(
                Envelopes.idempotencyKey("other", ME, 0, Kind.COURSE_START)).build());
            await().atMost(5, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return committed() == 2;
            });
            assertThat(sentTo(Topics.DEAD_LETTER)).singleElement().satisfies(r ->
                assertThat(r.value().getDeadLetter().getReason()).isEqualTo("not a protobuf Envelope: truncated"));
            assertThat(made.get(ME).count).isZero();
            assertThat(saved.recorded).isEmpty();
        }
    }

    @Nested
    class CrashOnly {
        @Test
        void anExceptionInAHandlerStopsTheServiceWithNothingSentOrCommitted() {
            start();
            give(0, courseStart(666));
            assertStopped("handling run-1/student-0/666/course_start from ikd.control/0@0 failed: "
                + "java.lang.IllegalStateException: a bug");
            assertThat(producer.history()).isEmpty();
            assertThat(saved.recorded).isEmpty();
            assertThat(committed()).isNotEqualTo(1);
        }

        @Test
        void aCheckpointThatCannotBeWrittenStopsTheServiceBeforeAnythingIsSent() {
            start();
            saved.failure = new java.io.UncheckedIOException("cannot write checkpoint x: No space left on device",
                new java.io.IOException("No space left on device"));
            give(0, courseStart(0));
            assertStopped("cannot make the state of student-0 durable: cannot write checkpoint x: No space left on device");
            assertThat(producer.history()).isEmpty();
            assertThat(committed()).isNotEqualTo(1);
        }

        @Test
        void aSendThatFailsAfterTheClientsRetriesStopsTheServiceAndLeavesTheOffset() {
            start();
            give(0, courseStart(0));
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 1);
            producer.errorNext(new TimeoutException("Expiring 1 record(s) after 120000 ms"));
            assertStopped("cannot send the answers to run-1/student-0/0/course_start: "
                + "org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) after 120000 ms");
            assertThat(committed()).isNotEqualTo(1);
        }

        @Test
        void aDeadLetterThatCannotBeSentStopsTheService() {
            start();
            give(0, new Decoded.Malformed(new byte[] {9}, "garbage"));
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 1);
            producer.errorNext(new TimeoutException("broker gone"));
            assertStopped("cannot dead-letter ikd.control/0@0: org.apache.kafka.common.errors.TimeoutException: broker gone");
            assertThat(committed()).isNotEqualTo(1);
        }

        /** What a listener throws after the acknowledgements is a bug like any other: the service stops, it does not hang. */
        @Test
        void anExceptionInAListenerAfterTheAcknowledgementStopsTheService() {
            startWith(0, new Processor.Listener<>() {
                @Override
                public void handled(String key, Counter machine, Input input) {
                    throw new IllegalStateException("a listener's bug");
                }
            });
            give(0, courseStart(0));
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 1);
            acknowledgeAll();
            assertStopped("a task of student-0 failed: java.lang.IllegalStateException: a listener's bug");
        }

        /** A refusal whose dead letter cannot even be built (a machine refusing with no reason) stops the service. */
        @Test
        void anExceptionWhileBuildingADeadLetterStopsTheService() {
            start();
            give(0, courseStart(777));
            assertStopped("a task of student-0 failed: java.lang.NullPointerException");
            assertThat(committed()).isNotEqualTo(1);
        }

        @Test
        void anExceptionInAMachinesTickStopsTheService() {
            startWith(20, new Processor.Listener<>() {
            });
            give(0, courseStart(0));
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 1);
            acknowledgeAll();
            made.get(ME).tickFails = true;
            assertStopped("a task of student-0 failed: java.lang.IllegalStateException: a tick's bug");
        }

        Processor<Counter> startWith(long tickMs, Processor.Listener<Counter> listener) {
            processor = new Processor<>(new Processor.Settings(RUN, ME, 64, tickMs, FaultPoints.NONE, 1),
                new Processor.Inputs.OwnPartition(Set.of(Topics.CONTROL), ME), consumer, producer, service, saved,
                new ServiceMetrics(new SimpleMeterRegistry(), "student"), workers, Clock.systemUTC(), listener);
            consumer.updateBeginningOffsets(Map.of(CONTROL, 0L));
            processor.start().join();
            return processor;
        }

        void assertStopped(String reason) {
            assertThatThrownBy(() -> processor.failure().get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(ServiceStoppedException.class)
                .cause().hasMessageStartingWith("student-0 stopped: " + reason);
        }
    }

    @Nested
    class Sending {
        /** KAFKA-14359: a second record to a new partition must not overtake a first that is being retried. */
        @Test
        void inTurnSendsEachRecordOnlyOnceTheOneBeforeIsAcknowledged() {
            start();
            CompletableFuture<Void> sent = processor.sendInTurn(List.of(answer(0), answer(1), answer(2)));
            assertThat(sentTo(Topics.EXAM_RESULTS)).hasSize(1);
            producer.completeNext();
            await().atMost(5, TimeUnit.SECONDS).until(() -> sentTo(Topics.EXAM_RESULTS).size() == 2);
            producer.completeNext();
            await().atMost(5, TimeUnit.SECONDS).until(() -> sentTo(Topics.EXAM_RESULTS).size() == 3);
            assertThat(sent).isNotDone();
            producer.completeNext();
            await().atMost(5, TimeUnit.SECONDS).until(sent::isDone);
            assertThat(sentTo(Topics.EXAM_RESULTS)).extracting(r -> r.value().getStep()).containsExactly(0L, 1L, 2L);
        }
    }

    @Nested
    class Backpressure {
        @Test
        void aFullPartitionIsPausedAndResumesWhenItDrains() {
            start(2, FaultPoints.NONE);
            Counter c = (Counter) processor.machine(ME);
            c.gate = new CountDownLatch(1);
            for (int k = 0; k < 6; k++) {
                give(k, courseStart(k));
            }
            await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.paused().contains(CONTROL));
            // Held at the bound: the machine is stuck on the first record and no more than two were taken.
            assertThat(c.applied).isEmpty();

            c.gate.countDown();
            await().atMost(10, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return committed() == 6;
            });
            assertThat(c.applied).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
            assertThat(consumer.paused()).isEmpty();
        }

        /** A new run on a shared log reads every older run's records first: they must not pause it again and again. */
        @Test
        void recordsOfOtherRunsArePassedOverWithoutEverFillingThePartition() {
            start(2, FaultPoints.NONE);
            consumer.schedulePollTask(() -> {
                for (int i = 0; i < 500; i++) {
                    Envelope old = courseStart(i).toBuilder().setRunId("older-run")
                        .setIdempotencyKey(Envelopes.idempotencyKey("older-run", ME, i, Kind.COURSE_START)).build();
                    consumer.addRecord(new ConsumerRecord<>(Topics.CONTROL, 0, i, ME, new Decoded.Valid(old)));
                }
                consumer.addRecord(new ConsumerRecord<>(Topics.CONTROL, 0, 500, ME, new Decoded.Valid(courseStart(0))));
            });
            Counter c = (Counter) processor.machine(ME);
            await().atMost(10, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return committed() == 501;
            });
            assertThat(c.applied).containsExactly(0L);
            assertThat(consumer.pauses.get()).as("pauses").isZero();
        }
    }

    @Nested
    class Recovery {
        @Test
        void aRestartLoadsTheCheckpointSendsItsLastAnswersAgainAndSeeksToWhatItCovers() {
            saved.before.put(ME, new Durability.Recovered<>(new Counter(3, events), new Positions(Map.of("ikd.control/0", 3L), 3),
                List.of(answer(2))));
            consumer.groupOffsets.put(CONTROL, new OffsetAndMetadata(1));
            start();
            await().atMost(5, TimeUnit.SECONDS).until(() -> producer.history().size() == 1);
            assertThat(producer.history().get(0).value().getStep()).as("the last answer, sent again").isEqualTo(2);
            // The group's offset (1) is behind the checkpoint (3): reading starts at 1 and what the state covers is skipped.
            assertThat(consumer.position(CONTROL)).isEqualTo(1);
            for (int k = 1; k < 5; k++) {
                give(k, courseStart(k));
            }
            await().atMost(5, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return committed() == 5;
            });
            Counter c = (Counter) processor.machine(ME);
            assertThat(c.applied).containsExactly(3L, 4L);
            assertThat(c.count).isEqualTo(5);
        }

        @Test
        void aCheckpointAheadOfTheGroupsOffsetIsWhereReadingStarts() {
            saved.before.put(ME, new Durability.Recovered<>(new Counter(2, events), new Positions(Map.of("ikd.control/0", 2L), 2),
                List.of()));
            start();
            assertThat(consumer.position(CONTROL)).isEqualTo(2);
            assertThat(Optional.ofNullable(processor.machine(ME)).map(m -> m.count)).contains(2L);
        }
    }

    @Nested
    class Faults {
        @Test
        void aFaultPointHaltsWhereItIsSetAndNowhereElse() {
            start(64, new FaultPoints(FaultPoints.parse("student-0:after-checkpoint:1"), halts::add));
            give(0, courseStart(0));
            give(1, courseStart(1));
            await().atMost(5, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return !halts.isEmpty();
            });
            assertThat(halts).containsExactly(new FaultPoints.Fault(ME, FaultPoints.Point.AFTER_CHECKPOINT, 1));
            // Step 1 was checkpointed when the halt came (in a real process nothing after it would run).
            assertThat(events).contains("checkpoint 1 (sent so far: 1)");
        }

        @Test
        void aFaultAfterCommitHaltsOnceTheRecordsOffsetIsCommitted() {
            start(64, new FaultPoints(FaultPoints.parse("student-0:after-commit:0"), halts::add));
            give(0, courseStart(0));
            await().atMost(5, TimeUnit.SECONDS).until(() -> {
                acknowledgeAll();
                return !halts.isEmpty();
            });
            assertThat(committed()).isEqualTo(1);
            assertThat(halts).containsExactly(new FaultPoints.Fault(ME, FaultPoints.Point.AFTER_COMMIT, 0));
        }

        @Test
        void aBadFaultSpecificationIsRefusedNamingThePart() {
            assertThatThrownBy(() -> FaultPoints.parse("teacher:after-lunch:3")).hasMessageStartingWith(
                "unknown fault point 'after-lunch'");
            assertThatThrownBy(() -> FaultPoints.parse("teacher:after-send")).hasMessage(
                "IKD_FAULT must be SERVICE:POINT:STEP[,...], got 'teacher:after-send'");
            assertThatThrownBy(() -> FaultPoints.parse("teacher:after-send:x")).hasMessage(
                "IKD_FAULT: step must be a whole number, got 'x'");
        }
    }

    /** Envelopes larger than a record: sent in parts, joined before any machine hears of them, committed only once applied. */
    @Nested
    class InParts {
        static final int LIMIT = 5_000;

        static Envelope abort(long step, int bytes) {
            return Envelopes.header(RUN, ME, step, Kind.ABORT, "coordinator", Clock.systemUTC())
                .setAbort(dev.ikd.proto.v1.Abort.newBuilder().setReason("r".repeat(bytes))).build();
        }

        void giveAll(long from, List<Envelope> records) {
            for (int i = 0; i < records.size(); i++) {
                give(from + i, records.get(i));
            }
        }

        boolean committedOnce(long offset) {
            acknowledgeAll();
            return committed() == offset;
        }

        @Test
        void aWholeIsAppliedOnceItsLastPartIsInAndNoPartIsCommittedBeforeThat() {
            maxRecordBytes = LIMIT;
            start();
            Envelope whole = abort(1, 20_000);
            List<Envelope> parts = dev.ikd.proto.envelope.Parts.split(whole, LIMIT);
            assertThat(parts).hasSizeGreaterThan(3);
            give(0, courseStart(0));
            giveAll(1, parts.subList(0, parts.size() - 1));
            await().atMost(5, TimeUnit.SECONDS).until(() -> committedOnce(1));
            // Held: a restart reads the waiting parts again from the committed offset.
            await().during(300, TimeUnit.MILLISECONDS).atMost(2, TimeUnit.SECONDS).until(() -> committedOnce(1));
            assertThat(made.get(ME).applied).containsExactly(0L);

            give(parts.size(), parts.get(parts.size() - 1));
            await().atMost(5, TimeUnit.SECONDS).until(() -> committedOnce(parts.size() + 1));
            assertThat(made.get(ME).applied).containsExactly(0L, 1L);
            assertThat(saved.recorded.get(1).input().envelope()).isEqualTo(whole);
            assertThat(saved.recorded.get(1).covered().asMap()).containsEntry("ikd.control/0", (long) parts.size() + 1);

            // Its answer is as large: out in parts, in order, under the student's key, each within the limit.
            List<ProducerRecord<String, Envelope>> sent = sentTo(Topics.EXAM_RESULTS).stream().filter(r -> r.value().getStep() == 1)
                .toList();
            assertThat(sent).hasSizeGreaterThan(3).allSatisfy(r -> {
                assertThat(r.value().getKind()).isEqualTo(Kind.PART);
                assertThat(r.key()).isEqualTo(ME);
                assertThat(r.value().getSerializedSize()).isLessThan(LIMIT);
            });
            dev.ikd.proto.envelope.Parts.Assembler a = new dev.ikd.proto.envelope.Parts.Assembler(1 << 20);
            Optional<Envelope> answer = Optional.empty();
            for (ProducerRecord<String, Envelope> r : sent) {
                answer = a.accept(r.value());
            }
            assertThat(answer).hasValueSatisfying(e -> assertThat(e.getExamResult().getParamSha256()).isEqualTo("r".repeat(20_000)));
        }

        @Test
        void aNewerSendOfTheSameEnvelopeReplacesAnUnfinishedOneWhosePartsAreThenDone() {
            maxRecordBytes = LIMIT;
            start();
            Envelope whole = abort(1, 20_000);
            List<Envelope> first = dev.ikd.proto.envelope.Parts.split(whole, LIMIT);
            List<Envelope> again = dev.ikd.proto.envelope.Parts.split(whole.toBuilder().setEventTimeUs(whole.getEventTimeUs() + 1).build(),
                LIMIT);
            giveAll(0, first.subList(0, 2));
            giveAll(2, again);
            await().atMost(5, TimeUnit.SECONDS).until(() -> committedOnce(2 + again.size()));
            assertThat(made.get(ME).applied).containsExactly(1L);
            assertThat(sentTo(Topics.DEAD_LETTER)).isEmpty();
        }

        @Test
        void aPartSentAgainWithOtherBytesIsDeadLetteredAndTheWholeStillApplies() {
            maxRecordBytes = LIMIT;
            start();
            List<Envelope> parts = dev.ikd.proto.envelope.Parts.split(abort(1, 20_000), LIMIT);
            Envelope tampered = parts.get(1).toBuilder().setPart(parts.get(1).getPart().toBuilder()
                .setData(com.google.protobuf.ByteString.copyFromUtf8("other"))).build();
            giveAll(0, parts.subList(0, 2));
            give(2, tampered);
            giveAll(3, parts.subList(2, parts.size()));
            await().atMost(5, TimeUnit.SECONDS).until(() -> committedOnce(parts.size() + 1));
            assertThat(made.get(ME).applied).containsExactly(1L);
            assertThat(sentTo(Topics.DEAD_LETTER)).singleElement().satisfies(r -> {
                assertThat(r.value().getDeadLetter().getReason()).isEqualTo("part 1 of " + parts.size() + " of run-1/student-0/1/abort: "
                    + "sent again with other bytes");
                assertThat(r.value().getDeadLetter().getOffset()).isEqualTo(2);
            });
        }

        @Test
        void partsThatDoNotJoinIntoTheirWholeAreAllDeadLetteredAndChangeNothing() {
            maxRecordBytes = LIMIT;
            start();
            List<Envelope> parts = new ArrayList<>(dev.ikd.proto.envelope.Parts.split(abort(1, 20_000), LIMIT));
            Envelope last = parts.get(parts.size() - 1);
            parts.set(parts.size() - 1, last.toBuilder().setPart(last.getPart().toBuilder()
                .setData(com.google.protobuf.ByteString.copyFromUtf8("x"))).build());
            giveAll(0, parts);
            await().atMost(5, TimeUnit.SECONDS).until(() -> committedOnce(parts.size()));
            assertThat(made.get(ME).applied).isEmpty();
            String reason = "run-1/student-0/1/abort: its " + parts.size() + " parts joined do not have the SHA-256 they carry";
            assertThat(sentTo(Topics.DEAD_LETTER)).extracting(r -> r.value().getDeadLetter().getReason())
                .hasSize(parts.size()).contains(reason)
                .contains("part 0 of " + parts.size() + " of run-1/student-0/1/abort cannot be joined: " + reason);
        }
    }
}
