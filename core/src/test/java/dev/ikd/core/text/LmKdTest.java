package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import org.junit.jupiter.api.Test;

class LmKdTest {

    @Test
    void encodingsAreParsedOrRefusedWithOneLine() {
        assertThat(LmKd.Encoding.parse("topk:8").toString()).isEqualTo("topk:8");
        assertThat(LmKd.Encoding.parse(" Dense ").toString()).isEqualTo("dense");
        for (String bad : List.of("topk:0", "sample:x", "bf16", "topk")) {
            assertThatThrownBy(() -> LmKd.Encoding.parse(bad))
                .hasMessage("--soft-targets must be dense, fp16, topk:K or sample:N (K, N >= 1), got '" + bad + "'");
        }
    }

    @Test
    void halfPrecisionRoundsToTheNearestHalfValue() {
        assertThat(LmKd.roundToHalf(1f)).isEqualTo(1f);
        assertThat(LmKd.roundToHalf(1f / 3)).isEqualTo(0.333251953125f); // 1365 / 4096
        assertThat(LmKd.roundToHalf(0.1f)).isEqualTo(0.0999755859375f);
        assertThat(LmKd.roundToHalf(1e-8f)).as("below half a subnormal step").isZero();
        assertThat(LmKd.roundToHalf(3e-8f)).isEqualTo((float) Math.scalb(1.0, -24)); // the smallest subnormal
    }

    @Test
    void eachEncodingCostsItsBytesAndTrainsAStudentFromATeacher() {
        List<String> docs = LmCorpus.documents("lm:bundled", Path.of("data"));
        BytePairEncoding bpe = BytePairEncoding.train(docs, 300);
        int[][] seqs = LmCorpus.sequences(bpe, docs, 16);
        CausalTransformer teacher = CausalTransformer.parse("gpt:1:32:2:16", bpe.vocabSize());
        CausalTransformer student = CausalTransformer.parse("gpt:1:16:2:16", bpe.vocabSize());
        StudentConfig c = new StudentConfig(0.5, 0.9, 2, 0.7);
        try (NDManager m = NDManager.newBaseManager()) {
            Params t = LmTraining.adam(teacher, teacher.init(1, DataType.FLOAT32, m), seqs, 100, 8, 3e-3, 3, m);
            Params fresh = student.init(2, DataType.FLOAT32, m);
            double before = LmTraining.perplexity(student, fresh, seqs, 16, m);
            int v = bpe.vocabSize();
            for (var e : List.of(new Object[] {"dense", 4.0 * v}, new Object[] {"fp16", 2.0 * v}, new Object[] {"topk:8", 68.0})) {
                LmKd.Trained r = LmKd.train(student, fresh, teacher, t, LmKd.Encoding.parse((String) e[0]), seqs, 40, 8, c, 5, m);
                assertThat(r.bytesPerToken()).as(e[0] + " bytes per token").isEqualTo((double) e[1]);
                assertThat(LmTraining.perplexity(student, r.params(), seqs, 16, m)).as(e[0] + ": it learned").isLessThan(before / 2);
            }
            LmKd.Trained sampled = LmKd.train(student, fresh, teacher, t, LmKd.Encoding.parse("sample:8"), seqs, 5, 8, c, 5, m);
            assertThat(sampled.bytesPerToken()).as("at most 8 distinct tokens of 6 bytes, and an offset of 4").isBetween(10.0, 52.0);
            LmKd.Trained again = LmKd.train(student, fresh, teacher, t, LmKd.Encoding.parse("sample:8"), seqs, 5, 8, c, 5, m);
            assertThat(again.params().sha256()).as("the same seed draws the same").isEqualTo(sampled.params().sha256());
        }
    }
}
