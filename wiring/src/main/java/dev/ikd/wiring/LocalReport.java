package dev.ikd.wiring;

import java.nio.file.Path;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.train.TrainResult;

/** What {@code ikd local} prints at the end of a run: the students, and how to replay, export and watch it. */
public final class LocalReport {

    private LocalReport() {
    }

    /** What --json prints: one object. */
    public static JsonObject json(LocalRun.Outcome o, Path dir, TrainResult baseline, Boolean verified, List<Teachers.Row> teachers) {
        var out = new JsonObject();
        out.addProperty("run_id", o.runId());
        out.addProperty("data_dir", dir.toAbsolutePath().toString());
        out.addProperty("wall_s", o.wallSeconds());
        var students = new JsonArray();
        for (int i = 0; i < o.students().size(); i++) {
            TrainResult.StudentResult s = o.students().get(i);
            var so = new JsonObject();
            so.addProperty("id", s.id());
            so.addProperty("steps", s.steps());
            so.addProperty("test_accuracy", s.testAccuracy());
            so.addProperty("param_sha256", s.paramSha256());
            if (baseline != null) {
                so.addProperty("kd_test_accuracy", baseline.students().get(i).testAccuracy());
            }
            students.add(so);
        }
        out.add("students", students);
        out.add("teachers", Teachers.Row.json(teachers));
        if (verified == null) {
            out.add("verified_inprocess", com.google.gson.JsonNull.INSTANCE);
        } else {
            out.addProperty("verified_inprocess", verified);
        }
        return out;
    }

    /** The lines a person reads: the students, and how to replay, export and watch the run. */
    public static String text(LocalRun.Outcome o, Path dir, TrainResult baseline, Boolean verified, List<Teachers.Row> teachers) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("run %s: %d students, %.1f s%n", o.runId(), o.students().size(), o.wallSeconds()));
        if (teachers.size() > 1) {
            out.append(String.format("%-12s %-14s %s%n", "teacher", "test accuracy", "model"));
            out.append(Teachers.Row.lines(teachers));
        }
        out.append(String.format("%-12s %-6s %-14s%s %s%n", "student", "steps", "test accuracy", baseline == null ? "" : " kd baseline ",
            "parameter sha256"));
        for (int i = 0; i < o.students().size(); i++) {
            TrainResult.StudentResult s = o.students().get(i);
            out.append(String.format("%-12s %-6d %-14.4f%s %s%n", s.id(), s.steps(), s.testAccuracy(),
                baseline == null ? "" : String.format(" %-12.4f", baseline.students().get(i).testAccuracy()), s.paramSha256()));
        }
        out.append(String.format("event log: Kafka data in %s, run id %s%n", dir.resolve("kafka"), o.runId()));
        out.append(String.format("replay it:  ikd replay --data-dir %s --run-id %s --verify%n", dir, o.runId()));
        out.append(String.format("export one: ikd export --data-dir %s --run-id %s --student %s --out %s.safetensors%n", dir, o.runId(),
            o.students().get(0).id(), o.students().get(0).id()));
        out.append(String.format("watch it:   ikd dashboard --data-dir %s --run-id %s%n", dir, o.runId()));
        if (verified != null) {
            out.append(verified ? "in-process reference run: every final hash matches\n"
                : "in-process reference run: final hashes DIFFER\n");
        }
        return out.toString();
    }
}
