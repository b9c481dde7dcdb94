package dev.ikd.core.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.IntStream;

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

/** The backbone's rows by sample id: computed once per fixed chunk, the same bits whoever asks first. */
class FeatureCacheTest {

    static final Dataset DIGITS = Datasets.digits();
    static final Network NET = Network.build(ModelSpec.parse("mlp:16:32"), DIGITS);

    @Test
    void aRowIsItsChunksForwardBitForBitWhateverTheOrderOrEvictions() {
        try (NDManager m = NDManager.newBaseManager()) {
            Params phi = NET.init(5, DataType.FLOAT32, m);
            int[] first = {700, 3, 511, 256, 1437};
            int[] second = {3, 4, 1000, 255, 700};
            try (FeatureCache whole = new FeatureCache(NET, phi, DIGITS, DataType.FLOAT32, DIGITS.trainSize(), m);
                 FeatureCache oneChunk = new FeatureCache(NET, phi, DIGITS, DataType.FLOAT32, 1, m)) {
                whole.forward(first, m);
                Network.Forward a = whole.forward(second, m);
                oneChunk.forward(new int[] {1200, 1300}, m);
                Network.Forward b = oneChunk.forward(second, m);
                assertThat(a.logits().toFloatArray()).containsExactly(b.logits().toFloatArray());
                assertThat(a.features().toFloatArray()).containsExactly(b.features().toFloatArray());
                // Brute force: the backbone on the whole chunk of id 700 (ids 512..767), row 700 - 512.
                int[] chunk = IntStream.range(512, 768).toArray();
                Network.Forward direct = NET.forward(phi, DIGITS.trainFeatures(m, chunk, DataType.FLOAT32), Swap.NONE);
                assertThat(a.logits().get(4).toFloatArray()).containsExactly(direct.logits().get(700 - 512).toFloatArray());
                assertThat(a.features().get(4).toFloatArray()).containsExactly(direct.features().get(700 - 512).toFloatArray());
                assertThat(oneChunk.bytes()).as("one chunk: 256 rows x (10 logits + features) x 4 bytes")
                    .isEqualTo(256L * (10 + NET.featureSize()) * 4);
            }
        }
    }

    @Test
    void hitsAndMissesAreCountedPerRow() {
        try (NDManager m = NDManager.newBaseManager();
             FeatureCache cache = new FeatureCache(NET, NET.init(5, DataType.FLOAT32, m), DIGITS, DataType.FLOAT32, 10_000, m)) {
            cache.forward(new int[] {1, 2, 3, 300}, m);
            assertThat(cache.misses()).isEqualTo(2);
            assertThat(cache.hits()).isEqualTo(2);
            cache.forward(new int[] {4, 301}, m);
            assertThat(cache.hitRate()).isEqualTo(4.0 / 6);
            assertThatThrownBy(() -> cache.forward(new int[] {DIGITS.trainSize()}, m))
                .hasMessageContaining("outside the training set");
        }
    }

    /** An adapter teacher on cached rows serves what it serves on its own backbone forward, up to rounding. */
    @Test
    void anAdapterTeacherOnTheCacheMatchesItsOwnForward() {
        try (NDManager m = NDManager.newBaseManager()) {
            Params phi = NET.init(5, DataType.FLOAT32, m);
            TeacherConfig config = new TeacherConfig(0.05, 0.9, 0.1, 4);
            try (FeatureCache cache = new FeatureCache(NET, phi, DIGITS, DataType.FLOAT32, DIGITS.trainSize(), m);
                 Teacher cached = Teacher.enroll(NET, phi, TeacherMode.IKD_ADAPTER, config, 2, 3, cache, m);
                 Teacher plain = Teacher.enroll(NET, phi, TeacherMode.IKD_ADAPTER, config, 2, 3, m)) {
                int[] ids = {10, 20, 30, 40};
                NDArray x = DIGITS.trainFeatures(m, ids, DataType.FLOAT32);
                float[] d = new float[40];
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) Math.sin(i) * 1e-2f;
                }
                NDArray dArray = m.create(d, new ai.djl.ndarray.types.Shape(4, 10));
                for (int k = 0; k < 3; k++) {
                    float[] p = cached.softTargets(new Teacher.Batch(ids, null, m), m).toFloatArray();
                    float[] q = plain.softTargets(x, m).toFloatArray();
                    for (int i = 0; i < p.length; i++) {
                        assertThat(p[i]).isCloseTo(q[i], org.assertj.core.data.Offset.offset(1e-6f));
                    }
                    cached.learn(new Teacher.Batch(ids, null, null), DIGITS.trainLabels(ids), dArray, dArray);
                    plain.learn(x, DIGITS.trainLabels(ids), dArray, dArray);
                }
                assertThat(cached.version()).isEqualTo(3);
                assertThat(cache.misses()).isEqualTo(1);
            }
        }
    }
}
