package dev.ikd.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ReferenceTrainerTest {

    static NDManager manager;
    static Dataset digits;
    static TrainConfig base;
    static Params teacher;

    @BeforeAll
    static void pretrain() {
        manager = NDManager.newBaseManager();
        digits = Datasets.digits();
        base = Presets.forDataset("digits").withSteps(60);
        teacher = Pretrain.teacher(Network.build(base.teacher(), digits), digits, base.pretrain(), 1, base.type(), manager,
            StepListener.NONE);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void theSameSeedGivesTheSameParameterHashAndAnotherSeedAnother() {
        TrainConfig c = base.with(TeacherMode.IKD, SwapSchedule.OFF, false);
        TrainResult a = ReferenceTrainer.run(c, digits, teacher, manager, StepListener.NONE);
        TrainResult b = ReferenceTrainer.run(c, digits, teacher, manager, StepListener.NONE);
        TrainResult other = ReferenceTrainer.run(c.withSeed(2), digits, teacher, manager, StepListener.NONE);
        assertThat(a.students().get(0).paramSha256()).hasSize(64).isEqualTo(b.students().get(0).paramSha256());
        assertThat(other.students().get(0).paramSha256()).isNotEqualTo(a.students().get(0).paramSha256());
        assertThat(Evaluation.testAccuracy(Network.build(base.teacher(), digits), teacher, digits, manager)).isGreaterThan(0.9);
    }

    @Test
    void everyMethodRunsAndReportsEveryStep() {
        for (var method : new Object[][] {
            {TeacherMode.FROZEN, SwapSchedule.OFF}, {TeacherMode.IKD, SwapSchedule.OFF},
            {TeacherMode.IKD_ADAPTER, SwapSchedule.OFF}, {TeacherMode.PESF, SwapSchedule.OFF},
            {TeacherMode.FROZEN, SwapSchedule.parse("0.5:linear")}, {TeacherMode.IKD, SwapSchedule.parse("0.3")}}) {
            TrainConfig c = base.with((TeacherMode) method[0], (SwapSchedule) method[1], false);
            var versions = new java.util.ArrayList<Long>();
            TrainResult r = ReferenceTrainer.run(c, digits, teacher, manager, new StepListener() {
                @Override
                public void onStudentStep(StudentStepped e) {
                    assertThat(e.courseLoss()).isFinite();
                    assertThat(e.examLoss()).isFinite();
                }

                @Override
                public void onTeacherStep(TeacherStepped e) {
                    versions.add(e.teacherVersion());
                }
            });
            assertThat(versions).as("%s", method[0]).hasSize(60);
            // A learning teacher counts one version per applied exam step; a frozen one never moves.
            assertThat(versions.get(59)).isEqualTo(method[0] == TeacherMode.FROZEN ? 0L : 60L);
            System.out.printf("%s swap %s: %.3f%n", method[0], method[1], r.students().get(0).testAccuracy());
            if (!((SwapSchedule) method[1]).enabled()) {
                assertThat(r.students().get(0).testAccuracy()).as("%s", method[0]).isGreaterThan(0.5);
            }
        }
    }

    @Test
    void iakdStudentsLearnTheirOwnNetworkThroughTheTeachersStages() {
        for (TeacherMode mode : new TeacherMode[] {TeacherMode.FROZEN, TeacherMode.IKD}) {
            TrainConfig c = base.withSteps(400).with(mode, SwapSchedule.parse("0.5:linear"), false);
            double accuracy = ReferenceTrainer.run(c, digits, teacher, manager, StepListener.NONE).meanStudentAccuracy();
            System.out.printf("IAKD %s 0.5:linear, 400 steps: %.3f%n", mode, accuracy);
            assertThat(accuracy).as("%s", mode).isGreaterThan(0.85);
        }
    }

    @Test
    void withFivePercentOfTheLabelsKnowledgeDistillationBeatsTheStudentAlone() {
        TrainConfig low = base.withLabelFraction(0.05).withSteps(400);
        TrainResult alone = ReferenceTrainer.run(low.with(TeacherMode.FROZEN, SwapSchedule.OFF, true), digits, teacher,
            manager, StepListener.NONE);
        TrainResult kd = ReferenceTrainer.run(low.with(TeacherMode.FROZEN, SwapSchedule.OFF, false), digits, teacher,
            manager, StepListener.NONE);
        System.out.printf("low-label digits: alone %.3f, KD %.3f%n", alone.meanStudentAccuracy(), kd.meanStudentAccuracy());
        assertThat(kd.meanStudentAccuracy()).isGreaterThan(alone.meanStudentAccuracy());
    }
}
