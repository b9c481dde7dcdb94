package dev.ikd.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.learn.Leash;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.TeacherConfig;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.Params;
import dev.ikd.core.text.BytePairEncoding;
import dev.ikd.core.text.LmCorpus;
import dev.ikd.core.text.LmIkd;
import dev.ikd.core.text.LmKd;
import dev.ikd.core.text.LmSampling;
import dev.ikd.core.text.LmTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ikd bench lm}: distilling a language model, in process (the services do not carry language
 * models yet). Per seed: a BPE tokenizer trained on the corpus's train split, a teacher transformer
 * pretrained with Adam, then a smaller student trained the same number of course steps alone and
 * from the teacher's soft targets in each encoding; test perplexity, bytes of soft targets per
 * predicted token, ms per step, and each encoding's perplexity as a ratio to dense KD's.
 */
@Command(name = "lm", mixinStandardHelpOptions = true,
    description = "Distil a causal transformer in process with each soft-target encoding: perplexity against bytes per token.")
public final class LmBench implements Callable<Integer> {

    @Option(names = "--corpus", defaultValue = "lm:brown", description = "lm:brown, lm:imdb, lm:bundled or lm:PATH. Default: ${DEFAULT-VALUE}")
    String corpus;

    @Option(names = "--datasets-dir", defaultValue = "data", description = "Where fetched data sets live. Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--vocab", defaultValue = "8192", description = "BPE vocabulary size. Default: ${DEFAULT-VALUE}")
    int vocab;

    @Option(names = "--context", defaultValue = "64", description = "Tokens a sequence holds. Default: ${DEFAULT-VALUE}")
    int context;

    @Option(names = "--teacher", defaultValue = "gpt:2:128:4:64", description = "Teacher model. Default: ${DEFAULT-VALUE}")
    String teacherSpec;

    @Option(names = "--student", defaultValue = "gpt:1:64:2:64", description = "Student model. Default: ${DEFAULT-VALUE}")
    String studentSpec;

    @Option(names = "--pretrain-steps", defaultValue = "1000", description = "Teacher Adam steps. Default: ${DEFAULT-VALUE}")
    long pretrainSteps;

    @Option(names = "--teacher-lr", defaultValue = "0.003", description = "Teacher Adam learning rate. Default: ${DEFAULT-VALUE}")
    double teacherLr;

    @Option(names = "--steps", defaultValue = "500", description = "Student course steps, every method. Default: ${DEFAULT-VALUE}")
    long steps;

    @Option(names = "--batch", defaultValue = "16", description = "Sequences a step. Default: ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--lr", defaultValue = "0.5", description = "Student SGD learning rate. Default: ${DEFAULT-VALUE}")
    double lr;

    @Option(names = "--temperature", defaultValue = "2", description = "Distillation temperature. Default: ${DEFAULT-VALUE}")
    double temperature;

    @Option(names = "--alpha", defaultValue = "0.7", description = "Weight of the distillation term. Default: ${DEFAULT-VALUE}")
    double alpha;

    @Option(names = "--encodings", split = ",",
        defaultValue = "dense,fp16,topk:1,topk:8,topk:32,topk:128,sample:8,sample:32,sample:128",
        description = "Soft-target encodings to compare. Default: ${DEFAULT-VALUE}")
    List<String> encodings;

    @Option(names = "--ikd", split = ",", defaultValue = "topk:128",
        description = "Encodings a learning teacher sends (dense or topk:K), each ENCODING or ENCODING@BRAKE=V+...+beta=β (the brakes "
            + "of --teacher-leash), e.g. topk:128@kl=1+clip=0.05; none: no IKD. Default: ${DEFAULT-VALUE}")
    List<String> ikd;

    @Option(names = "--ikd-teacher-lr", defaultValue = "0.05", description = "The learning teacher's SGD learning rate. Default: ${DEFAULT-VALUE}")
    double ikdTeacherLr;

    @Option(names = "--seeds", defaultValue = "3", description = "Seeds (model inits and batches; the split stays). Default: ${DEFAULT-VALUE}")
    int seeds;

    @Option(names = "--tag", description = "Names a variant: results go to lm-TAG.json, lm-TAG.png and a section of their own.")
    String tag;

    @Option(names = "--prompt", defaultValue = "The jury said", description = "Seed 1's teacher and each of its students continue "
        + "this text, recorded beside the numbers. Default: ${DEFAULT-VALUE}")
    String prompt;

