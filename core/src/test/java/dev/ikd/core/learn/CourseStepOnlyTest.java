package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;
import org.junit.jupiter.api.Test;

/** Replay re-derives θ from the course step alone: it must land on the bits the full step (course, exam, feedback) lands on. */
class CourseStepOnlyTest {

    @Test
    void theCourseStepAloneEndsOnTheFullStepsHashAtEveryStep() {
        Dataset digits = Datasets.digits();
        Network teacherNet = Network.build(ModelSpec.parse("mlp:8:16"), digits);
        Network studentNet = Network.build(ModelSpec.parse("mlp:8:4"), digits);
        StudentConfig sc = new StudentConfig(0.05, 0.9, 2, 0.7);
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            try (NDManager root = NDManager.newBaseManager();
                 Student full = Student.fresh(studentNet, sc, 2, type, root);
                 Student courseOnly = Student.fresh(studentNet, sc, 2, type, root)) {
                Params phi = teacherNet.init(1, type, root);
                for (int k = 0; k < 20; k++) {
                    try (NDManager step = root.newSubManager()) {
                        int[] ids = {3 * k, 3 * k + 1, 3 * k + 2, 3 * k + 3};
                        NDArray x = digits.trainFeatures(step, ids, type);
                        NDArray y = Losses.oneHot(step, digits.trainLabels(ids), new boolean[] {true, false, true, true}, 10, type);
                        NDArray p = Losses.softTargets(teacherNet.logits(phi, x), 2.0);
                        Swap swap = new Swap(teacherNet, phi, new boolean[] {k % 3 == 0, false});
                        String expected = full.learn(x, y, p, x, digits.trainLabels(ids), swap, TeacherMode.IKD).paramSha256();
                        assertThat(courseOnly.courseStep(x, y, p, swap)).as("%s step %d", type, k).isEqualTo(expected);
                    }
                }
                assertThat(courseOnly.stepsDone()).isEqualTo(full.stepsDone());
            }
        }
    }
}
