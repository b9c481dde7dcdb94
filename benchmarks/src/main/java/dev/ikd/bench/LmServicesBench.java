package dev.ikd.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.wiring.LanguageModelRun;
import dev.ikd.wiring.LanguageModels;
import dev.ikd.wiring.RunOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ikd bench lm-services}: one language-model distillation run twice on this machine, in
 * process ({@code ikd train}) and over Kafka ({@code ikd local}: an embedded broker, the coordinator,
 * the teacher and each student as services): whether every student ends on the same hash, the wall
 * time of each whole command and their ratio, and the soft-target bytes a token counted in process
 * against those the students were sent (TokenTargets as serialized).
 */
@Command(name = "lm-services", mixinStandardHelpOptions = true,
    description = "Distil a language model in process and over Kafka: the same hashes, the wall time of each, the bytes a token sent.")
public final class LmServicesBench implements Callable<Integer> {

    @Mixin
    RunOptions run;

    @Option(names = "--teacher-checkpoint", required = true, paramLabel = "M.safetensors",
        description = "The teacher, a model from 'ikd pretrain --dataset lm:...'.")
    Path teacher;

    @Option(names = "--tag", description = "Names a variant: results go to lm-services-TAG.json and a section of their own.")
    String tag;

    @Mixin
    BenchOutput output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (!LanguageModels.isCorpus(run.dataset)) {
            throw new IllegalArgumentException("ikd bench lm-services distils a language model: give --dataset lm:...");
        }
        long t0 = System.nanoTime();
        LanguageModels.Distilled inProcess = LanguageModels.distil(run, teacher, null);
        double inProcessSeconds = (System.nanoTime() - t0) / 1e9;
        Path dir = Files.createTempDirectory("ikd-bench-lm-services");
        LanguageModels.Distilled services;
        long t1 = System.nanoTime();
        try {
            services = LanguageModelRun.local(run, teacher, new LanguageModelRun.Local(dir, "bench-lm-services", -1, 24 * 3600, false,
                false), (d, id) -> { });
        } finally {
            deleteTree(dir);
        }
        double servicesSeconds = (System.nanoTime() - t1) / 1e9;
        JsonObject out = new JsonObject();
        out.addProperty("command", "ikd " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        out.addProperty("dataset", inProcess.dataset());
        out.addProperty("teacher", inProcess.teacher().spec());
        out.addProperty("vocab", inProcess.teacher().vocabSize());
        out.addProperty("teacher_mode", inProcess.teacherMode());
        out.addProperty("soft_targets", inProcess.softTargets());
        out.addProperty("in_process_s", inProcessSeconds);
        out.addProperty("services_s", servicesSeconds);
        out.addProperty("wall_ratio", servicesSeconds / inProcessSeconds);
        boolean same = true;
        JsonArray students = new JsonArray();
        for (int i = 0; i < inProcess.students().size(); i++) {
            var a = inProcess.students().get(i);
            var b = services.students().get(i);
            same &= a.paramSha256().equals(b.paramSha256()) && a.id().equals(b.id());
            JsonObject s = new JsonObject();
            s.addProperty("id", a.id());
            s.addProperty("param_sha256", a.paramSha256());
            s.addProperty("same_hash", a.paramSha256().equals(b.paramSha256()));
            s.addProperty("test_perplexity", a.testPerplexity());
            s.addProperty("services_test_perplexity", b.testPerplexity());
            s.addProperty("bytes_per_token_counted", a.softTargetBytesPerToken());
            s.addProperty("bytes_per_token_sent", b.softTargetBytesPerToken());
            students.add(s);
        }
        out.addProperty("same_hashes", same);
        out.add("students", students);
        String name = tag == null ? "lm-services" : "lm-services-" + tag;
        output.record(name, out, markdown(out));
        return same ? 0 : 1;
    }

    private static String markdown(JsonObject r) {
        StringBuilder md = new StringBuilder("### A language model distilled in process and over Kafka\n\n");
        md.append(String.format(Locale.ROOT, "`%s`: %s, teacher %s over %d tokens, mode %s, soft targets %s. The whole command in process "
                + "took %.1f s, over Kafka (an embedded broker, the coordinator, the teacher and each student as services in one JVM) "
                + "%.1f s: **%.2fx**. Every student on the same hash: **%s**.%n%n", r.get("command").getAsString(),
            r.get("dataset").getAsString(), r.get("teacher").getAsString(), r.get("vocab").getAsInt(), r.get("teacher_mode").getAsString(),
            r.get("soft_targets").getAsString(), r.get("in_process_s").getAsDouble(), r.get("services_s").getAsDouble(),
            r.get("wall_ratio").getAsDouble(), r.get("same_hashes").getAsBoolean() ? "yes" : "no"));
        md.append("| student | test perplexity | over Kafka | same hash | bytes a token, counted | bytes a token, as sent |\n");
        md.append("| --- | --- | --- | --- | --- | --- |\n");
        for (var e : r.getAsJsonArray("students")) {
            JsonObject s = e.getAsJsonObject();
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s | %.1f | %.1f |%n", s.get("id").getAsString(),
                s.get("test_perplexity").getAsDouble(), s.get("services_test_perplexity").getAsDouble(),
                s.get("same_hash").getAsBoolean() ? "yes" : "no", s.get("bytes_per_token_counted").getAsDouble(),
                s.get("bytes_per_token_sent").getAsDouble()));
        }
        return md.toString();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
