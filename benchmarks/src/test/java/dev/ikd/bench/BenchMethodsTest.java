package dev.ikd.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.train.TeacherSet;
import org.junit.jupiter.api.Test;

/** A benchmark's method names with several teachers: one of them alone, or all of them weighed. */
class BenchMethodsTest {

    static final TeacherSet THREE = new TeacherSet(List.of(ModelSpec.parse("mlp:32:64"), ModelSpec.parse("mlp:32:32"),
        ModelSpec.parse("mlp:32:16")), TeacherWeighting.EQUAL);

    @Test
    void aMethodLearnsFromOneTeacherAloneOrFromAllOfThemWeighed() {
        var b = BenchMethods.Ensemble.of("kd:teacher-b", THREE);
        assertThat(b.method()).isEqualTo("kd");
        assertThat(b.teachers().models()).containsExactly(ModelSpec.parse("mlp:32:32"));
        assertThat(b.pick(List.of("a", "b", "c"))).containsExactly("b");
        var confidence = BenchMethods.Ensemble.of("ikd@kl=1:confidence", THREE);
        assertThat(confidence.method()).isEqualTo("ikd@kl=1");
        assertThat(confidence.teachers().weighting()).isEqualTo(TeacherWeighting.CONFIDENCE);
        assertThat(confidence.pick(List.of("a", "b", "c"))).containsExactly("a", "b", "c");
        assertThat(BenchMethods.Ensemble.of("alone", THREE).pick(List.of("a", "b", "c"))).containsExactly("a");
        assertThat(AccuracyBench.ensembleMethods(3)).containsExactly("kd:teacher-a", "kd:teacher-b", "kd:teacher-c", "kd:equal",
            "kd:confidence", "ikd:confidence");
    }

    @Test
    void aMethodThatDoesNotSayWhichTeachersOrNamesAWeightingOfOneIsRefused() {
        assertThatThrownBy(() -> BenchMethods.Ensemble.of("kd", THREE)).hasMessageStartingWith("method 'kd': with 3 teachers, say which");
        assertThatThrownBy(() -> BenchMethods.Ensemble.of("kd:fixed:1,2", THREE))
            .hasMessage("--teacher-weighting fixed:1,2 gives 2 weights for 3 teachers");
        assertThatThrownBy(() -> BenchMethods.Ensemble.of("kd:confidence", TeacherSet.one(ModelSpec.parse("mlp:32:64"))))
            .hasMessage("method 'kd:confidence': a weighting needs --teachers 2 or more");
    }
}
