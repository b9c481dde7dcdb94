package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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

/**
 * Micro-batching's stated tolerance: four students learn 20 steps each from a frozen teacher whose
 * backbone runs their concurrent requests as one forward; against the same students taught by the
 * teacher's own forward, soft targets agree within 1e-6 and parameters within 1e-5, and the
 * requests did share forwards.
 */
class MicroBatcherTest {

    static final Dataset DIGITS = Datasets.digits();
    static final int STUDENTS = 4;
    static final int STEPS = 20;

    @Test
    void batchedRequestsStayWithinTheToleranceOfEachAlone() throws Exception {
        Network teacherNet = Network.build(ModelSpec.parse("mlp:32:128,128"), DIGITS);
        Network studentNet = Network.build(ModelSpec.parse("mlp:32:16"), DIGITS);
        TeacherConfig tc = new TeacherConfig(0.05, 0.9, 0.0, 8);
        StudentConfig sc = new StudentConfig(0.05, 0.9, 2, 0.7);
        try (NDManager root = NDManager.newBaseManager()) {
            Params phi = teacherNet.init(9, DataType.FLOAT32, root);
            try (MicroBatcher batcher = new MicroBatcher(teacherNet, phi, DIGITS, DataType.FLOAT32, 20, STUDENTS, root)) {
                float[][][] targetsAlone = new float[STUDENTS][STEPS][];
                float[][][] targetsBatched = new float[STUDENTS][STEPS][];
                List<float[]> alone = train(root, studentNet, i -> Teacher.enroll(teacherNet, phi, TeacherMode.FROZEN, tc, 2, i, root),
                    sc, false, targetsAlone);
                List<float[]> batched = train(root, studentNet, i -> Teacher.enroll(teacherNet, phi, TeacherMode.FROZEN, tc, 2, i,
                    batcher, root), sc, true, targetsBatched);
                double maxP = 0;
                for (int i = 0; i < STUDENTS; i++) {
                    for (int k = 0; k < STEPS; k++) {
                        for (int j = 0; j < targetsAlone[i][k].length; j++) {
                            maxP = Math.max(maxP, Math.abs(targetsAlone[i][k][j] - targetsBatched[i][k][j]));
                        }
                    }
                }
                assertThat(maxP).as("max |Δp| of the soft targets").isLessThanOrEqualTo(1e-6);
                double maxTheta = 0;
                for (int i = 0; i < STUDENTS; i++) {
                    float[] a = alone.get(i);
                    float[] b = batched.get(i);
                    for (int j = 0; j < a.length; j++) {
                        maxTheta = Math.max(maxTheta, Math.abs(a[j] - b[j]));
                    }
                }
                assertThat(maxTheta).as("max |Δθ| after %d steps", STEPS).isLessThanOrEqualTo(1e-5);
                assertThat(batcher.requests()).isEqualTo((long) STUDENTS * STEPS);
                assertThat(batcher.forwards()).as("requests shared forwards").isLessThan(batcher.requests());
                System.out.printf("micro-batching: max |dθ| %.2e; %d requests in %d forwards%n", maxTheta, batcher.requests(),
                    batcher.forwards());
            }
        }
    }

    interface TeacherFor {
        Teacher of(int student);
    }

    /** Every student in its own thread, step k of all students released together; θ of each at the end. */
    private static List<float[]> train(NDManager root, Network studentNet, TeacherFor teachers, StudentConfig sc, boolean byIds,
                                       float[][][] targets) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(STUDENTS);
        CyclicBarrier together = new CyclicBarrier(STUDENTS);
        try {
            List<Future<float[]>> out = new ArrayList<>();
            for (int i = 0; i < STUDENTS; i++) {
                int s = i;
                out.add(pool.submit(() -> {
                    Teacher teacher = teachers.of(s);
                    Student student = Student.fresh(studentNet, sc, 100 + s, DataType.FLOAT32, root);
                    for (int k = 0; k < STEPS; k++) {
                        together.await();
                        try (NDManager step = root.newSubManager()) {
                            int[] ids = new int[16];
                            for (int j = 0; j < ids.length; j++) {
                                ids[j] = (s * 331 + k * 16 + j * 7) % DIGITS.trainSize();
                            }
                            NDArray x = DIGITS.trainFeatures(step, ids, DataType.FLOAT32);
                            NDArray y = Losses.oneHot(step, DIGITS.trainLabels(ids), null, 10, DataType.FLOAT32);
                            NDArray p = byIds ? teacher.softTargets(new Teacher.Batch(ids, null, step), step)
                                : teacher.softTargets(x, step);
                            targets[s][k] = p.toFloatArray();
                            student.learn(x, y, p, x, DIGITS.trainLabels(ids), Swap.NONE, TeacherMode.IKD);
                        }
                    }
                    float[] theta = student.parameters().asMap().values().stream().map(NDArray::toFloatArray)
                        .reduce(new float[0], MicroBatcherTest::concat);
                    student.close();
                    teacher.close();
                    return theta;
                }));
            }
            List<float[]> thetas = new ArrayList<>();
            for (var f : out) {
                thetas.add(f.get());
            }
            return thetas;
        } finally {
            pool.shutdownNow();
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = new float[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
