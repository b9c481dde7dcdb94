package dev.ikd.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.dashboard.Dashboard;
import dev.ikd.dashboard.DashboardLog;
import dev.ikd.dashboard.RunProjection;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.proto.kafka.KafkaAccess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;

/**
 * {@code ikd bench dashboard}: what watching costs. The same distributed run (16 students x 500
 * steps by default) with no dashboard, and with the dashboard served and a headless Chromium page
 * following it the whole time, in rotating order; then a finished run's page opened afresh, timed
 * by the page itself from navigation to the whole run on screen.
 */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
    description = "Run time without a dashboard, with its event stream read, and with a page following the run; and the time a "
        + "finished run's page takes to open. Here --students is 16 and --steps 500 unless given.")
public final class DashboardBench implements Callable<Integer> {

    @Mixin
    RunOptions run;

    @Option(names = "--repeats", defaultValue = "2", description = "Runs per variant, in rotating order. Default: ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "Runs first, not counted (JIT, the broker's first segments). "
        + "Default: ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--opens", defaultValue = "5", description = "Times the finished run's page is opened. Default: ${DEFAULT-VALUE}")
    int opens;

    @Option(names = "--chromium", defaultValue = "/usr/bin/chromium", description = "The browser (headless). Default: ${DEFAULT-VALUE}")
    Path chromium;

    @Mixin
    BenchOutput output;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!Files.isExecutable(chromium)) {
            throw new IllegalArgumentException("--chromium " + chromium + " is not there (Debian: apt-get install chromium)");
        }
        if (repeats < 1 || opens < 1 || warmup < 0) {
            throw new IllegalArgumentException("--repeats and --opens must be at least 1, --warmup at least 0");
        }
        if (!BenchOutput.given(spec, "--students")) {
            run.students = "16";
        }
        if (!BenchOutput.given(spec, "--steps")) {
            run.steps = 500;
        }
        TrainConfig c = run.toConfig();
        Dataset data = run.loadDataset();
        Path dir = Files.createTempDirectory("ikd-bench-dashboard");
        java.util.Map<Watch, List<Double>> walls = new java.util.EnumMap<>(Watch.class);
        for (Watch w : Watch.values()) {
            walls.put(w, new ArrayList<>());
        }
        List<Double> pageMs = new ArrayList<>();
        long points = 0;
        try (NDManager manager = run.newManager(); EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")))) {
            Params teacher = Teachers.obtain(c, data, null, manager, false);
            Services.ensureTopics(broker.bootstrapServers(), 4);
            for (int i = 0; i < warmup; i++) {
                double wall = once(c, data, teacher, manager, broker, dir, "bench-dashboard-warmup-" + i, Watch.NONE);
                System.err.printf(Locale.ROOT, "warm-up: %d students x %d steps in %.1f s (not counted)%n", c.students(), c.steps(), wall);
            }
            String lastWatched = null;
            int variants = Watch.values().length;
            for (int i = 0; i < variants * repeats; i++) {
                // Each repeat starts one variant later: every variant runs first, middle and last once in three repeats.
                Watch watch = Watch.values()[(i + i / variants) % variants];
                String runId = "bench-dashboard-" + i;
                double wall = once(c, data, teacher, manager, broker, dir, runId, watch);
                walls.get(watch).add(wall);
                lastWatched = watch == Watch.PAGE ? runId : lastWatched;
                System.err.printf(Locale.ROOT, "%s: %d students x %d steps in %.1f s%n", watch.label, c.students(), c.steps(), wall);
            }
            try (ServiceHost host = new ServiceHost(1)) {
                DashboardLog log = host.withDashboard(KafkaAccess.plain(broker.bootstrapServers()), null, null,
                    RunProjection.DEFAULT_STEP_TIMEOUT_MS, true);
                log.awaitCaughtUp(Duration.ofMinutes(5));
                int port = host.serve("127.0.0.1", 0);
                for (int i = 0; i < opens; i++) {
                    Process page = browse("http://127.0.0.1:" + port + "/?run=" + lastWatched + "&report", dir.resolve("profile-" + i));
                    try {
                        io.vertx.core.json.JsonObject timing = log.nextPageTiming(Duration.ofSeconds(120));
                        if (timing == null) {
                            throw new IllegalStateException("the page never showed run " + lastWatched);
                        }
                        pageMs.add(timing.getDouble("rendered_ms"));
                        points = timing.getLong("points");
                    } finally {
                        page.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    }
                }
            }
        }
        write(c, walls, pageMs, points);
        return 0;
    }

    /** How a run is watched: not at all, by a client reading the event stream (the server's share), or by a browser page. */
    enum Watch {
        NONE("no dashboard"), STREAM("dashboard, event stream read by a client"), PAGE("dashboard, Chromium page following");

        final String label;

        Watch(String label) {
            this.label = label;
        }
    }

    private double once(TrainConfig c, Dataset data, Params teacher, NDManager manager, EmbeddedKafka broker, Path dir, String runId,
                        Watch watch) throws Exception {
        try (ServiceHost host = new ServiceHost(c.students() + 2)) {
            Process page = null;
            if (watch != Watch.NONE) {
                host.withDashboard(KafkaAccess.plain(broker.bootstrapServers()), runId, RunProjection.DEFAULT_STEP_TIMEOUT_MS);
                int port = host.serve("127.0.0.1", 0);
                if (watch == Watch.PAGE) {
                    page = browse("http://127.0.0.1:" + port + "/?run=" + runId, dir.resolve("profile-" + runId));
                } else {
                    stream("http://127.0.0.1:" + port + "/api/runs/" + runId + "/events");
                }
            }
            try {
                Services.Wiring wiring = Services.Wiring.of(broker.bootstrapServers(), runId, null).withPrefetch(run.prefetch);
                return LocalRun.run(c, data, teacher, wiring, host, manager, 3600, -1, StepListener.NONE).wallSeconds();
            } finally {
                if (page != null) {
                    page.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Reads the event stream at {@code url} on a thread of its own until the server closes it. */
    private static void stream(String url) {
        Thread reader = new Thread(() -> {
            try (var in = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofInputStream()).body()) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (java.io.IOException e) {
                // The server closed the stream with the run's host.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ikd-bench-event-stream");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * How Chromium runs here, for this benchmark and the browser tests: headless, as root without a
     * sandbox of its own, on a machine with no network (nothing fetched in the background).
     */
    public static List<String> chromiumFlags(Path profile) {
        return List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
            "--window-size=1400,2600");
    }

    /** Headless Chromium on {@code url}. */
    private Process browse(String url, Path profile) throws Exception {
        List<String> command = new ArrayList<>(List.of(chromium.toString()));
        command.addAll(chromiumFlags(profile));
        command.add(url);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private void write(TrainConfig c, java.util.Map<Watch, List<Double>> walls, List<Double> pageMs, long points) {
        List<Double> plain = walls.get(Watch.NONE);
        List<Double> streamed = walls.get(Watch.STREAM);
        List<Double> watched = walls.get(Watch.PAGE);
        double p = median(plain);
        double st = median(streamed);
        double w = median(watched);
        double open = median(pageMs);
        var o = new JsonObject();
        o.addProperty("dataset", run.dataset);
        o.addProperty("teacher_mode", c.mode().cliName());
        o.addProperty("students", c.students());
        o.addProperty("steps", c.steps());
        o.add("run_s_no_dashboard", array(plain));
        o.add("run_s_stream_read", array(streamed));
        o.add("run_s_page_following", array(watched));
        o.addProperty("stream_over_plain", st / p);
        o.addProperty("watched_over_plain", w / p);
        o.add("page_open_ms", array(pageMs));
        o.addProperty("page_open_ms_median", open);
        o.addProperty("page_points", points);
        String md = "### Dashboard\n\n`ikd bench dashboard --dataset " + run.dataset + " --students " + c.students() + " --steps "
            + c.steps() + " --repeats " + repeats + " --warmup " + warmup + "`: the distributed run in one process (threads), with no "
            + "dashboard; with the dashboard served and its event stream read by a client (the server's share); and with a headless "
            + "Chromium page following the run from before its start to its end, on the same 2 cores (rotating order, after " + warmup
            + " uncounted run(s)); "
            + "then the finished run's page opened " + pageMs.size() + " times, timed by the page from navigation to the whole run on "
            + "screen (" + points + " points).\n\n"
            + String.format(Locale.ROOT, "| run, no dashboard | run, event stream read | ratio | run, page following | ratio | "
                + "page opens (median, min-max) |%n| --- | --- | --- | --- | --- | --- |%n"
                + "| %.1f s (%s) | %.1f s (%s) | %.3f | %.1f s (%s) | %.3f | %.0f ms (%.0f-%.0f) |%n", p, list(plain), st, list(streamed),
                st / p, w, list(watched), w / p, open, pageMs.stream().mapToDouble(x -> x).min().orElse(0),
                pageMs.stream().mapToDouble(x -> x).max().orElse(0));
        output.record("dashboard", o, md);
        System.out.printf(Locale.ROOT, "run %.1f s without a dashboard, %.1f s with its event stream read (%.3fx), %.1f s with a page "
            + "following (%.3fx); page opens in %.0f ms%n", p, st, st / p, w, w / p, open);
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    private static JsonArray array(List<Double> xs) {
        JsonArray a = new JsonArray();
        xs.forEach(a::add);
        return a;
    }

    private static String list(List<Double> xs) {
        return String.join(", ", xs.stream().map(x -> String.format(Locale.ROOT, "%.1f", x)).toList());
    }
}
