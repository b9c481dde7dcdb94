package dev.ikd.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.data.Plan;
import dev.ikd.core.data.Splits;
import dev.ikd.core.learn.Leash;
import dev.ikd.core.learn.Student;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.Teacher;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MetaDistil's pilot update ({@code --teacher-leash pilot=1}): step k's course step, exam and feedback
 * are a pilot on a copy of the student; the teacher learns from that feedback; the real course step
 * then learns from the updated teacher's soft targets on the same batch.
 */
class PilotUpdateTest {

    static NDManager manager;
    static Dataset digits;
    static TrainConfig ikd;
    static Params teacher;

    @BeforeAll
    static void pretrain() {
        manager = NDManager.newBaseManager();
        digits = Datasets.digits();
        TrainConfig base = Presets.forDataset("digits").withSteps(4);
        ikd = base.with(TeacherMode.IKD, SwapSchedule.OFF, false);
        TrainConfig.PretrainConfig p = base.pretrain();
        teacher = Pretrain.teacher(Network.build(base.teacher(), digits), digits,
            new TrainConfig.PretrainConfig(200, p.batchSize(), p.learningRate(), p.momentum()), 1, base.type(), manager, StepListener.NONE);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static TrainConfig withLeash(TrainConfig c, String leash) {
        return c.withTeacherConfig(c.teacherConfig().withLeash(Leash.parse(leash)));
    }

    static String hash(TrainConfig c, StepListener listener) {
        return ReferenceTrainer.run(c, digits, teacher, manager, listener).students().get(0).paramSha256();
    }

    @Test
    void theRealStepLearnsFromTheTeacherThePilotsFeedbackUpdatedAndTheExamIsThePilots() {
        TrainConfig c = withLeash(ikd, "pilot=1").withStudents(1);
        List<Double> examLosses = new ArrayList<>();
        List<String> hashes = new ArrayList<>();
        String run = hash(c, new StepListener() {
            @Override
            public void onStudentStep(StudentStepped e) {
                examLosses.add(e.examLoss());
                hashes.add(e.paramSha256());
            }
        });

        // The same steps by hand: the pilot is a separate student made from the real one's state.
        DataType type = c.type();
        Network studentNet = Network.build(c.student(), digits);
        Plan plan = Plan.of(Splits.of(digits.trainSize(), c.labelFraction(), c.quizFraction(), c.seed()), c.batchSize(),
            c.examBatchSize(), c.studentSeed(0), false);
        try (NDManager m = manager.newSubManager();
             Student real = Student.fresh(studentNet, c.effectiveStudentConfig(), plan.seed(), type, m);
             Teacher t = Teacher.enroll(Network.build(c.teacher(), digits), teacher, c.mode(), c.teacherConfig(),
                 c.studentConfig().temperature(), plan.seed() + 3, null, m)) {
            for (long k = 0; k < c.steps(); k++) {
                int[] ids = plan.course().batch(k);
                boolean[] labeled = plan.labeledMask(ids);
                float[] before = WireSteps.softTargets(t, digits, ids, type, m);
                Student.StepResult pilot;
                try (Student copy = new Student(studentNet, c.effectiveStudentConfig(), real.parameters(), real.velocity(),
                    real.stepsDone(), m)) {
                    pilot = WireSteps.learn(copy, digits, ids, labeled, plan.exam().batch(k), before, Swap.NONE, c.mode(), type, m);
                }
                WireSteps.teach(t, digits, ids, plan.exam().batch(k), k, c.steps(), pilot.feedback(), pilot.courseLogits(), type, m);
                float[] after = WireSteps.softTargets(t, digits, ids, type, m);
                assertThat(after).as("the teacher moved at step %d", k).isNotEqualTo(before);
                String h = WireSteps.courseStep(real, digits, ids, labeled, after, Swap.NONE, type, m);
                assertThat(hashes.get((int) k)).as("θ after step %d", k).isEqualTo(h);
                assertThat(examLosses.get((int) k)).as("the exam of step %d is the pilot's", k).isEqualTo(pilot.examLoss());
            }
            assertThat(real.parameterHash()).isEqualTo(run);
        }
        assertThat(run).as("learning from the teacher before its update is another trajectory").isNotEqualTo(hash(ikd.withStudents(1),
            StepListener.NONE));
    }

    @Test
    void underATeacherThatDoesNotMoveThePilotIsTheStepItself() {
        TeacherConfig still = ikd.teacherConfig();
        TrainConfig c = ikd.withStudents(2).withTeacherConfig(new TeacherConfig(0, still.momentum(), still.beta(), still.adapterHidden(),
            Leash.NONE));
        assertThat(hash(withLeash(c, "pilot=1"), StepListener.NONE)).isEqualTo(hash(c, StepListener.NONE));
    }

    @Test
    void aFrozenTeacherHasNoPilot() {
        TrainConfig kd = ikd.with(TeacherMode.FROZEN, SwapSchedule.OFF, false).withStudents(1);
        assertThat(hash(withLeash(kd, "pilot=1"), StepListener.NONE)).isEqualTo(hash(kd, StepListener.NONE));
    }
}
