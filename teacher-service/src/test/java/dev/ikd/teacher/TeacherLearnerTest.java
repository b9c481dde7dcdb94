package dev.ikd.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.state.PupilState;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.DatasetSpec;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Feedback;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.ServiceMetrics;
import dev.ikd.runtime.processor.MachineScenario;
import dev.ikd.teacher.protocol.TeacherMachine;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The teacher's machine on its real learner (DJL, the bundled digits), through the service that
 * makes it: a restart goes on bit for bit, an update that overflows stops the teacher, a finished
 * student's teacher keeps what it learned, and the state of another model is refused.
 */
class TeacherLearnerTest {

    static final String RUN = "run-1";
    static final String ME = "student-0";
    static final int BATCH = 8;
    static final long STEPS = 3;
    static Dataset digits;
    static NDManager manager;
    static TeacherService service;

    @BeforeAll
    static void setUp() {
        digits = Datasets.digits();
        manager = NDManager.newBaseManager();
        service = service("mlp:32:16", 0.05);
    }

    @AfterAll
    static void tearDown() {
        service.close();
        manager.close();
    }

    static TeacherService service(String model, double learningRate) {
        Network net = Network.build(ModelSpec.parse(model), digits);
        return new TeacherService(new TeacherService.Settings("teacher", digits, net, net.init(3, DataType.FLOAT32, manager),
            TeacherMode.IKD, new TeacherConfig(learningRate, 0.9, 0.0, 8), DataType.FLOAT32, digits.trainSize()), RUN,
            new ServiceMetrics(new SimpleMeterRegistry(), "teacher"), StepListener.NONE, manager);
    }

    static Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(RUN, ME, step, kind, "test", 0L);
    }

    static Envelope admitted() {
        return header(0, Kind.ADMITTED).setAdmitted(Admitted.newBuilder().setTeacherMode("ikd").setSteps(STEPS)
            .setEnrollment(Enrollment.newBuilder()
                .setDataset(DatasetSpec.newBuilder().setName("digits").setSha256(digits.sha256()).setTrainSize(digits.trainSize())
                    .setSplitSeed(1).setLabelFraction(1.0).setQuizFraction(0.1))
                .setHyperParameters(HyperParameters.newBuilder().setTemperature(2).setBatchSize(BATCH).setExamBatchSize(BATCH)
                    .setSteps(STEPS).setSeed(5).setTeacherMode("ikd")))).build();
    }

    static Envelope feedback(long step) {
        float[] d = new float[BATCH * 10];
        for (int i = 0; i < d.length; i++) {
            d[i] = (i % 10 == step % 10 ? 1 : -1f / 9) * 1e-2f;
        }
        return header(step, Kind.FEEDBACK).setFeedback(Feedback.newBuilder().setTeacherVersion(step)
            .setD(TensorCodec.encode(d, BATCH, 10)).setCourseLoss(1.0)).build();
    }

    /** The envelopes without what the teacher measured as it worked (CPU time, cache hits), which a restart does not repeat. */
    static List<Envelope> unmeasured(List<Envelope> out) {
        return out.stream().map(e -> e.toBuilder().clearMeasured().build()).toList();
    }

    @Test
    void aTeacherRestoredFromItsStateGoesOnBitForBit() {
        MachineScenario<TeacherMachine> straight = MachineScenario.given(service.fresh(ME), admitted(), feedback(0));
        Message saved = straight.machine().state();
        try (TeacherMachine restored = service.restore(ME, Any.pack(saved))) {
            assertThat(restored.state()).isEqualTo(saved);
            assertThat(unmeasured(restored.apply(MachineScenario.input(feedback(1)))))
                .isEqualTo(unmeasured(straight.when(feedback(1)).last()));
            assertThat(unmeasured(restored.apply(MachineScenario.input(feedback(2)))))
                .isEqualTo(unmeasured(straight.when(feedback(2)).last()));
        }
        straight.machine().close();
    }

    @Test
    void anUpdateThatOverflowsStopsTheTeacherOfThatStudent() {
        // A teacher learning rate no update survives: φ' overflows, and so do its next soft targets.
        try (TeacherService exploding = service("mlp:32:16", Double.MAX_VALUE)) {
            var s = MachineScenario.given(exploding.fresh(ME), admitted());
            assertThat(s.when(feedback(0)).last()).singleElement().satisfies(e -> assertThat(e.getTeacherUpdated().getDiverged())
                .startsWith("the teacher of student-0 diverged at step ")
                .containsPattern("(the teacher's loss|a soft target) is (NaN|-?Infinity)"));
            assertThat(s.machine().active()).isFalse();
        }
    }

    @Test
    void aFinishedStudentsTeacherKeepsWhatItLearnedAcrossARestart() {
        var s = MachineScenario.given(service.fresh(ME), admitted(), feedback(0)).when(header(STEPS, Kind.FINISH)
            .setFinish(Finish.newBuilder().setReason("done")).build());
        PupilState state = (PupilState) s.machine().state();
        assertThat(state.hasVelocity()).as("a finished student's teacher learns no more").isFalse();
        assertThat(state.getTrainable().getTensorsList()).as("what it learned, for 'ikd export --teacher-of'").isNotEmpty();
        try (TeacherMachine restored = service.restore(ME, Any.pack(state))) {
            assertThat(restored.state()).isEqualTo(state);
        }
    }

    @Test
    void theStateOfAnotherModelIsRefused() {
        Message saved = MachineScenario.given(service.fresh(ME), admitted(), feedback(0)).machine().state();
        try (TeacherService other = service("mlp:32:8", 0.05)) {
            assertThatThrownBy(() -> other.restore(ME, Any.pack(saved)))
                .hasMessageStartingWith("the saved teacher of student-0 is another model: ");
        }
    }
}
