package dev.ikd.wiring;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.ikd.dashboard.Dashboard;
import dev.ikd.dashboard.DashboardLog;
import dev.ikd.runtime.HttpEndpoints;
import dev.ikd.runtime.RunFailedException;
import dev.ikd.runtime.ServiceMetrics;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Verticle;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One process's services: a Vert.x instance, one Prometheus registry, and {@code /metrics} +
 * {@code /health} on one port for every verticle deployed here (the health is UP when all are).
 */
public final class ServiceHost implements AutoCloseable {

    private final Vertx vertx;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<Supplier<JsonObject>> health = new ArrayList<>();
    private HttpServer http;

    private final JvmGcMetrics gc = new JvmGcMetrics();

    public ServiceHost(int workers) {
        // Learning steps are long blocking calls by design: warn only when one passes a minute.
        this.vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(Math.max(4, workers))
            .setMaxWorkerExecuteTime(60).setMaxWorkerExecuteTimeUnit(TimeUnit.SECONDS));
        // The JVM's and the process's own meters (jvm_memory_*, jvm_gc_*, process_cpu_usage, ...): the
        // dashboard's memory and GC panels and the alerts read them.
        for (MeterBinder binder : List.of(new JvmMemoryMetrics(), gc, new JvmThreadMetrics(), new ClassLoaderMetrics(),
            new ProcessorMetrics(), new UptimeMetrics(), new FileDescriptorMetrics())) {
            binder.bindTo(registry);
        }
    }

    private final List<ServiceMetrics.Observer> observers = new ArrayList<>();

    /** Every service deployed after this call also reports the records it receives to {@code o}. */
    public void observe(ServiceMetrics.Observer o) {
        observers.add(o);
    }

    public ServiceMetrics metrics(String service) {
        List<ServiceMetrics.Observer> each = List.copyOf(observers);
        return new ServiceMetrics(registry, service, (name, topic, envelope, hop) -> {
            for (ServiceMetrics.Observer o : each) {
                o.handled(name, topic, envelope, hop);
            }
        });
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    private DashboardLog dashboard;
    private String dashboardRun;
    private long stepTimeoutMs;

    /**
     * Also serves the dashboard of run {@code runId} at {@code /} on the metrics port, read from the
     * log through {@code kafka}; call before {@link #serve}.
     */
    public DashboardLog withDashboard(dev.ikd.proto.kafka.KafkaAccess kafka, String runId, long stepTimeoutMs) {
        return withDashboard(kafka, null, runId, stepTimeoutMs, false);
    }

    /**
     * @param manifest         the run's keys, when known: every record is checked and one that fails is marked
     * @param pageTimings      serve POST /api/page-timing ('ikd bench dashboard' only)
     */
    public DashboardLog withDashboard(dev.ikd.proto.kafka.KafkaAccess kafka, dev.ikd.proto.sign.RunManifest manifest, String runId,
                               long stepTimeoutMs, boolean pageTimings) {
        DashboardLog log = new DashboardLog(kafka, manifest);
        this.dashboard = (pageTimings ? log.acceptPageTimings() : log).start();
        this.dashboardRun = runId;
        this.stepTimeoutMs = stepTimeoutMs;
        return dashboard;
    }

    /** Serves /metrics and /health (and the dashboard, if asked for) on {@code port} (0: a free one; negative: not at all); returns the port. */
    public int serve(String host, int port) {
        if (port < 0) {
            return -1;
        }
        http = await(HttpEndpoints.start(vertx, host, port, registry, this::health, router -> {
            if (dashboard != null) {
                Dashboard.mount(vertx, router, dashboard, dashboardRun, stepTimeoutMs);
            }
        }));
        return http.actualPort();
    }

    boolean servesDashboard() {
        return dashboard != null;
    }

    JsonObject health() {
        JsonArray services = new JsonArray();
        boolean up = true;
        for (Supplier<JsonObject> h : health) {
            JsonObject s = h.get();
            up &= "UP".equals(s.getString("status"));
            services.add(s);
        }
        return new JsonObject().put("status", up ? "UP" : "DOWN").put("services", services);
    }

    public void deploy(Verticle verticle, Supplier<JsonObject> verticleHealth) {
        await(vertx.deployVerticle(verticle));
        health.add(verticleHealth);
    }

    public static <T> T await(Future<T> future) {
        return await(future, 120, "a service to start");
    }

    /** Waits for {@code future}; its failure is rethrown as is, a timeout names {@code what} it waited for. */
    public static <T> T await(Future<T> future, long seconds, String what) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new RunFailedException("gave up after " + seconds + " s waiting for " + what);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(cause.getMessage(), cause);
        }
    }

    @Override
    public void close() {
        if (dashboard != null) {
            dashboard.close();
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Closing is best effort: the process is ending.
        }
        gc.close();
        registry.close();
        for (ServiceMetrics.Observer o : observers) {
            if (o instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }
        }
    }
}