    @Option(names = "--sample-tokens", defaultValue = "24", description = "Tokens each continues it by (0: none), drawn at "
        + "temperature " + SAMPLE_TEMPERATURE + " within top-p " + SAMPLE_TOP_P + ", seed 1. Default: ${DEFAULT-VALUE}")
    int sampleTokens;

    static final double SAMPLE_TEMPERATURE = 0.7;
    static final double SAMPLE_TOP_P = 0.9;

    @Mixin
    BenchOutput output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<LmKd.Encoding> codes = encodings.stream().map(LmKd.Encoding::parse).toList();
        Map<String, LmKd.Encoding> learning = new LinkedHashMap<>();
        Map<String, TeacherConfig> teaching = new LinkedHashMap<>();
        for (String m : ikd) {
            if (m.isBlank() || m.strip().equals("none")) {
                continue;
            }
            int at = m.indexOf('@');
            LmKd.Encoding e = LmKd.Encoding.parse(at < 0 ? m : m.substring(0, at));
            LmIkd.check(e);
            BenchMethods.Method brakes = BenchMethods.method(at < 0 ? "ikd" : "ikd" + m.substring(at));
            TeacherConfig t = new TeacherConfig(ikdTeacherLr, 0.9, brakes.beta() == null ? 0 : brakes.beta(), 1,
                brakes.leash() == null ? Leash.NONE : brakes.leash());
            learning.put("ikd:" + m.strip(), e);
            teaching.put("ikd:" + m.strip(), t);
        }
        if (seeds < 1 || steps < 1 || batch < 1) {
            throw new IllegalArgumentException("--seeds, --steps and --batch must be at least 1");
        }
        LmSampling.Settings sampling = new LmSampling.Settings(sampleTokens, SAMPLE_TEMPERATURE, SAMPLE_TOP_P, 1);
        long t0 = System.nanoTime();
        LmCorpus split = LmCorpus.split(corpus, LmCorpus.documents(corpus, dataDir), 1, 0.1, 0.1);
        BytePairEncoding bpe = BytePairEncoding.train(split.train(), vocab);
        int[][] train = LmCorpus.sequences(bpe, split.train(), context);
        int[][] test = LmCorpus.sequences(bpe, split.test(), context);
        int[][] quiz = LmCorpus.sequences(bpe, split.quiz(), context);
        CausalTransformer teacher = CausalTransformer.parse(teacherSpec, bpe.vocabSize());
        CausalTransformer student = CausalTransformer.parse(studentSpec, bpe.vocabSize());
        System.err.printf(Locale.ROOT, "%s: %d train and %d test sequences of %d tokens, BPE %d%n", corpus, train.length, test.length,
            context, bpe.vocabSize());
        StudentConfig c = new StudentConfig(lr, 0.9, temperature, alpha);
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        List<Double> teacherPerplexity = new ArrayList<>();
        JsonArray runs = new JsonArray();
        JsonObject samples = new JsonObject();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int s = 1; s <= seeds; s++) {
                try (NDManager seed = manager.newSubManager()) {
                    Params t = LmTraining.adam(teacher, teacher.init(s, DataType.FLOAT32, seed), train, pretrainSteps, batch, teacherLr,
                        s, seed);
                    double tp = LmTraining.perplexity(teacher, t, test, batch, seed);
                    teacherPerplexity.add(tp);
                    System.err.printf(Locale.ROOT, "seed %d: teacher %s test perplexity %.2f%n", s, teacherSpec, tp);
                    if (s == 1 && sampleTokens > 0) {
                        samples.addProperty("teacher", LmSampling.generate(teacher, t, bpe, prompt, sampling, seed));
                    }
                    Params fresh = student.init(s + 100, DataType.FLOAT32, seed);
                    Map<String, LmKd.Encoding> methods = new LinkedHashMap<>();
                    methods.put("alone", null);
                    codes.forEach(e -> methods.put("kd:" + e, e));
                    methods.putAll(learning);
                    for (var method : methods.entrySet()) {
                        String name = method.getKey();
                        try (NDManager scope = seed.newSubManager()) {
                            LmKd.Trained r = LmKd.train(student, fresh, teacher, t, method.getValue(), teaching.get(name), train, quiz, steps,
                                batch, c, s, scope);
                            double p = LmTraining.perplexity(student, r.params(), test, batch, scope);
                            double after = teaching.containsKey(name) ? LmTraining.perplexity(teacher, r.teacher(), test, batch, scope)
                                : Double.NaN;
                            results.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {p, r.bytesPerToken(), r.msPerStep(), after});
                            JsonObject run = new JsonObject();
                            run.addProperty("seed", s);
                            run.addProperty("method", name);
                            run.addProperty("test_perplexity", p);
                            run.addProperty("soft_target_bytes_per_token", r.bytesPerToken());
                            run.addProperty("ms_per_step", r.msPerStep());
                            if (!Double.isNaN(after)) {
                                run.addProperty("teacher_test_perplexity_after", after);
                            }
                            runs.add(run);
                            if (s == 1 && sampleTokens > 0) {
                                samples.addProperty(name, LmSampling.generate(student, r.params(), bpe, prompt, sampling, scope));
                            }
                            System.err.printf(Locale.ROOT, "  %-12s test perplexity %8.2f  %9.1f bytes/token  %6.1f ms/step%s%n", name, p,
                                r.bytesPerToken(), r.msPerStep(), Double.isNaN(after) ? ""
                                    : String.format(Locale.ROOT, "  teacher after %.2f", after));
                        }
                    }
                }
            }
        }
        JsonObject out = new JsonObject();
        out.addProperty("command", "ikd " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        out.addProperty("corpus", corpus);
        out.addProperty("vocab", bpe.vocabSize());
        out.addProperty("train_sequences", train.length);
        out.addProperty("test_sequences", test.length);
        out.addProperty("wall_s", (System.nanoTime() - t0) / 1e9);
        JsonArray tp = new JsonArray();
        teacherPerplexity.forEach(tp::add);
        out.add("teacher_test_perplexity", tp);
        out.add("runs", runs);
        if (sampleTokens > 0) {
            out.addProperty("prompt", prompt);
            out.add("samples", samples);
        }
        out.add("summary", summarise(results));
        String name = tag == null ? "lm" : "lm-" + tag;
        plot(out.getAsJsonArray("summary"), output.results.resolve(name + ".png"), corpus + ", BPE " + bpe.vocabSize());
        output.record(name, out, markdown(out) + "\n![student perplexity against bytes per token](bench/results/" + name + ".png)\n");
        return 0;
    }

    /**
     * Student test perplexity against soft-target bytes per token, log-log: one line through the
     * top-K sizes, one through the sample sizes, a point for every other method that sends targets
     * (the student alone sends none and has no place on a log axis; the table has it).
     */
    public static void plot(JsonArray summary, Path png, String title) {
        Map<String, List<double[]>> families = new LinkedHashMap<>();
        for (var e : summary) {
            JsonObject s = e.getAsJsonObject();
            String method = s.get("method").getAsString();
            double bytes = s.get("soft_target_bytes_per_token").getAsDouble();
            if (bytes <= 0) {
                continue;
            }
            String family = method.startsWith("kd:topk:") ? "KD, top-K" : method.startsWith("kd:sample:") ? "KD, sample"
                : method.contains("@") ? method.substring(0, method.indexOf('@')) + ", leashed" : method;
            families.computeIfAbsent(family, k -> new ArrayList<>()).add(new double[] {bytes, s.get("test_perplexity").getAsDouble()});
        }
        java.awt.Color[] colors = {new java.awt.Color(0x1f77b4), new java.awt.Color(0xd62728), java.awt.Color.BLACK,
            new java.awt.Color(0x2ca02c), new java.awt.Color(0x9467bd), new java.awt.Color(0xff7f0e), new java.awt.Color(0x8c564b)};
        List<LinePlot.Series> series = new ArrayList<>();
        for (var f : families.entrySet()) {
            List<double[]> points = new ArrayList<>(f.getValue());
            points.sort(java.util.Comparator.comparingDouble(p -> p[0]));
            series.add(new LinePlot.Series(f.getKey(), points.stream().mapToDouble(p -> p[0]).toArray(),
                points.stream().mapToDouble(p -> p[1]).toArray(), colors[series.size() % colors.length], series.size() >= colors.length));
        }
        LinePlot.write(png, "student perplexity vs bytes per token, " + title, "soft-target bytes per token",
            "test perplexity (mean of the seeds)", series);
    }

    /** Per method: mean test perplexity ± 95% CI, its ratio to dense KD's (mean over seeds), bytes per token, ms per step. */
    static JsonArray summarise(Map<String, List<double[]>> results) {
        JsonArray out = new JsonArray();
        List<double[]> dense = results.get("kd:dense");
        results.forEach((name, rows) -> {
            List<Double> p = rows.stream().map(r -> r[0]).toList();
            JsonObject s = new JsonObject();
            s.addProperty("method", name);
            s.addProperty("test_perplexity", p.stream().mapToDouble(Double::doubleValue).average().orElseThrow());
            s.addProperty("ci95", AccuracyBench.ci95(p));
            s.addProperty("soft_target_bytes_per_token", rows.stream().mapToDouble(r -> r[1]).average().orElseThrow());
            s.addProperty("ms_per_step", rows.stream().mapToDouble(r -> r[2]).average().orElseThrow());
            if (rows.stream().noneMatch(r -> r.length < 4 || Double.isNaN(r[3]))) {
                s.addProperty("teacher_test_perplexity_after", rows.stream().mapToDouble(r -> r[3]).average().orElseThrow());
            }
            if (dense != null && dense.size() == rows.size()) {
                double ratio = 0;
                for (int i = 0; i < rows.size(); i++) {
                    ratio += rows.get(i)[0] / dense.get(i)[0] / rows.size();
                }
                s.addProperty("perplexity_ratio_to_dense", ratio);
                double bytes = dense.stream().mapToDouble(r -> r[1]).average().orElseThrow();
                s.addProperty("bytes_ratio_to_dense", bytes == 0 ? 0 : s.get("soft_target_bytes_per_token").getAsDouble() / bytes);
            }
            out.add(s);
        });
        return out;
    }

    private static String markdown(JsonObject r) {
        StringBuilder md = new StringBuilder("### Distilling a language model (in process)\n\n");
        md.append(String.format(Locale.ROOT, "`%s`: %s, BPE %d, %d train and %d test sequences; teacher test perplexity %s. "
                + "Mean of the seeds; the ratios are to dense KD's; an ikd method's teacher learned "
                + "from its student's exams on the quiz split, its test perplexity after the run in the last column.%n%n", r.get("command").getAsString(), r.get("corpus").getAsString(),
            r.get("vocab").getAsInt(), r.get("train_sequences").getAsInt(), r.get("test_sequences").getAsInt(),
            String.join(", ", r.getAsJsonArray("teacher_test_perplexity").asList().stream()
                .map(x -> String.format(Locale.ROOT, "%.2f", x.getAsDouble())).toList())));
        md.append("| method | test perplexity | ratio to dense | bytes per token | bytes ratio to dense | ms per step | teacher after |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        for (var e : r.getAsJsonArray("summary")) {
            JsonObject s = e.getAsJsonObject();
            md.append(String.format(Locale.ROOT, "| %s | %.2f ± %.2f | %s | %.1f | %s | %.1f | %s |%n", s.get("method").getAsString(),
                s.get("test_perplexity").getAsDouble(), s.get("ci95").getAsDouble(),
                s.has("perplexity_ratio_to_dense") ? String.format(Locale.ROOT, "%.4f", s.get("perplexity_ratio_to_dense").getAsDouble()) : "",
                s.get("soft_target_bytes_per_token").getAsDouble(),
                s.has("bytes_ratio_to_dense") ? String.format(Locale.ROOT, "%.4f", s.get("bytes_ratio_to_dense").getAsDouble()) : "",
                s.get("ms_per_step").getAsDouble(), s.has("teacher_test_perplexity_after")
                    ? String.format(Locale.ROOT, "%.2f", s.get("teacher_test_perplexity_after").getAsDouble()) : ""));
        }
        if (r.has("samples")) {
            md.append(String.format(Locale.ROOT, "%nSeed 1's teacher and students continue \"%s\" (temperature %s, top-p %s, seed 1):%n%n",
                r.get("prompt").getAsString(), SAMPLE_TEMPERATURE, SAMPLE_TOP_P));
            md.append("| model | text |\n| --- | --- |\n");
            for (var e : r.getAsJsonObject("samples").entrySet()) {
                md.append("| ").append(e.getKey()).append(" | ").append(e.getValue().getAsString().replace("|", "\\|")
                    .replace("\n", " ")).append(" |\n");
            }
        }
        return md.toString();
    }
}
