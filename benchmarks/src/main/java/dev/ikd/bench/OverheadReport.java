package dev.ikd.bench;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/** What {@code ikd bench overhead} measured, summarised: medians per setting, the student's own step, the table and the plot. */
public final class OverheadReport {

    private OverheadReport() {
    }

    /** The results are recorded either way, but a distributed run that does not end on the in-process hashes fails the bench. */
    public static void requireSameHashes(JsonArray summary) {
        List<String> differ = new ArrayList<>();
        for (var e : summary) {
            JsonObject o = e.getAsJsonObject();
            if (!o.get("same_hashes").getAsBoolean()) {
                differ.add(o.get("dataset").getAsString() + " " + o.get("teacher_mode").getAsString() + " "
                    + o.get("isolation").getAsString() + " " + o.get("variant").getAsString());
            }
        }
        if (!differ.isEmpty()) {
            throw new dev.ikd.runtime.RunFailedException("distributed runs ended on other hashes than the in-process run: "
                + String.join("; ", differ));
        }
    }

    /** Median, min and max of every setting's repeats. */
    static JsonArray summarise(List<JsonObject> runs) {
        Map<List<String>, List<JsonObject>> groups = new LinkedHashMap<>();
        for (JsonObject r : runs) {
            groups.computeIfAbsent(List.of(r.get("dataset").getAsString(), r.get("teacher_mode").getAsString(),
                r.get("isolation").getAsString(), r.get("variant").getAsString()), k -> new ArrayList<>()).add(r);
        }
        JsonArray out = new JsonArray();
        groups.forEach((key, rows) -> {
            var o = new JsonObject();
            o.addProperty("dataset", key.get(0));
            o.addProperty("teacher_mode", key.get(1));
            o.addProperty("isolation", key.get(2));
            o.addProperty("variant", key.get(3));
            o.addProperty("repeats", rows.size());
            o.addProperty("median_ratio", median(rows, "ratio"));
            o.addProperty("min_ratio", rows.stream().mapToDouble(r -> r.get("ratio").getAsDouble()).min().orElseThrow());
            o.addProperty("max_ratio", rows.stream().mapToDouble(r -> r.get("ratio").getAsDouble()).max().orElseThrow());
            o.addProperty("median_added_ms_per_step", median(rows, "added_ms_per_step"));
            o.addProperty("median_hop_p50_ms", median(rows, "hop_p50_ms"));
            o.addProperty("hops_per_step", median(rows, "hops_per_step"));
            o.addProperty("median_inprocess_ms_per_step", median(rows, "inprocess_ms_per_step"));
            o.addProperty("median_distributed_ms_per_step", median(rows, "distributed_ms_per_step"));
            o.addProperty("median_inprocess_ms_per_round", median(rows, "inprocess_ms_per_round"));
            o.addProperty("median_distributed_ms_per_round", median(rows, "distributed_ms_per_round"));
            o.addProperty("same_hashes", rows.stream().allMatch(r -> r.get("same_hashes").getAsBoolean()));
            out.add(o);
        });
        return out;
    }

    static JsonArray summariseStudentSteps(List<JsonObject> steps) {
        Map<String, Map<String, List<JsonObject>>> byDataset = new LinkedHashMap<>();
        for (JsonObject s : steps) {
            byDataset.computeIfAbsent(s.get("dataset").getAsString(), k -> new LinkedHashMap<>())
                .computeIfAbsent(s.get("method").getAsString(), k -> new ArrayList<>()).add(s);
        }
        JsonArray out = new JsonArray();
        byDataset.forEach((dataset, methods) -> {
            double kd = median(methods.get("kd"), "student_step_ms");
            methods.forEach((method, rows) -> {
                var o = new JsonObject();
                o.addProperty("dataset", dataset);
                o.addProperty("method", method);
                o.addProperty("median_student_step_ms", median(rows, "student_step_ms"));
                o.addProperty("over_kd", median(rows, "student_step_ms") / kd);
                o.addProperty("median_inprocess_ms_per_step", median(rows, "inprocess_ms_per_step"));
                out.add(o);
            });
        });
        return out;
    }

