package dev.ikd.runtime;

import java.util.function.Supplier;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/** {@code /metrics} (Prometheus text format) and {@code /health} (JSON) for one service or one process. */
public final class HttpEndpoints {

    private HttpEndpoints() {
    }

    /**
     * Serves both endpoints on {@code port} (0: a free port). {@code health} is asked on every
     * request; its {@code "status"} of {@code "UP"} answers 200, anything else 503.
     */
    public static Future<HttpServer> start(Vertx vertx, String host, int port, PrometheusMeterRegistry registry,
                                           Supplier<JsonObject> health) {
        Router router = Router.router(vertx);
        router.get("/metrics").handler(ctx -> ctx.response()
            .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .end(registry.scrape()));
        router.get("/health").handler(ctx -> {
            JsonObject h = health.get();
            ctx.response().setStatusCode("UP".equals(h.getString("status")) ? 200 : 503)
                .putHeader("content-type", "application/json").end(h.encode());
        });
        return vertx.createHttpServer().requestHandler(router).listen(port, host)
            .recover(e -> Future.failedFuture(new IllegalArgumentException(
                "cannot serve /metrics and /health on " + host + ":" + port + ": " + e.getMessage(), e)));
    }
}
