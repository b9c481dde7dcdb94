package dev.ikd.launcher;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows a run from its log: every exam result and student report on {@code ikd.exam-results},
 * as a reader who is not part of the run would (the progress bars of {@code ikd local} and
 * {@code ikd coordinator}).
 */
final class RunMonitor implements AutoCloseable {

    interface Listener {
        void onExam(String student, long step, double courseLoss, double examAccuracy);
    }

    private final Thread thread;
    private volatile boolean running = true;

    RunMonitor(String bootstrap, String runId, Listener listener) {
        thread = new Thread(() -> {
            try (var consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(bootstrap, "ikd-monitor-" + UUID.randomUUID(),
                "ikd-monitor"), new StringDeserializer(), new EnvelopeDeserializer())) {
                consumer.subscribe(List.of(Topics.EXAM_RESULTS));
                while (running) {
                    for (var r : consumer.poll(Duration.ofMillis(200))) {
                        if (r.value() instanceof Decoded.Valid v && runId.equals(v.envelope().getRunId())
                            && v.envelope().getKind() == Kind.EXAM_RESULT) {
                            Envelope e = v.envelope();
                            listener.onExam(e.getStudentId(), e.getStep(), e.getExamResult().getCourseLoss(),
                                e.getExamResult().getExamAccuracy());
                        }
                    }
                }
            } catch (org.apache.kafka.common.errors.InterruptException e) {
                // closed while polling
            }
        }, "ikd-monitor");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
