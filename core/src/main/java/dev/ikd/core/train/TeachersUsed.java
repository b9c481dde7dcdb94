package dev.ikd.core.train;

import java.util.Map;
import java.util.stream.IntStream;

/**
 * Which of a run's teachers each step of each student learned from. Every one of them, unless the
 * run let a step go ahead without a late teacher ({@code --teachers-required}): then the log says
 * which teachers answered in time, and the in-process trainer follows it to reproduce the run.
 */
@FunctionalInterface
public interface TeachersUsed {

    /** Every teacher at every step. */
    TeachersUsed ALL = (student, step, teachers) -> IntStream.range(0, teachers).toArray();

    /** The teachers (indices into the run's, ascending, at least one) student {@code student}'s step {@code step} used. */
    int[] at(String student, long step, int teachers);

    /** Every teacher, except at the steps {@code degraded} names (student → step → the teachers it used). */
    static TeachersUsed except(Map<String, Map<Long, int[]>> degraded) {
        Map<String, Map<Long, int[]>> copy = Map.copyOf(degraded);
        return (student, step, teachers) -> {
            int[] used = copy.getOrDefault(student, Map.of()).get(step);
            return used == null ? ALL.at(student, step, teachers) : used.clone();
        };
    }
}
