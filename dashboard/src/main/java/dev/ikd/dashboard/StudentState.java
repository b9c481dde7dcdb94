package dev.ikd.dashboard;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What the dashboard knows of one student. */
final class StudentState {
    final TreeMap<Long, RunProjection.Row> rows = new TreeMap<>();
    /** Each teacher's version after each step it updated at ("" for the run's only teacher). */
    final Map<String, Map<Long, Long>> teacherVersions = new TreeMap<>();
    /** With several teachers: the run's teachers, and whose soft targets each step not yet learned has. */
    List<String> teachers = List.of();
    final TreeMap<Long, java.util.Set<String>> softFrom = new TreeMap<>();
    boolean enrolled;
    boolean admitted;
    String refused;
    String aborted;
    Double testAccuracy;
    /** A language model's: its test perplexity once reported, and the TokenTargets bytes and positions it was sent. */
    Double testPerplexity;
    long tokenBytes;
    long tokenPositions;
    long lastSoftTargets = -1;
    long lastFeedback = -1;
    long lastExam = -1;
    long lastMs;

    /** The exam loss of the latest step that has one (null: none yet). */
    Double lastExamLoss() {
        return rows.descendingMap().values().stream().map(r -> r.exam).filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    RunProjection.Row row(long step) {
        return rows.computeIfAbsent(step, RunProjection.Row::new);
    }

    /** What the student waits for, from the last records of each kind it sent and got. */
    String waiting() {
        if (aborted != null) {
            return "nothing: aborted (" + aborted + ")";
        }
        if (refused != null) {
            return "nothing: refused (" + refused + ")";
        }
        if (testAccuracy != null) {
            return "nothing: done";
        }
        if (!admitted) {
            return enrolled ? "admission by the coordinator" : "its enrollment";
        }
        long k = lastExam + 1;
        if (teachers.size() > 1) {
            java.util.Set<String> here = softFrom.getOrDefault(k, java.util.Set.of());
            List<String> missing = teachers.stream().filter(t -> !here.contains(t)).toList();
            return missing.isEmpty() ? "its own step " + k + " (course and exam)"
                : "the soft targets of " + String.join(", ", missing) + " for step " + k
                    + (here.isEmpty() ? "" : " (" + String.join(", ", here) + (here.size() == 1 ? " is" : " are") + " in)");
        }
        if (lastSoftTargets > lastExam) {
            return "its own step " + k + " (course and exam)";
        }
        return "the teacher's soft targets for step " + k;
    }
}
