package dev.ikd.runtime.processor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.Any;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.CourseStart;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.ServiceMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.MockProducer;
import org.junit.jupiter.api.Test;

/** The edge alone: what becomes of a record before any machine hears of it. */
class EdgeTest {

    final List<Envelope> heard = new ArrayList<>();
    final Service<Machine> service = new Service<>() {
        @Override
        public String skip(Envelope e) {
            return e.getKind() == Kind.COURSE_START ? null : "not_mine";
        }

        @Override
        public String keyOf(Envelope e) {
            return e.getStudentId();
        }

        @Override
        public Machine fresh(String key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Machine restore(String key, Any state) {
            throw new UnsupportedOperationException();
        }
    };
    final Edge edge = new Edge(new Context<>(new Processor.Settings("run-1", "student-0", 8, 0, FaultPoints.NONE),
        new MockConsumer<>(OffsetResetStrategy.EARLIEST), new MockProducer<>(), service, Durability.NONE,
        new ServiceMetrics(new SimpleMeterRegistry(), "student"), Clock.systemUTC(), new Processor.Listener<>() {
            @Override
            public void received(Envelope e) {
                heard.add(e);
            }
        }));

    static Envelope start(String run, String student, Kind kind) {
        return Envelopes.header(run, student, 3, kind, "coordinator", Clock.systemUTC()).setCourseStart(CourseStart.getDefaultInstance())
            .build();
    }

    static ConsumerRecord<String, Decoded> record(String topic, String key, Decoded value) {
        return new ConsumerRecord<>(topic, 0, 7, key, value);
    }

    @Test
    void aRecordForThisRunOnItsTopicAndKeyIsTakenToItsKeysMachine() {
        Envelope e = start("run-1", "student-0", Kind.COURSE_START);
        Edge.Verdict v = edge.judge(record(Topics.CONTROL, "student-0", new Decoded.Valid(e)));
        assertThat(v).isInstanceOfSatisfying(Edge.Verdict.Take.class, t -> {
            assertThat(t.key()).isEqualTo("student-0");
            assertThat(t.envelope()).isEqualTo(e);
        });
        assertThat(heard).containsExactly(e);
    }

    @Test
    void malformedMisplacedOrValuelessRecordsAreRefusedWithTheReasonAndNobodyHearsOfThem() {
        assertThat(edge.judge(record(Topics.CONTROL, "student-0", new Decoded.Malformed(new byte[] {1}, "garbage"))))
            .isInstanceOfSatisfying(Edge.Verdict.Refused.class, r -> {
                assertThat(r.raw()).containsExactly(1);
                assertThat(r.reason()).isEqualTo("garbage");
                assertThat(r.answers()).isEmpty();
            });
        assertThat(((Edge.Verdict.Refused) edge.judge(record(Topics.CONTROL, "student-0", null))).reason())
            .isEqualTo("record has no value");
        Envelope e = start("run-1", "student-0", Kind.COURSE_START);
        assertThat(((Edge.Verdict.Refused) edge.judge(record(Topics.FEEDBACK, "student-0", new Decoded.Valid(e)))).reason())
            .isEqualTo("misplaced: a COURSE_START record belongs on ikd.control, not ikd.feedback");
        assertThat(((Edge.Verdict.Refused) edge.judge(record(Topics.CONTROL, "student-1", new Decoded.Valid(e)))).reason())
            .isEqualTo("misplaced: a COURSE_START record of 'student-0' is keyed 'student-1'");
        assertThat(heard).isEmpty();
    }

    @Test
    void anotherRunsRecordOrOneThisServiceDoesNotReadIsPassedOver() {
        assertThat(edge.judge(record(Topics.CONTROL, "student-0", new Decoded.Valid(start("run-2", "student-0", Kind.COURSE_START)))))
            .isEqualTo(new Edge.Verdict.PassOver(null));
        Envelope finish = Envelopes.header("run-1", "student-0", 3, Kind.FINISH, "coordinator", Clock.systemUTC())
            .setFinish(dev.ikd.proto.v1.Finish.newBuilder().setReason("done")).build();
        assertThat(edge.judge(record(Topics.CONTROL, "student-0", new Decoded.Valid(finish)))).isEqualTo(new Edge.Verdict.PassOver("not_mine"));
        assertThat(heard).containsExactly(finish);
    }
}
