package dev.ikd.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.data.Datasets;
import org.junit.jupiter.api.Test;

class ParamsTest {

    @Test
    void aCopyDoesNotMoveWhenItsSourceIsChangedInPlace() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                Params source = Network.build(ModelSpec.parse("mlp:4:6"), Datasets.digits()).init(9, type, m);
                Params copy = source.copy(m);
                String before = copy.sha256();
                assertThat(before).isEqualTo(source.sha256());
                source.asMap().values().forEach(a -> a.addi(1));
                assertThat(copy.sha256()).as("%s", type).isEqualTo(before);
                assertThat(source.sha256()).isNotEqualTo(before);
            }
        }
    }

    /** Tensors made from Java data keep their values through garbage collection and memory reuse. */
    @Test
    void tensorsFromJavaArraysSurviveGarbageCollection() {
        try (NDManager m = NDManager.newBaseManager()) {
            List<NDArray> made = new ArrayList<>();
            double[] values = new double[4096];
            java.util.Arrays.setAll(values, i -> i * 0.5);
            for (int i = 0; i < 20; i++) {
                made.add(Tensors.of(m, values, new Shape(values.length), DataType.FLOAT64));
            }
            churn();
            for (NDArray a : made) {
                assertThat(a.toDoubleArray()).containsExactly(values);
            }
        }
    }

    static void churn() {
        for (int round = 0; round < 5; round++) {
            System.gc();
            List<ByteBuffer> filler = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(32 * 1024);
                while (b.hasRemaining()) {
                    b.put((byte) 0xff);
                }
                filler.add(b);
            }
            filler.clear();
        }
    }
}
