package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
import org.openqa.selenium.WebElement;

/**
 * The dashboard in Debian's headless Chromium: during a live {@code ikd local} run the page moves
 * on by itself (steps, curves), shows a dead letter the test injects with its reason, and logs no
 * error; a finished run served by {@code ikd dashboard --data-dir} shows every student's whole
 * history and the final accuracies {@code ikd local --json} printed. Screenshots go to
 * target/screenshots.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DashboardTest {

    @TempDir
    Path dir;

    @Test
    void aLiveRunMovesOnWithoutAReloadAndShowsAnInjectedDeadLetter() throws Exception {
        try (Jvms jvms = new Jvms(dir); Browser browser = new Browser(dir.resolve("chromium"))) {
            var local = jvms.start("local", "local", "--dataset", "digits", "--students", "2", "--steps", "100000",
                "--pretrain-steps", "100", "--run-id", "live", "--data-dir", dir.resolve("run").toString(), "--metrics-port", "0");
            String url = awaitLine(local, Pattern.compile("ikd local: dashboard (http://\\S+)"));
            String broker = awaitLine(local, Pattern.compile("broker (\\S+), log in"));
            browser.open(url);
            assertThat(browser.driver().getCurrentUrl()).endsWith("/?run=live");
            browser.await(120, "both students stepping", d -> stepOf(browser, "student-1") > 5 && stepOf(browser, "student-0") > 5);
            assertThat(browser.find("#run-status").getText()).isEqualTo("running");
            assertThat(browser.find("#run-dataset").getText()).isEqualTo("digits");
            browser.script("window.notReloaded = true;");
            long step = stepOf(browser, "student-0");
            long points = Long.parseLong(browser.find("#chart-course").getDomAttribute("data-points"));
            long updates = ((Number) browser.script("return window.ikd.updates();")).longValue();
            browser.await(60, "student-0's step and curve to move on", d -> stepOf(browser, "student-0") > step + 5
                && Long.parseLong(browser.find("#chart-course").getDomAttribute("data-points")) > points);
            assertThat(browser.script("return window.notReloaded === true;")).as("the page was not reloaded").isEqualTo(true);
            assertThat(((Number) browser.script("return window.ikd.updates();")).longValue()).isGreaterThan(updates);
            for (String chart : List.of("course", "exam", "accuracy", "teacher", "entropy", "distill", "drift", "teacher-accuracy")) {
                assertThat(Long.parseLong(browser.find("#chart-" + chart).getDomAttribute("data-points"))).as(chart).isPositive();
            }

            try (var producer = new KafkaProducer<>(KafkaClients.producerConfig(KafkaAccess.plain(broker), "dashboard-test"),
                new StringSerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(Topics.FEEDBACK, "student-0", "a record the test made up"
                    .getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            }
            WebElement letter = browser.await(60, "the injected dead letter on the page", d -> browser.findAll("#dead-letters tr.dead-letter")
                .stream().filter(r -> r.getText().contains("ikd.feedback[")).findFirst().orElse(null));
            assertThat(letter.getText()).contains("teacher").contains("student-0");
            assertThat(letter.findElements(org.openqa.selenium.By.tagName("td")).get(4).getText()).isNotBlank();
            assertThat(browser.find("#students tr[data-student='student-0'] td.waiting").getText()).isNotBlank();
            System.out.println("dashboard | live | " + browser.screenshot("dashboard-live"));
            assertThat(browser.consoleErrors()).as("the browser's console").isEmpty();
        }
    }

    @Test
    void aFinishedRunServedFromItsLogShowsEveryStepAndTheFinalAccuracies() throws Exception {
        int steps = 60;
        try (Jvms jvms = new Jvms(dir)) {
            var local = jvms.start("local", "local", "--dataset", "digits", "--students", "2", "--steps", Integer.toString(steps),
                "--pretrain-steps", "100", "--run-id", "done", "--data-dir", dir.resolve("run").toString(), "--metrics-port", "-1",
                "--json");
            assertThat(local.await(240)).as(local.stderr()).isZero();
            JsonObject result = JsonParser.parseString(local.stdout().strip()).getAsJsonObject();
            String url = dashboard(jvms, "done");
            try (Browser browser = new Browser(dir.resolve("chromium"))) {
                awaitFinished(browser, url, 2);
                for (JsonElement s : result.getAsJsonArray("students")) {
                    String id = s.getAsJsonObject().get("id").getAsString();
                    WebElement row = browser.find("#students tr[data-student='" + id + "']");
                    assertThat(row.getDomAttribute("data-points")).as(id + ": one point per step").isEqualTo(Integer.toString(steps));
                    assertThat(row.findElement(org.openqa.selenium.By.cssSelector("td.test-accuracy")).getText())
                        .isEqualTo(String.format(Locale.ROOT, "%.4f", s.getAsJsonObject().get("test_accuracy").getAsDouble()));
                    assertThat(row.findElement(org.openqa.selenium.By.cssSelector("td.waiting")).getText()).isEqualTo("nothing: done");
                }
                for (String chart : List.of("course", "exam", "accuracy", "teacher", "entropy", "distill", "drift", "teacher-accuracy")) {
                    assertThat(browser.find("#chart-" + chart).getDomAttribute("data-points")).as(chart).isEqualTo(Integer.toString(steps));
                }
                assertThat(browser.find("#alerts").getText()).isEqualTo("none");
                System.out.println("dashboard | finished | " + browser.screenshot("dashboard-finished"));

                browser.open(url.replaceFirst("/\\?run=.*$", "/?runs"));
                WebElement run = browser.await(30, "the list of runs", d -> browser.findAll("#runs tr.run").stream().findFirst()
                    .orElse(null));
                assertThat(run.getText()).startsWith("done complete digits ikd 2 " + steps);
                System.out.println("dashboard | runs | " + browser.screenshot("dashboard-runs"));
                assertThat(browser.consoleErrors()).as("the browser's console").isEmpty();
            }
        }
    }

    /** A language model's finished run: each student's row shows its test perplexity and the soft-target bytes a token it was sent. */
    @Test
    void aLanguageModelsRunShowsEachStudentsPerplexityAndSoftTargetBytesAToken() throws Exception {
        Path model = dir.resolve("lm").resolve("teacher.safetensors");
        LanguageModelTest.pretrain(model, 50);
        var local = IkdCommandLineTest.ikd("local", "--dataset", "lm:bundled", "--teacher-checkpoint", model.toString(), "--student",
            "gpt:1:16:2:16", "--students", "2", "--steps", "5", "--batch", "4", "--teacher-mode", "frozen", "--soft-targets", "topk:4",
            "--run-id", "lm", "--data-dir", dir.resolve("run").toString(), "--metrics-port", "-1", "--json");
        assertThat(local.code()).as(local.err()).isZero();
        JsonObject result = JsonParser.parseString(local.out().strip()).getAsJsonObject();
        try (Jvms jvms = new Jvms(dir)) {
            String url = dashboard(jvms, "lm");
            try (Browser browser = new Browser(dir.resolve("chromium"))) {
                awaitFinished(browser, url, 2);
                assertThat(browser.find("#students th.lm").isDisplayed()).as("the language model's columns").isTrue();
                for (JsonElement s : result.getAsJsonArray("students")) {
                    JsonObject o = s.getAsJsonObject();
                    WebElement row = browser.find("#students tr[data-student='" + o.get("id").getAsString() + "']");
                    assertThat(row.findElement(org.openqa.selenium.By.cssSelector("td.perplexity")).getText())
                        .isEqualTo(String.format(Locale.ROOT, "%.2f", o.get("test_perplexity").getAsDouble()));
                    assertThat(row.findElement(org.openqa.selenium.By.cssSelector("td.bytes-per-token")).getText())
                        .isEqualTo(String.format(Locale.ROOT, "%.1f", o.get("soft_target_bytes_per_token").getAsDouble()));
                }
                System.out.println("dashboard | language model | " + browser.screenshot("dashboard-lm"));
                assertThat(browser.consoleErrors()).as("the browser's console").isEmpty();
            }
        }
    }

    /** The benchmark's machinery on a small run: both variants, the page's own timing, and its record. */
    @Test
    void theDashboardBenchmarkTimesBothVariantsAndThePage() throws Exception {
        Tools.require("chromium", "chromium");
        IkdCommandLineTest.Run r = IkdCommandLineTest.ikd("bench", "dashboard", "--students", "2", "--steps", "20", "--repeats", "1",
            "--opens", "1", "--pretrain-steps", "50", "--results", dir.resolve("results").toString(), "--benchmarks-md",
            dir.resolve("BENCHMARKS.md").toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonObject json = JsonParser.parseString(java.nio.file.Files.readString(dir.resolve("results/dashboard.json"))).getAsJsonObject();
        assertThat(json.getAsJsonArray("run_s_no_dashboard")).hasSize(1);
        assertThat(json.getAsJsonArray("run_s_page_following")).hasSize(1);
        assertThat(json.getAsJsonArray("run_s_stream_read")).hasSize(1);
        assertThat(json.get("page_open_ms_median").getAsDouble()).isPositive();
        assertThat(json.get("page_points").getAsLong()).as("every step of both students on the page").isEqualTo(40);
        assertThat(java.nio.file.Files.readString(dir.resolve("BENCHMARKS.md"))).contains("### Dashboard").contains("| ratio |");
    }

    /** {@code ikd dashboard} on the log of run {@code runId} in dir/run; its page's address. */
    private String dashboard(Jvms jvms, String runId) throws Exception {
        var dashboard = jvms.start("dashboard", "dashboard", "--data-dir", dir.resolve("run").toString(), "--run-id", runId, "--port",
            "0");
        return awaitLine(dashboard, Pattern.compile("ikd dashboard: (http://\\S+)"));
    }

    /** The page of a finished run, once it shows the run complete and a row for each of its {@code students}. */
    private static void awaitFinished(Browser browser, String url, int students) {
        browser.open(url);
        browser.await(60, "the run's history", d -> "complete".equals(browser.find("#run-status").getText())
            && browser.findAll("#students tbody tr").size() == students);
    }

    private static long stepOf(Browser browser, String student) {
        var rows = browser.findAll("#students tr[data-student='" + student + "']");
        return rows.isEmpty() ? -1 : Long.parseLong(rows.get(0).getDomAttribute("data-step"));
    }

    /** The first group of {@code pattern} in the JVM's stdout or stderr, once it is there. */
    static String awaitLine(Jvms.Jvm jvm, Pattern pattern) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(jvm.stderr() + "\n" + jvm.stdout());
            if (m.find()) {
                return m.group(1);
            }
            if (!jvm.process().isAlive()) {
                throw new AssertionError("exited before printing " + pattern + ": " + jvm.stderr());
            }
            Thread.sleep(100);
        }
        throw new AssertionError("never printed " + pattern + ": " + jvm.stderr());
    }
}
