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

/** Every step frees what it made: the number of live arrays does not grow with the number of steps. */
class ScopedStepTest {

    @Test
    void studentAndTeacherStepsLeaveNoArraysBehind() {
        Dataset digits = Datasets.digits();
        Network teacherNet = Network.build(ModelSpec.parse("mlp:8:16"), digits);
        Network studentNet = Network.build(ModelSpec.parse("mlp:8:4"), digits);
        for (TeacherMode mode : TeacherMode.values()) {
            try (NDManager root = NDManager.newBaseManager()) {
                Params phi = teacherNet.init(1, DataType.FLOAT32, root);
                StudentConfig sc = new StudentConfig(0.05, 0.9, 2, 0.7);
                Student student = Student.fresh(studentNet, sc, 2, DataType.FLOAT32, root);
                Teacher teacher = Teacher.enroll(teacherNet, phi, mode, new TeacherConfig(0.05, 0.9, 0.1, 4), 2, 3, root);
                long[] counts = new long[2];
                for (int k = 0; k < 30; k++) {
                    try (NDManager step = root.newSubManager()) {
                        int[] ids = {k, k + 1, k + 2, k + 3};
                        NDArray x = digits.trainFeatures(step, ids, DataType.FLOAT32);
                        NDArray y = Losses.oneHot(step, digits.trainLabels(ids), null, 10, DataType.FLOAT32);
                        NDArray p = teacher.softTargets(x, step);
                        Student.StepResult r = student.learn(x, y, p, x, digits.trainLabels(ids),
                            new Swap(teacherNet, phi, new boolean[] {k % 2 == 0, false}), mode);
                        teacher.learn(x, digits.trainLabels(ids), step.create(r.feedback(), p.getShape()),
                            step.create(r.courseLogits(), p.getShape()));
                    }
                    if (k == 4) {
                        counts[0] = root.getManagedArrays().size();
                    }
                }
                counts[1] = root.getManagedArrays().size();
                assertThat(counts[1]).as("%s: live arrays after 5 and after 30 steps", mode).isEqualTo(counts[0]);
            }
        }
    }
}
