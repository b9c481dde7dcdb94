package dev.ikd.core.train;

import java.util.List;

/** What a run ends with: per student its test accuracy and final parameter hash. */
public record TrainResult(String datasetSha256, List<StudentResult> students, double wallSeconds) {

    /** @param halves accuracy on each half of the test split (benchmarks choose on the first, report the second); null if not measured */
    public record StudentResult(String id, long steps, double testAccuracy, String paramSha256, Evaluation.Halves halves) {
        public StudentResult(String id, long steps, double testAccuracy, String paramSha256) {
            this(id, steps, testAccuracy, paramSha256, null);
        }
    }

    /** The students' mean accuracy on each half of the test split. */
    public Evaluation.Halves meanHalves() {
        return new Evaluation.Halves(students.stream().mapToDouble(s -> s.halves().validation()).average().orElse(Double.NaN),
            students.stream().mapToDouble(s -> s.halves().test()).average().orElse(Double.NaN));
    }

    public double meanStudentAccuracy() {
        return students.stream().mapToDouble(StudentResult::testAccuracy).average().orElse(Double.NaN);
    }

    /** Whether two runs' students end on the same parameter hashes, student by student. */
    public static boolean sameHashes(List<StudentResult> a, List<StudentResult> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).paramSha256().equals(b.get(i).paramSha256())) {
                return false;
            }
        }
        return true;
    }
}
