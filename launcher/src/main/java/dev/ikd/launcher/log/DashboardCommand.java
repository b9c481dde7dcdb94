package dev.ikd.launcher.log;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.ikd.dashboard.DashboardLog;
import dev.ikd.dashboard.RunProjection;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.runlog.LogAccess;
import dev.ikd.runlog.RunSignatures;
import dev.ikd.wiring.ServiceHost;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd dashboard}: a run's dashboard, live or finished, from the log alone. */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
    description = "Serve the dashboard of any run in a log, going on or finished long ago; without --run-id, list the runs.")
public final class DashboardCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    LogAccess.Options log;

    @Mixin
    RunSignatures signatures;

    @Option(names = "--run-id", description = "The run to show at / (default: / lists the runs in the log).")
    String run;

    @Option(names = "--port", defaultValue = "8080", description = "Port of the page (0: a free one). Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1",
        description = "Address the page listens on (0.0.0.0: every interface). Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--step-timeout-ms", defaultValue = "" + RunProjection.DEFAULT_STEP_TIMEOUT_MS,
        description = "A student silent for longer is an alert on the page (the coordinator's --step-timeout-ms). "
            + "Default: ${DEFAULT-VALUE}")
    long stepTimeoutMs;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
        }
        if (stepTimeoutMs < 1) {
            throw new IllegalArgumentException("--step-timeout-ms must be at least 1, got " + stepTimeoutMs);
        }
        return log.open(access -> {
            try (ServiceHost server = new ServiceHost(1)) {
                // With the run's keys (--keys, or found in a secure data directory), every record is checked.
                DashboardLog records = server.withDashboard(access, run == null ? null : signatures.manifest(log, run), run,
                    stepTimeoutMs, false);
                if (!records.awaitCaughtUp(Duration.ofMinutes(5))) {
                    System.err.println("ikd dashboard: the log is still being read; the page fills as it is");
                }
                JsonArray runs = records.runs();
                if (run == null) {
                    System.out.println(runs.isEmpty() ? "no runs in the log" : "runs in the log, newest first:");
                    for (Object o : runs) {
                        JsonObject r = (JsonObject) o;
                        System.out.printf("  %s: %s, %s, %d students, %d steps, %s%n", r.getString("id"), r.getString("status"),
                            r.getString("dataset"), r.getInteger("students"), r.getLong("steps"), r.getString("teacher_mode"));
                    }
                } else if (records.read(run, p -> p) == null) {
                    throw new IllegalArgumentException("no run " + run + " in the log; 'ikd dashboard' without --run-id lists them");
                }
                int actual = server.serve(host, port);
                System.out.printf("ikd dashboard: http://%s:%d/%s (Ctrl-C stops it)%n", host, actual, run == null ? "" : "?run=" + run);
                CountDownLatch stopped = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "ikd-dashboard-stop"));
                stopped.await();
                return 0;
            }
        });
    }
}
