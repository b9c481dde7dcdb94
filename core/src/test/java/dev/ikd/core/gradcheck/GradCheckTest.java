package dev.ikd.core.gradcheck;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.data.Datasets;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** docs/architecture.md §2: the shipped feedback equals brute-force differentiation of the whole bilevel objective. */
class GradCheckTest {

    static NDManager manager;
    static Dataset digits;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        digits = Datasets.digits();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    @Test
    void feedbackMatchesBruteForceInFloat64() {
        GradCheck.Result r = GradCheck.run(GradCheck.Settings.tiny(DataType.FLOAT64), digits, manager);
        System.out.println("float64 " + r);
        assertThat(r.checked()).isEqualTo(4 * 10);
        assertThat(r.scale()).isGreaterThan(1e-6);
        assertThat(r.maxRelError()).isLessThanOrEqualTo(1e-3);
        assertThat(r.ok()).isTrue();
    }

    @Test
    void feedbackMatchesBruteForceInFloat32() {
        GradCheck.Result r = GradCheck.run(GradCheck.Settings.tiny(DataType.FLOAT32), digits, manager);
        System.out.println("float32 " + r);
        assertThat(r.maxRelError()).isLessThanOrEqualTo(1e-2);
    }

    @Test
    void feedbackMatchesBruteForceWithoutMomentumAndOnACnn() {
        var plain = new GradCheck.Settings(ModelSpec.parse("mlp:5:7"), DataType.FLOAT64, 11, 3, 6,
            new StudentConfig(0.3, 0.0, 4.0, 0.5));
        assertThat(GradCheck.run(plain, digits, manager).maxRelError()).isLessThanOrEqualTo(1e-3);
        var cnn = new GradCheck.Settings(ModelSpec.parse("cnn:2:3"), DataType.FLOAT64, 5, 2, 4,
            new StudentConfig(0.5, 0.5, 2.0, 0.9));
        GradCheck.Result r = GradCheck.run(cnn, digits, manager);
        System.out.println("cnn " + r);
        assertThat(r.maxRelError()).isLessThanOrEqualTo(1e-3);
    }

    @Test
    void feedbackMatchesBruteForceOnATextModel() {
        var text = new GradCheck.Settings(ModelSpec.parse("text:4:3"), DataType.FLOAT64, 3, 2, 4,
            new StudentConfig(0.5, 0.9, 2.0, 0.7));
        GradCheck.Result r = GradCheck.run(text, dev.ikd.core.data.Datasets.sentences(), manager);
        System.out.println("text " + r);
        assertThat(r.maxRelError()).isLessThanOrEqualTo(1e-3);
    }

    /** Several teachers: each one's share of the feedback, through each weighting, against its own logits' brute force. */
    @Test
    void eachTeachersFeedbackMatchesBruteForceThroughEveryWeighting() {
        for (String weighting : new String[] {"equal", "fixed:1,3,0.5", "confidence"}) {
            var s = GradCheck.Settings.tiny(DataType.FLOAT64).with(3, TeacherWeighting.parse(weighting));
            GradCheck.Result r = GradCheck.run(s, digits, manager);
            System.out.println("3 teachers, " + weighting + " " + r);
            assertThat(r.checked()).isEqualTo(3 * 4 * 10);
            assertThat(r.scale()).isGreaterThan(1e-6);
            assertThat(r.maxRelError()).as(weighting).isLessThanOrEqualTo(1e-3);
        }
        GradCheck.Result wrong = GradCheck.run(GradCheck.Settings.tiny(DataType.FLOAT64).with(3, TeacherWeighting.CONFIDENCE), digits,
            manager, d -> d.mul(1.1));
        assertThat(wrong.ok()).as("a feedback off by ten percent is caught with three teachers too").isFalse();
    }

    @Test
    void aFeedbackOffByTenPercentIsCaught() {
        GradCheck.Result r = GradCheck.run(GradCheck.Settings.tiny(DataType.FLOAT64), digits, manager, d -> d.mul(1.1));
        assertThat(r.maxRelError()).isGreaterThan(0.05);
        assertThat(r.ok()).isFalse();
    }
}