    private static double median(List<JsonObject> rows, String field) {
        return median(rows.stream().map(r -> r.get(field).getAsDouble()).toList());
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The section of BENCHMARKS.md: {@code command} as given, {@code repeats} per setting, {@code steps} per data set in words. */
    static String markdown(String command, int repeats, List<String> steps, Path results, JsonArray summary, JsonArray stepSummary,
                           int students, Path png) {
        StringBuilder md = new StringBuilder();
        md.append("### Distributed overhead").append(students == 1 ? "" : " (" + students + " students)").append("\n\n`")
            .append(command).append(String.format(Locale.ROOT, "` on %d cores: each "
                + "setting %d times in a rotating order, after a warm-up run (%s). "
                + "Per step: one student's course/exam step (a round of every student, divided by the students). Ratio: "
                + "distributed / in-process ms per step, in-process measured in the same repeat. Hops per step: hops a "
                + "student's step waits for one after the other, counted from every hop's moments (0 when the soft targets "
                + "were already there).%n%n", Runtime.getRuntime().availableProcessors(), repeats, String.join("; ", steps)));
        md.append("| data set | teacher | isolation | variant | in-process ms/step | distributed ms/step | ratio median (min-max) "
            + "| added ms/step | hop p50 ms | hops/step | same hashes |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (var e : summary) {
            JsonObject o = e.getAsJsonObject();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.2f | %.2f | %.3f (%.3f-%.3f) | %.2f | %.2f | %.1f | %s |%n",
                o.get("dataset").getAsString(), o.get("teacher_mode").getAsString(), o.get("isolation").getAsString(),
                o.get("variant").getAsString(), o.get("median_inprocess_ms_per_step").getAsDouble(),
                o.get("median_distributed_ms_per_step").getAsDouble(), o.get("median_ratio").getAsDouble(),
                o.get("min_ratio").getAsDouble(), o.get("max_ratio").getAsDouble(), o.get("median_added_ms_per_step").getAsDouble(),
                o.get("median_hop_p50_ms").getAsDouble(), o.get("hops_per_step").getAsDouble(),
                o.get("same_hashes").getAsBoolean() ? "yes" : "NO"));
        }
        if (students > 1) {
            int cores = Math.min(students, Runtime.getRuntime().availableProcessors());
            md.append(String.format(Locale.ROOT, "%nRounds (every student one step): the in-process run steps the students one "
                + "after the other; the ideal is the in-process round over the %d cores the students can use.%n%n", cores));
            md.append("| data set | teacher | isolation | variant | in-process round ms | distributed round ms | ideal round ms |\n");
            md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
            for (var e : summary) {
                JsonObject o = e.getAsJsonObject();
                double in = o.get("median_inprocess_ms_per_round").getAsDouble();
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.2f | %.2f | %.2f |%n", o.get("dataset").getAsString(),
                    o.get("teacher_mode").getAsString(), o.get("isolation").getAsString(), o.get("variant").getAsString(), in,
                    o.get("median_distributed_ms_per_round").getAsDouble(), in / cores));
            }
        }
        md.append("\nThe student's own step per method (in-process, median over the timed steps and repeats): alone = course "
            + "step on labels and an exam score; kd = course step on a frozen teacher's soft targets and an exam score; ikd = "
            + "course step, exam gradient and the feedback d.\n\n");
        md.append("| data set | method | student step ms | over kd | in-process ms/step (teacher included) |\n| --- | --- | --- | --- | --- |\n");
        for (var e : stepSummary) {
            JsonObject o = e.getAsJsonObject();
            md.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2fx | %.2f |%n", o.get("dataset").getAsString(),
                o.get("method").getAsString(), o.get("median_student_step_ms").getAsDouble(), o.get("over_kd").getAsDouble(),
                o.get("median_inprocess_ms_per_step").getAsDouble()));
        }
        md.append("\n![ms per step, in-process against distributed](").append(results.resolve(png.getFileName()))
            .append(")\n");
        return md.toString();
    }

    /** ms per step, distributed against in-process, one line per teacher mode, isolation and variant across the data sets. */
    static void plot(Path png, JsonArray summary, int students) {
        Map<String, List<double[]>> lines = new LinkedHashMap<>();
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (var e : summary) {
            JsonObject o = e.getAsJsonObject();
            double x = o.get("median_inprocess_ms_per_step").getAsDouble();
            double y = o.get("median_distributed_ms_per_step").getAsDouble();
            lo = Math.min(lo, Math.min(x, y));
            hi = Math.max(hi, Math.max(x, y));
            lines.computeIfAbsent(o.get("teacher_mode").getAsString() + " " + o.get("isolation").getAsString() + " "
                + o.get("variant").getAsString(), k -> new ArrayList<>()).add(new double[] {x, y});
        }
        Color[] colors = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44), new Color(148, 103, 189),
            new Color(255, 127, 14), new Color(23, 190, 207), new Color(140, 86, 75), new Color(227, 119, 194)};
        List<LinePlot.Series> series = new ArrayList<>();
        series.add(new LinePlot.Series("distributed = in-process", new double[] {lo, hi}, new double[] {lo, hi}, Color.GRAY, true));
        int i = 0;
        for (var l : lines.entrySet()) {
            l.getValue().sort((a, b) -> Double.compare(a[0], b[0]));
            series.add(new LinePlot.Series(l.getKey(), l.getValue().stream().mapToDouble(p -> p[0]).toArray(),
                l.getValue().stream().mapToDouble(p -> p[1]).toArray(), colors[i++ % colors.length], false));
        }
        LinePlot.write(png, "ms per step, " + students + (students == 1 ? " student" : " students") + " (medians)",
            "in-process ms per step", "distributed ms per step", series);
    }
}
