package dev.ikd.wiring;

import java.util.Locale;

import com.google.gson.JsonObject;
import dev.ikd.proto.v1.StudentReport;

/** A student's report as {@code ikd student} prints it: one line, or one JSON object (a language model's perplexity and bytes per token too). */
public final class StudentReports {

    private StudentReports() {
    }

    public static String line(String id, StudentReport r, boolean json) {
        boolean language = r.getTestPerplexity() > 0;
        if (json) {
            var o = new JsonObject();
            o.addProperty("id", id);
            o.addProperty("steps", r.getSteps());
            o.addProperty("test_accuracy", r.getTestAccuracy());
            if (language) {
                o.addProperty("test_perplexity", r.getTestPerplexity());
                o.addProperty("soft_target_bytes_per_token", r.getSoftTargetBytesPerToken());
            }
            o.addProperty("param_sha256", r.getParamSha256());
            return o.toString();
        }
        return String.format(Locale.ROOT, "%s: %d steps, test accuracy %.4f%s, parameter sha256 %s", id, r.getSteps(), r.getTestAccuracy(),
            language ? String.format(Locale.ROOT, ", test perplexity %.2f, %.1f soft-target bytes a token", r.getTestPerplexity(),
                r.getSoftTargetBytesPerToken()) : "", r.getParamSha256());
    }
}
