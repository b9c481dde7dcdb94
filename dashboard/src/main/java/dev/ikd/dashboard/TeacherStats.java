package dev.ikd.dashboard;

import java.util.Map;
import java.util.TreeMap;

import io.vertx.core.json.JsonObject;

/**
 * One teacher of several: its latest weight and loss for each student, how many steps learned from
 * it, and how many went ahead without it (its soft targets late past the deadline), the last one
 * named.
 */
final class TeacherStats {
    final Map<String, Double> weight = new TreeMap<>();
    final Map<String, Double> loss = new TreeMap<>();
    long stepsUsed;
    long stepsWithout;
    String lastWithout;

    JsonObject json() {
        return new JsonObject().put("weight", mean(weight)).put("loss", mean(loss)).put("steps_used", stepsUsed)
            .put("steps_without", stepsWithout).put("last_without", lastWithout);
    }

    private static Double mean(Map<String, Double> byStudent) {
        return byStudent.isEmpty() ? null : byStudent.values().stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
