package dev.ikd.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class HttpEndpointsTest {

    /**
     * The JDK's client offers the cleartext upgrade to HTTP/2 on every request; the endpoints answer
     * in HTTP/1.1, whole, even when /metrics is far larger than one HTTP/2 frame (16 KiB).
     */
    @Test
    void aClientOfferingTheHttp2UpgradeGetsTheWholeAnswerInHttp11() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (int i = 0; i < 600; i++) {
            Counter.builder("ikd_test_counter_with_a_long_name_" + i).tag("service", "student-" + i).register(registry).increment(i);
        }
        String expected = registry.scrape();
        assertThat(expected.length()).as("the answer spans several HTTP/2 frames").isGreaterThan(4 * 16384);
        Vertx vertx = Vertx.vertx();
        try {
            HttpServer server = HttpEndpoints.start(vertx, "127.0.0.1", 0, registry, () -> new JsonObject().put("status", "UP"))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            HttpClient http = HttpClient.newHttpClient();
            assertThat(http.version()).isEqualTo(HttpClient.Version.HTTP_2);
            for (int i = 0; i < 5; i++) {
                var metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
                assertThat(metrics.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
                assertThat(metrics.statusCode()).isEqualTo(200);
                assertThat(metrics.body()).isEqualTo(expected);
            }
            var health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(health.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(health.body()).isEqualTo("{\"status\":\"UP\"}");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
