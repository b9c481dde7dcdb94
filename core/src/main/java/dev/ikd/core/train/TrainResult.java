package dev.ikd.core.train;

import java.util.List;

/** What a run ends with: per student its test accuracy and final parameter hash. */
public record TrainResult(String datasetSha256, List<StudentResult> students, double wallSeconds) {

    public record StudentResult(String id, long steps, double testAccuracy, String paramSha256) {
    }

    public double meanStudentAccuracy() {
        return students.stream().mapToDouble(StudentResult::testAccuracy).average().orElse(Double.NaN);
    }
}
