package dev.ikd.launcher;

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
import dev.ikd.broker.BrokerSettings;
import dev.ikd.broker.EmbeddedKafka;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainingListener;
import dev.ikd.proto.kafka.KafkaAccess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ikd bench dashboard}: what watching costs. The same distributed run (16 students x 500
 * steps by default) with no dashboard, and with the dashboard served and a headless Chromium page
 * following it the whole time, in rotating order; then a finished run's page opened afresh, timed
 * by the page itself from navigation to the whole run on screen.
 */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
    description = "Run time with and without a dashboard page following the run, and the time a finished run's page takes to open.")
final class DashboardBench implements Callable<Integer> {

    @Mixin
    RunOptions run;

    @Option(names = "--repeats", defaultValue = "2", description = "Runs per variant, in rotating order. Default: ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--opens", defaultValue = "5", description = "Times the finished run's page is opened. Default: ${DEFAULT-VALUE}")
    int opens;

    @Option(names = "--chromium", defaultValue = "/usr/bin/chromium", description = "The browser (headless). Default: ${DEFAULT-VALUE}")
    Path chromium;

    @Mixin
    BenchOutput output;

    @Override
    public Integer call() throws Exception {
        if (!Files.isExecutable(chromium)) {
            throw new IllegalArgumentException("--chromium " + chromium + " is not there (Debian: apt-get install chromium)");
        }
        if (repeats < 1 || opens < 1) {
            throw new IllegalArgumentException("--repeats and --opens must be at least 1");
        }
        if ("1".equals(run.students)) {
            run.students = "16";
        }
        if (run.steps == 200) {
            run.steps = 500;
        }
        TrainConfig c = run.toConfig();
        Dataset data = run.loadDataset();
        Path dir = Files.createTempDirectory("ikd-bench-dashboard");
        List<Double> plain = new ArrayList<>();
        List<Double> watched = new ArrayList<>();
        List<Double> pageMs = new ArrayList<>();
        long points = 0;
        try (NDManager manager = run.newManager(); EmbeddedKafka broker = EmbeddedKafka.start(BrokerSettings.loopback(dir.resolve("kafka")))) {
            Params teacher = Teachers.obtain(c, data, null, manager, false);
            Services.ensureTopics(broker.bootstrapServers(), 4);
            String lastWatched = null;
            for (int i = 0; i < 2 * repeats; i++) {
                boolean watch = i % 4 == 1 || i % 4 == 2; // plain, watched, watched, plain, ...
                String runId = "bench-dashboard-" + i;
                double wall = once(c, data, teacher, manager, broker, dir, runId, watch);
                (watch ? watched : plain).add(wall);
                lastWatched = watch ? runId : lastWatched;
                System.err.printf(Locale.ROOT, "%s: %d students x %d steps in %.1f s%n", watch ? "with a page following" : "no dashboard",
                    c.students(), c.steps(), wall);
            }
            try (ServiceHost host = new ServiceHost(1)) {
                DashboardLog log = host.withDashboard(KafkaAccess.plain(broker.bootstrapServers()), null,
                    RunProjection.DEFAULT_STEP_TIMEOUT_MS);
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
        write(c, plain, watched, pageMs, points);
        return 0;
    }

    private double once(TrainConfig c, Dataset data, Params teacher, NDManager manager, EmbeddedKafka broker, Path dir, String runId,
                        boolean watch) throws Exception {
        try (ServiceHost host = new ServiceHost(c.students() + 2)) {
            Process page = null;
            if (watch) {
                host.withDashboard(KafkaAccess.plain(broker.bootstrapServers()), runId, RunProjection.DEFAULT_STEP_TIMEOUT_MS);
                int port = host.serve("127.0.0.1", 0);
                page = browse("http://127.0.0.1:" + port + "/?run=" + runId, dir.resolve("profile-" + runId));
            }
            try {
                Services.Wiring wiring = Services.Wiring.of(broker.bootstrapServers(), runId, null).withPrefetch(run.prefetch);
                return LocalRun.run(c, data, teacher, wiring, host, manager, 3600, -1, TrainingListener.NONE).wallSeconds();
            } finally {
                if (page != null) {
                    page.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Headless Chromium on {@code url}, as the tests start it: no sandbox, nothing fetched in the background. */
    private Process browse(String url, Path profile) throws Exception {
        return new ProcessBuilder(chromium.toString(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + profile, "--window-size=1400,2600", url).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private void write(TrainConfig c, List<Double> plain, List<Double> watched, List<Double> pageMs, long points) {
        double p = median(plain);
        double w = median(watched);
        double open = median(pageMs);
        var o = new JsonObject();
        o.addProperty("dataset", run.dataset);
        o.addProperty("teacher_mode", c.mode().cliName());
        o.addProperty("students", c.students());
        o.addProperty("steps", c.steps());
        o.add("run_s_no_dashboard", array(plain));
        o.add("run_s_page_following", array(watched));
        o.addProperty("watched_over_plain", w / p);
        o.add("page_open_ms", array(pageMs));
        o.addProperty("page_open_ms_median", open);
        o.addProperty("page_points", points);
        String md = "### Dashboard\n\n`ikd bench dashboard --dataset " + run.dataset + " --students " + c.students() + " --steps "
            + c.steps() + " --repeats " + repeats + "`: the distributed run in one process (threads), with no dashboard and with the "
            + "dashboard served and a headless Chromium page following the run from before its start to its end (rotating order); "
            + "then the finished run's page opened " + pageMs.size() + " times, timed by the page from navigation to the whole run on "
            + "screen (" + points + " points).\n\n"
            + String.format(Locale.ROOT, "| run, no dashboard | run, page following | ratio | page opens (median, min-max) |%n"
                + "| --- | --- | --- | --- |%n| %.1f s (%s) | %.1f s (%s) | %.3f | %.0f ms (%.0f-%.0f) |%n", p, list(plain), w, list(watched),
                w / p, open, pageMs.stream().mapToDouble(x -> x).min().orElse(0), pageMs.stream().mapToDouble(x -> x).max().orElse(0));
        output.record("dashboard", o, md);
        System.out.printf(Locale.ROOT, "run %.1f s without, %.1f s with a page following (%.3fx); page opens in %.0f ms%n", p, w, w / p,
            open);
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
