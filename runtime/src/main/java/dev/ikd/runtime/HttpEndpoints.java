package dev.ikd.runtime;

import java.util.function.Supplier;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/** {@code /metrics} (Prometheus text format) and {@code /health} (JSON) for one service or one process. */
public final class HttpEndpoints {

    private HttpEndpoints() {
    }

    private static String why(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * Serves both endpoints on {@code port} (0: a free port). {@code health} is asked on every
     * request; its {@code "status"} of {@code "UP"} answers 200, anything else 503.
     */
    public static Future<HttpServer> start(Vertx vertx, String host, int port, PrometheusMeterRegistry registry,
                                           Supplier<JsonObject> health) {
        return start(vertx, host, port, registry, health, router -> { });
    }

    /** The same, with {@code more} routes (a dashboard) on the same port. */
    public static Future<HttpServer> start(Vertx vertx, String host, int port, PrometheusMeterRegistry registry,
                                           Supplier<JsonObject> health, java.util.function.Consumer<Router> more) {
        Router router = Router.router(vertx);
        more.accept(router);
        router.get("/metrics").handler(ctx -> ctx.response()
            .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .end(registry.scrape()));
        router.get("/health").handler(ctx -> {
            JsonObject h = health.get();
            ctx.response().setStatusCode("UP".equals(h.getString("status")) ? 200 : 503)
                .putHeader("content-type", "application/json").end(h.encode());
        });
        // HTTP/1.1 only: a client that offers the cleartext upgrade to HTTP/2 (the JDK's HttpClient does
        // by default) is answered in HTTP/1.1. Vert.x's h2c upgrade corrupted a large /metrics answer
        // now and then ("Frame type(32) ... exceeds MAX_FRAME_SIZE"), and Prometheus, Grafana and
        // curl speak HTTP/1.1 here anyway.
        return vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(router).listen(port, host)
            .recover(e -> Future.failedFuture(new IllegalArgumentException(
                "cannot serve /metrics and /health on " + host + ":" + port + ": " + why(e), e)));
    }
}
