package dev.ikd.learning.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.ikd.core.train.StepListener;
import dev.ikd.runtime.ServiceMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** Step events as Prometheus meters, read back in the text format Prometheus scrapes. */
class MetricsListenerTest {

    @Test
    void eachTeachersWeightIsItsLatestAndAStepWithoutItSetsItTo0AndIsCounted() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsListener listener = new MetricsListener(new ServiceMetrics(registry, "student"));
        List<String> teachers = List.of("teacher-a", "teacher-b", "teacher-c");
        listener.onTeachersWeighed(StepListener.TeachersWeighed.of("student-0", 0, teachers, new int[] {0, 1, 2},
            new double[] {0.5, 0.25, 0.25}));
        listener.onTeachersWeighed(StepListener.TeachersWeighed.of("student-0", 1, teachers, new int[] {0, 1},
            new double[] {0.625, 0.375}));
        String text = registry.scrape();
        assertThat(text).contains("ikd_teacher_weight{service=\"student\",student=\"student-0\",teacher=\"teacher-a\"} 0.625")
            .contains("ikd_teacher_weight{service=\"student\",student=\"student-0\",teacher=\"teacher-b\"} 0.375")
            .contains("ikd_teacher_weight{service=\"student\",student=\"student-0\",teacher=\"teacher-c\"} 0.0")
            .contains("ikd_steps_without_teacher_total{service=\"student\",student=\"student-0\",teacher=\"teacher-c\"} 1.0")
            .doesNotContain("ikd_steps_without_teacher_total{service=\"student\",student=\"student-0\",teacher=\"teacher-a\"}");
    }
}
