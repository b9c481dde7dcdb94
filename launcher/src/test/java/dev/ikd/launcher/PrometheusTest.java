package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/prometheus and deploy/grafana against Debian's Prometheus: promtool checks the config and
 * the rules and runs the alerts' unit tests; then Prometheus scrapes a live run (broker,
 * coordinator, teacher and students in JVMs of their own) with the committed scrape job and
 * alerts, every PromQL expression of every Grafana panel returns data through Prometheus' HTTP
 * API, and two records the test makes malformed fire IkdDeadLettersRising.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PrometheusTest {

    static final Path PROMETHEUS_DIR = DeployFilesTest.DEPLOY.resolve("prometheus");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void promtoolAcceptsTheConfigAndTheRulesAndTheAlertUnitTestsPass() throws Exception {
        Path promtool = Tools.require("promtool", "prometheus");
        for (List<String> check : List.of(List.of("check", "config", "prometheus.yml"), List.of("check", "rules", "alerts.yml"),
            List.of("test", "rules", "alerts.test.yml"))) {
            List<String> command = new ArrayList<>(List.of(promtool.toString()));
            command.addAll(check);
            Tools.Result r = Tools.run(PROMETHEUS_DIR, 60, command);
            assertThat(r.code()).as(String.join(" ", command) + "\n" + r).isZero();
            assertThat(r.output()).contains("SUCCESS");
        }
    }

    @Test
    void prometheusScrapesALiveRunAndEveryGrafanaPanelHasData() throws Exception {
        Path prometheus = Tools.require("prometheus", "prometheus");
        Path promtool = Tools.require("promtool", "prometheus");
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(List.of());
            // Each JVM's /metrics on an address of its own, so that the scrape job's instance label
            // (the target's host) tells them apart as the service names do in compose.
            Map<String, String> hosts = new LinkedHashMap<>();
            hosts.put("coordinator", "127.0.0.2");
            hosts.put("teacher", "127.0.0.3");
            hosts.put("students", "127.0.0.4");
            List<String> common = List.of("--bootstrap", broker.bootstrap(), "--run-id", "watched", "--dataset", "digits",
                "--students", "2", "--steps", "1000000", "--teacher-mode", "ikd-adapter", "--pretrain-steps", "100");
            // Each service binds a port of its own choosing (0) and says which; the scrape targets are read from what they say.
            Map<String, Jvms.Jvm> services = new LinkedHashMap<>();
            services.put("coordinator", jvms.start("coordinator", DistributedRunTest.args("coordinator", common, "--metrics-host",
                hosts.get("coordinator"), "--metrics-port", "0")));
            services.put("teacher", jvms.start("teacher", DistributedRunTest.args("teacher", common, "--metrics-host",
                hosts.get("teacher"), "--metrics-port", "0")));
            services.put("students", jvms.start("students", DistributedRunTest.args("student", common, "--index", "0-1",
                "--metrics-host", hosts.get("students"), "--metrics-port", "0")));
            List<String> targets = new ArrayList<>();
            for (var e : services.entrySet()) {
                Jvms.Jvm jvm = e.getValue();
                targets.add(hosts.get(e.getKey()) + ":" + said(() -> {
                    try {
                        return jvm.stderr();
                    } catch (java.io.IOException ex) {
                        return "";
                    }
                },
                    "metrics on " + Pattern.quote(hosts.get(e.getKey())) + ":(\\d+)", e.getKey()));
            }

            // The committed config with this run's targets, scraped and evaluated every second.
            String committed = Files.readString(PROMETHEUS_DIR.resolve("prometheus.yml"));
            String config = committed.replace("[coordinator:9400, teacher:9400, student-0:9400, student-1:9400]",
                    "[" + String.join(", ", targets) + "]")
                .replace("scrape_interval: 5s", "scrape_interval: 1s").replace("evaluation_interval: 5s", "evaluation_interval: 1s");
            assertThat(config).as("the test's targets replace the committed ones").isNotEqualTo(committed).contains(targets.get(0));
            Files.writeString(dir.resolve("prometheus.yml"), config);
            Files.copy(PROMETHEUS_DIR.resolve("alerts.yml"), dir.resolve("alerts.yml"));
            Tools.Result check = Tools.run(dir, 60, List.of(promtool.toString(), "check", "config", "prometheus.yml"));
            assertThat(check.code()).as(check.toString()).isZero();

            Process server = new ProcessBuilder(prometheus.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:0")
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                // Prometheus binds port 0 and logs the port it got.
                String webPort = said(() -> {
                    try {
                        return Files.readString(dir.resolve("prometheus.log"));
                    } catch (java.io.IOException e) {
                        return "";
                    }
                }, "msg=\"Listening on\" address=127\\.0\\.0\\.1:(\\d+)", "prometheus");
                String api = "http://127.0.0.1:" + webPort + "/api/v1/";
                awaitData(api, "ikd_step{service=\"student\"} > 20", 2, Duration.ofSeconds(150), dir.resolve("prometheus.log"));
                // Every target up in one scrape round: a scrape may miss its one-second timeout on a busy
                // machine (up 0 for that round), so this waits for a round where all three answered.
                awaitData(api, "up{job=\"ikd\"} == 1", 3, Duration.ofSeconds(60), dir.resolve("prometheus.log"));
                assertThat(query(api, "up{job=\"ikd\"}")).as("three targets, no more").hasSize(3);

                // Two malformed records a scrape apart: the teacher's dead-letter count rises, the alert fires.
                injectMalformedFeedback(broker.bootstrap());
                awaitData(api, "ikd_dead_letters_total{service=\"teacher\",topic=\"ikd.feedback\"} >= 1", 1, Duration.ofSeconds(60),
                    dir.resolve("prometheus.log"));
                injectMalformedFeedback(broker.bootstrap());
                awaitData(api, "ALERTS{alertname=\"IkdDeadLettersRising\",alertstate=\"firing\",service=\"teacher\"}", 1,
                    Duration.ofSeconds(60), dir.resolve("prometheus.log"));

                Map<String, String> missing = new LinkedHashMap<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                do {
                    missing.clear();
                    for (var panel : grafanaExpressions().entrySet()) {
                        if (query(api, panel.getValue()).isEmpty()) {
                            missing.put(panel.getKey(), panel.getValue());
                        }
                    }
                    Thread.sleep(missing.isEmpty() ? 0 : 1000);
                } while (!missing.isEmpty() && System.nanoTime() < deadline);
                assertThat(missing).as("Grafana panels whose query returns no data").isEmpty();
                System.out.printf("prometheus | %d panel queries of deploy/grafana/ikd.json answered from a live run%n",
                    grafanaExpressions().size());

                JsonArray accuracy = query(api, "ikd_exam_accuracy");
                for (JsonElement s : accuracy) {
                    double v = Double.parseDouble(s.getAsJsonObject().getAsJsonArray("value").get(1).getAsString());
                    assertThat(v).isBetween(0.0, 1.0);
                }
                assertThat(query(api, "ALERTS{alertname=~\"IkdServiceDown|IkdLossNotFinite\"}")).isEmpty();

                // The coordinator serves the run's dashboard on the same port, and says where.
                assertThat(Files.readString(dir.resolve("coordinator.err"))).contains("ikd coordinator: dashboard http://"
                    + targets.get(0) + "/");
                JsonObject run = JsonParser.parseString(http.send(HttpRequest.newBuilder(URI.create("http://" + targets.get(0)
                    + "/api/runs/watched")).build(), HttpResponse.BodyHandlers.ofString()).body()).getAsJsonObject();
                assertThat(run.getAsJsonObject("run").get("status").getAsString()).isEqualTo("running");
                assertThat(run.getAsJsonObject("students").keySet()).containsExactlyInAnyOrder("student-0", "student-1");
            } finally {
                server.destroy();
                server.waitFor(30, TimeUnit.SECONDS);
                server.destroyForcibly();
            }
        }
    }

    /** Every panel's expressions, by panel title and query letter, with Grafana's variables filled in. */
    static Map<String, String> grafanaExpressions() throws Exception {
        JsonObject dashboard = JsonParser.parseString(Files.readString(DeployFilesTest.DEPLOY.resolve("grafana/ikd.json")))
            .getAsJsonObject();
        Map<String, String> exprs = new LinkedHashMap<>();
        for (JsonElement p : dashboard.getAsJsonArray("panels")) {
            JsonObject panel = p.getAsJsonObject();
            if (!panel.has("targets")) {
                continue;
            }
            for (JsonElement t : panel.getAsJsonArray("targets")) {
                JsonObject target = t.getAsJsonObject();
                exprs.put(panel.get("title").getAsString() + " " + target.get("refId").getAsString(),
                    target.get("expr").getAsString().replace("$student", ".+").replace("$__rate_interval", "15s"));
            }
        }
        assertThat(exprs).isNotEmpty();
        return exprs;
    }

    private JsonArray query(String api, String promql) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "query?query="
            + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
        assertThat(body.get("status").getAsString()).as(promql + ": " + r.body()).isEqualTo("success");
        return body.getAsJsonObject("data").getAsJsonArray("result");
    }

    private void awaitData(String api, String promql, int series, Duration timeout, Path log) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (query(api, promql).size() >= series) {
                    return;
                }
            } catch (java.io.IOException e) {
                // Prometheus is still starting.
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + series + " series for " + promql + " after " + timeout.toSeconds() + " s\n"
                    + Files.readString(log) + "\n" + Files.readString(dir.resolve("students.err")));
            }
            Thread.sleep(500);
        }
    }

    private static void injectMalformedFeedback(String bootstrap) throws Exception {
        try (var producer = new KafkaProducer<>(KafkaClients.producerConfig(KafkaAccess.plain(bootstrap), "prometheus-test"),
            new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.FEEDBACK, "student-0", "not an envelope".getBytes(StandardCharsets.UTF_8)))
                .get(30, TimeUnit.SECONDS);
        }
    }

    /** The first group of {@code pattern} in what {@code output} says, once it says it (within a minute). */
    private static String said(java.util.function.Supplier<String> output, String pattern, String who) throws InterruptedException {
        Pattern p = Pattern.compile(pattern);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            java.util.regex.Matcher m = p.matcher(output.get());
            if (m.find()) {
                return m.group(1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError(who + " did not say where it listens (" + pattern + "): " + output.get());
    }
}
