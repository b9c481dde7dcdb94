package dev.ikd.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Admitted;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.Kind;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the dashboard's server and its read model keep bounded: event streams, page timings, and idle runs' projections. */
class DashboardServerTest {

    final Vertx vertx = Vertx.vertx();
    final HttpClient http = HttpClient.newHttpClient();
    final AtomicLong now = new AtomicLong(1_000_000);
    final AtomicInteger rebuilt = new AtomicInteger();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static List<Envelope> finishedRun(String run) {
        Clock clock = Clock.systemUTC();
        return List.of(Envelopes.header(run, "student-0", 0, Kind.ADMITTED, "coordinator", clock).setAdmitted(Admitted.newBuilder()
                .setTeacherMode("ikd").setSteps(1)).build(),
            Envelopes.header(run, "", 0, Kind.FINISH, "coordinator", clock).setFinish(Finish.newBuilder().setReason("run complete")).build());
    }

    DashboardLog log() {
        return new DashboardLog(new MockConsumer<>(OffsetResetStrategy.EARLIEST), null, run -> {
            rebuilt.incrementAndGet();
            RunProjection p = new RunProjection(run);
            finishedRun(run).forEach(e -> p.apply(dev.ikd.proto.topics.Topics.topicOf(e.getKind()), 1_000, e));
            return p;
        }, now::get);
    }

    int serve(DashboardLog log) throws Exception {
        Router router = Router.router(vertx);
        Dashboard.mount(vertx, router, log, null, 60_000);
        HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return server.actualPort();
    }

    @Test
    void pageTimingsAreTakenOnlyWhenTheBenchmarkAsksForThem() throws Exception {
        int port = serve(log());
        var post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/page-timing"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"ms\":1}")).build();
        assertThat(http.send(post, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
        DashboardLog bench = log().acceptPageTimings();
        int benchPort = serve(bench);
        var benchPost = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + benchPort + "/api/page-timing"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"ms\":1}")).build();
        for (int i = 0; i < 100; i++) {
            assertThat(http.send(benchPost, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(204);
        }
        int kept = 0;
        while (bench.nextPageTiming(java.time.Duration.ofMillis(10)) != null) {
            kept++;
        }
        assertThat(kept).as("reports kept for the benchmark to read").isEqualTo(64);
    }

    @Test
    void eventStreamsPastTheBoundAreRefusedUntilOneCloses() throws Exception {
        DashboardLog log = log();
        finishedRun("r").forEach(e -> log.take(dev.ikd.proto.topics.Topics.topicOf(e.getKind()), 1_000, e));
        int port = serve(log);
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/runs/r/events")).build();
        List<InputStream> open = new ArrayList<>();
        for (int i = 0; i < Dashboard.MAX_STREAMS; i++) {
            HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            open.add(r.body());
        }
        HttpResponse<String> refused = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.body()).contains("at most " + Dashboard.MAX_STREAMS + " event streams");
        open.remove(0).close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int status = 503;
        while (status == 503 && System.nanoTime() < deadline) {
            HttpResponse<InputStream> again = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            status = again.statusCode();
            if (status == 200) {
                open.add(again.body());
            } else {
                Thread.sleep(50);
            }
        }
        assertThat(status).as("a stream closed frees its place").isEqualTo(200);
        for (InputStream in : open) {
            in.close();
        }
    }

    @Test
    void aFinishedRunNobodyReadsIsLetGoAndFoldedAgainWhenAskedFor() {
        DashboardLog log = log();
        finishedRun("r").forEach(e -> log.take(dev.ikd.proto.topics.Topics.topicOf(e.getKind()), 1_000, e));
        String before = log.read("r", p -> p.header(now.get()).getString("status"));
        now.addAndGet(DashboardLog.EVICT_AFTER_MS - 1);
        log.evictIdle();
        assertThat(rebuilt).as("read less than the idle time ago: kept").hasValue(0);
        assertThat(log.<String>read("r", p -> "held")).isEqualTo("held");
        now.addAndGet(DashboardLog.EVICT_AFTER_MS);
        log.evictIdle();
        assertThat(log.runs()).as("still listed").hasSize(1);
        assertThat(rebuilt).hasValue(0);
        assertThat(log.<String>read("r", p -> p.header(now.get()).getString("status"))).isEqualTo(before);
        assertThat(rebuilt).as("folded again from the log").hasValue(1);
    }
}
