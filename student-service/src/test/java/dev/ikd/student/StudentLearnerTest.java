package dev.ikd.student;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.train.DivergedException;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.state.StudentState;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.runtime.processor.MachineScenario;
import dev.ikd.student.protocol.StudentMachine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The student's machine on its real learner (DJL, the bundled digits): the answers carry what the
 * learning computed, a restart goes on bit for bit, a step that overflows stops the student with
 * the line every part of ikd uses, and the state of another model is refused.
 */
class StudentLearnerTest {

    static final String RUN = "run-1";
    static final String ME = "student-0";
    static final int BATCH = 8;
    static final long STEPS = 3;
    static Dataset digits;
    static NDManager manager;
    static StudentSettings settings;

    @BeforeAll
    static void setUp() {
        digits = Datasets.digits();
        manager = NDManager.newBaseManager();
        settings = settings("mlp:32:8", 0.05);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static StudentSettings settings(String model, double learningRate) {
        return new StudentSettings(ME, digits, ModelSpec.parse(model), new StudentConfig(learningRate, 0.9, 2.0, 0.7), 5, BATCH, BATCH,
            STEPS, 1, 1.0, 0.1, TeacherMode.IKD, DataType.FLOAT32);
    }

    static StudentMachine machine(StudentSettings s, StudentLearner learner) {
        return new StudentMachine(s.machine(RUN), learner);
    }

    static Envelope.Builder header(long step, Kind kind) {
        return Envelopes.header(RUN, ME, step, kind, "test", 0L);
    }

    static Envelope admitted() {
        return header(0, Kind.ADMITTED).setAdmitted(Admitted.newBuilder().setTeacherMode("ikd").setSteps(STEPS)).build();
    }

    static Envelope targets(long step) {
        float[] p = new float[BATCH * 10];
        for (int i = 0; i < BATCH; i++) {
            for (int c = 0; c < 10; c++) {
                p[i * 10 + c] = c == (i + step) % 10 ? 0.55f : 0.05f;
            }
        }
        return header(step, Kind.SOFT_TARGETS).setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(step).setTemperature(2)
            .setProbabilities(TensorCodec.encode(p, BATCH, 10))).build();
    }

    @Test
    void theAnswersCarryWhatTheStepComputedAndTheReportTheFinalHash() {
        StudentLearner learner = StudentLearner.fresh(settings, StepListener.NONE, manager);
        var s = MachineScenario.given(machine(settings, learner), admitted()).when(targets(0))
            .thenKinds(Kind.FEEDBACK, Kind.EXAM_RESULT);
        assertThat(s.last().get(1).getExamResult().getParamSha256()).isEqualTo(learner.parameterHash());
        assertThat(TensorCodec.shape(s.last().get(0).getFeedback().getD())).containsExactly(BATCH, 10);
        assertThat(s.last().get(1).getExamResult().getExamLoss()).isPositive();
        s.when(targets(1)).when(targets(2)).when(header(STEPS, Kind.FINISH).setFinish(Finish.newBuilder().setReason("done")).build())
            .thenKinds(Kind.STUDENT_REPORT);
        assertThat(s.last().get(0).getStudentReport().getParamSha256()).isEqualTo(learner.parameterHash());
        assertThat(s.last().get(0).getStudentReport().getTestAccuracy()).isBetween(0.0, 1.0);
        s.machine().close();
    }

    /** A student restored from its state (a restart) answers exactly as the one that never stopped. */
    @Test
    void aStudentRestoredFromItsStateGoesOnBitForBit() {
        var straight = MachineScenario.given(machine(settings, StudentLearner.fresh(settings, StepListener.NONE, manager)),
            admitted(), targets(0));
        StudentState saved = (StudentState) straight.machine().state();
        try (StudentMachine restored = StudentMachine.restore(settings.machine(RUN),
            StudentLearner.restore(settings, StepListener.NONE, manager, saved), saved)) {
            assertThat(restored.state()).isEqualTo(saved);
            List<Envelope> fromRestored = restored.apply(MachineScenario.input(targets(1)));
            straight.when(targets(1));
            assertThat(fromRestored).isEqualTo(straight.last());
        }
        straight.machine().close();
    }

    /** A learning rate no step survives: θ' and everything computed from it overflow. */
    @Test
    void aStepThatOverflowsStopsTheStudentWithTheLineEveryPartOfIkdUses() {
        StudentSettings exploding = settings("mlp:32:8", Double.MAX_VALUE);
        try (StudentMachine m = machine(exploding, StudentLearner.fresh(exploding, StepListener.NONE, manager))) {
            var s = MachineScenario.given(m, admitted()).when(targets(0)).thenKinds(Kind.EXAM_RESULT);
            String line = s.last().get(0).getExamResult().getDiverged();
            assertThat(line).containsPattern("is (NaN|-?Infinity)")
                .isEqualTo(DivergedException.line(ME, 0, m.stopped().substring("diverged at step 0: ".length())));
        }
    }

    @Test
    void theStateOfAnotherModelIsRefused() {
        StudentState saved;
        try (StudentMachine m = machine(settings, StudentLearner.fresh(settings, StepListener.NONE, manager))) {
            saved = (StudentState) m.state();
        }
        assertThatThrownBy(() -> StudentLearner.restore(settings("mlp:32:4", 0.05), StepListener.NONE, manager, saved))
            .hasMessageStartingWith("the saved student is another model: ");
    }
}
