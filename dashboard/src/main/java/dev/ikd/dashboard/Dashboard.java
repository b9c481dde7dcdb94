package dev.ikd.dashboard;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The dashboard's web side: the page at {@code /}, its script and styles, uPlot from its webjar
 * (nothing from a CDN), and the run as JSON: {@code /api/runs}, {@code /api/runs/R} (the whole
 * run, or what changed since {@code ?since=VERSION}) and {@code /api/runs/R/events}, server-sent
 * events that start with the whole run and then send what changed, twice a second.
 */
public final class Dashboard {

    /** How often a page following a run is sent what changed. */
    static final long PUSH_MS = 500;
    /** Event streams served at once; one more is answered 503, with the reason. */
    public static final int MAX_STREAMS = 64;

    private Dashboard() {
    }

    /**
     * Adds the dashboard's routes to {@code router}. {@code defaultRun}, if set, is the run {@code /}
     * opens; without it (and at {@code /?runs}) the page lists the runs in the log.
     */
    public static void mount(Vertx vertx, Router router, DashboardLog log, String defaultRun, long stepTimeoutMs) {
        router.get("/").handler(ctx -> {
            if (defaultRun != null && ctx.request().query() == null) {
                ctx.redirect("/?run=" + defaultRun);
                return;
            }
            ctx.reroute("/dashboard/index.html");
        });
        router.get("/dashboard/*").handler(StaticHandler.create("ikd-dashboard").setCachingEnabled(false));
        router.get("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
        router.get("/api/runs").handler(ctx -> json(ctx, new JsonObject().put("runs", log.runs())));
        router.get("/api/runs/:run").handler(ctx -> {
            long since = parseSince(ctx);
            JsonObject view = log.read(ctx.pathParam("run"),
                p -> p.since(since, System.currentTimeMillis(), stepTimeoutMs));
            if (view == null) {
                ctx.response().setStatusCode(404).putHeader("content-type", "application/json")
                    .end(new JsonObject().put("error", "no run " + ctx.pathParam("run") + " in the log").encode());
                return;
            }
            json(ctx, view);
        });
        java.util.concurrent.atomic.AtomicInteger streams = new java.util.concurrent.atomic.AtomicInteger();
        router.get("/api/runs/:run/events").handler(ctx -> {
            if (streams.incrementAndGet() > MAX_STREAMS) {
                streams.decrementAndGet();
                ctx.response().setStatusCode(503).putHeader("content-type", "application/json").putHeader("retry-after", "10")
                    .end(new JsonObject().put("error", "this dashboard serves at most " + MAX_STREAMS + " event streams at once")
                        .encode());
                return;
            }
            follow(vertx, ctx, log, ctx.pathParam("run"), stepTimeoutMs, streams::decrementAndGet);
        });
        if (log.acceptsPageTimings()) {
            // A page opened with ?report says how long it took to show a whole run: only 'ikd bench dashboard' asks for it.
            router.post("/api/page-timing").handler(BodyHandler.create().setBodyLimit(4096));
            router.post("/api/page-timing").handler(ctx -> {
                JsonObject timing = ctx.body().asJsonObject();
                if (timing != null) {
                    log.pageTiming(timing);
                }
                ctx.response().setStatusCode(204).end();
            });
        }
    }

    /** Server-sent events: the whole run first (the history), then every change. */
    private static void follow(Vertx vertx, RoutingContext ctx, DashboardLog log, String run, long stepTimeoutMs, Runnable closed) {
        HttpServerResponse response = ctx.response().setChunked(true).putHeader("content-type", "text/event-stream")
            .putHeader("cache-control", "no-cache").putHeader("connection", "keep-alive");
        long[] seen = {0};
        long[] timer = {-1};
        // Sent even when nothing changed: the header's elapsed time and each student's silence move on.
        Runnable push = () -> {
            JsonObject view = log.read(run, p -> p.since(seen[0], System.currentTimeMillis(), stepTimeoutMs));
            if (view != null) {
                seen[0] = view.getLong("version");
                response.write("event: run\ndata: " + view.encode() + "\n\n");
            } else {
                response.write("event: missing\ndata: " + new JsonObject().put("error", "no run " + run + " in the log (yet)").encode()
                    + "\n\n");
            }
        };
        push.run();
        timer[0] = vertx.setPeriodic(PUSH_MS, id -> push.run());
        boolean[] done = {false};
        Runnable end = () -> {
            vertx.cancelTimer(timer[0]);
            if (!done[0]) {
                done[0] = true;
                closed.run();
            }
        };
        response.closeHandler(v -> end.run());
        response.exceptionHandler(e -> end.run());
    }

    private static long parseSince(RoutingContext ctx) {
        String since = ctx.request().getParam("since");
        try {
            return since == null ? 0 : Math.max(0, Long.parseLong(since));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void json(RoutingContext ctx, JsonObject body) {
        ctx.response().putHeader("content-type", "application/json").end(body.encode());
    }
}
