package dev.ikd.launcher;

import java.nio.file.Path;

import dev.ikd.runtime.StateDir;
import picocli.CommandLine.Option;

/** Where a single service finds its run: the Kafka cluster, the run id, and where it serves its metrics. */
final class ServiceOptions {

    @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers, host:port[,host:port...].")
    String bootstrap;

    @Option(names = "--run-id", required = true, description = "The run this service takes part in.")
    String runId;

    @Option(names = "--metrics-port", defaultValue = "0",
        description = "Port of /metrics and /health (0: a free port, -1: none). Default: ${DEFAULT-VALUE}")
    int metricsPort;

    @Option(names = "--metrics-host", defaultValue = "0.0.0.0", description = "Address /metrics listens on. Default: ${DEFAULT-VALUE}")
    String metricsHost;

    @Option(names = "--state-dir", description = "Checkpoint the service's state here after every message, and resume from "
        + "it when started again after a crash (default: state in memory only).")
    Path stateDir;

    @Option(names = "--timeout", defaultValue = "86400", description = "Give up after this many seconds. Default: ${DEFAULT-VALUE}")
    long timeoutSeconds;

    void validate() {
        if (bootstrap.isBlank() || !bootstrap.contains(":")) {
            throw new IllegalArgumentException("--bootstrap must be host:port, got '" + bootstrap + "'");
        }
        if (runId.isBlank() || runId.contains("/")) {
            throw new IllegalArgumentException("--run-id must be non-empty and without '/', got '" + runId + "'");
        }
        if (metricsPort < -1 || metricsPort > 65535) {
            throw new IllegalArgumentException("--metrics-port must be -1 (none) or between 0 and 65535, got " + metricsPort);
        }
    }

    /** Where {@code serviceId} keeps its checkpoints for this run, or null without --state-dir. */
    StateDir state(String serviceId) {
        return stateDir == null ? null : StateDir.of(stateDir, runId, serviceId);
    }

    /** Starts serving metrics and says where, on stderr. */
    void serve(ServiceHost host, String service) {
        int port = host.serve(metricsHost, metricsPort);
        if (port >= 0) {
            System.err.printf("ikd %s: run %s on %s, metrics on port %d (/metrics, /health)%n", service, runId, bootstrap, port);
        }
    }
}
