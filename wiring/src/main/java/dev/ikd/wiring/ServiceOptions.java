package dev.ikd.wiring;

import java.nio.file.Path;

import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.processor.FaultPoints;
import dev.ikd.runtime.processor.ProcessorConfig;
import picocli.CommandLine.Option;

/** Where a single service finds its run: the Kafka cluster, the run id, its state, and where it serves its metrics. */
public final class ServiceOptions {

    @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers, host:port[,host:port...].")
    String bootstrap;

    @Option(names = "--run-id", required = true, description = "The run this service takes part in.")
    public String runId;

    @Option(names = "--metrics-port", defaultValue = "0",
        description = "Port of /metrics and /health (0: a free port, -1: none). Default: ${DEFAULT-VALUE}")
    public int metricsPort;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1",
        description = "Address /metrics and /health listen on (0.0.0.0: every interface, for a scraper on another machine). "
            + "Default: ${DEFAULT-VALUE}")
    String metricsHost;

    @Option(names = "--kafka-config", paramLabel = "FILE", description = "Kafka client properties to connect with "
        + "(security.protocol, sasl.*, ssl.*), e.g. a file from the credentials directory of 'ikd broker --secure'.")
    Path kafkaConfig;

    @Option(names = "--keys", paramLabel = "DIR", description = "Sign every message and check every signature: DIR holds the run's "
        + "manifest.properties (the coordinator's and the teacher's public keys) and this service's private key, <id>.key "
        + "('ikd keys' makes them).")
    Path keys;

    @Option(names = "--state-dir", description = "Checkpoint the service's state here (fsync'd) after every record it applies, and "
        + "resume from it when started again after a crash (default: state in memory only).")
    Path stateDir;

    @Option(names = "--queue-bound", defaultValue = "" + ProcessorConfig.DEFAULT_QUEUE_BOUND, paramLabel = "RECORDS",
        description = "Records per input partition taken from Kafka and not yet done; at the bound the partition is paused "
            + "until it drains. Default: ${DEFAULT-VALUE}")
    int queueBound;

    @Option(names = "--kafka-linger-ms", defaultValue = "" + KafkaTuning.DEFAULT_LINGER_MS, paramLabel = "MS",
        description = "Producer linger: how long a record waits for others to share its batch. Default: ${DEFAULT-VALUE}")
    int lingerMs;

    @Option(names = "--kafka-acks", defaultValue = KafkaTuning.DEFAULT_ACKS,
        description = "Producer acks: all (every in-sync replica has the record; idempotent) or 1 (the leader has it). "
            + "Default: ${DEFAULT-VALUE}")
    String acks;

    @Option(names = "--kafka-fetch-max-wait-ms", defaultValue = "" + KafkaTuning.DEFAULT_FETCH_MAX_WAIT_MS, paramLabel = "MS",
        description = "How long the broker holds a consumer's fetch that finds no new record. Default: ${DEFAULT-VALUE}")
    int fetchMaxWaitMs;

    @Option(names = "--max-record-bytes", defaultValue = "" + KafkaTuning.DEFAULT_MAX_RECORD_BYTES, paramLabel = "BYTES",
        description = "The largest record this service sends: a larger message (a language model's soft targets over a large "
            + "vocabulary) goes out in parts that each fit, joined by the reader. The topics' max.message.bytes; ikd's own topics "
            + "take 16 MiB. Default: ${DEFAULT-VALUE} (Kafka's default)")
    int maxRecordBytes;

    @Option(names = "--hop-log", paramLabel = "FILE", description = "Write every record this process handles as a CSV line with "
        + "the moments of its hop: sent, appended by the broker, polled, handler start and end (microseconds since the epoch).")
    Path hopLog;

    @Option(names = "--progress-every", defaultValue = "0", paramLabel = "STEPS",
        description = "Print a progress line on stderr every STEPS steps of each student (step, losses, accuracy); 0: every tenth "
            + "of the run. Default: ${DEFAULT-VALUE}")
    public long progressEvery;

    @Option(names = "--timeout", defaultValue = "86400", description = "Give up after this many seconds. Default: ${DEFAULT-VALUE}")
    public long timeoutSeconds;

    public void validate() {
        if (bootstrap.isBlank() || !bootstrap.contains(":")) {
            throw new IllegalArgumentException("--bootstrap must be host:port, got '" + bootstrap + "'");
        }
        if (runId.isBlank() || !runId.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--run-id must be letters, digits, '.', '_' or '-', got '" + runId + "'");
        }
        if (metricsPort < -1 || metricsPort > 65535) {
            throw new IllegalArgumentException("--metrics-port must be -1 (none) or between 0 and 65535, got " + metricsPort);
        }
        try {
            tuning();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Kafka settings: " + e.getMessage());
        }
        if (progressEvery < 0) {
            throw new IllegalArgumentException("--progress-every must be 0 (every tenth of the run) or more steps, got " + progressEvery);
        }
        if (queueBound < 1) {
            throw new IllegalArgumentException("--queue-bound must be at least 1 record, got " + queueBound);
        }
        kafka();
        if (keys != null) {
            dev.ikd.proto.sign.RunKeys.manifest(keys);
        }
    }

    private KafkaTuning tuning() {
        if (maxRecordBytes <= 2 * dev.ikd.proto.envelope.Parts.OVERHEAD) {
            throw new IllegalArgumentException("--max-record-bytes must be over " + 2 * dev.ikd.proto.envelope.Parts.OVERHEAD
                + " (room for a part of a larger message), got " + maxRecordBytes);
        }
        return new KafkaTuning(lingerMs, acks, fetchMaxWaitMs).withMaxRecordBytes(maxRecordBytes);
    }

    /** The cluster and this process's login, read from --kafka-config once. */
    public KafkaAccess kafka() {
        if (access == null) {
            access = KafkaAccess.withConfig(bootstrap, kafkaConfig);
        }
        return access;
    }

    private KafkaAccess access;

    /** How this process's services reach the run: the cluster, the state directory, and any fault points armed for tests. */
    public Services.Wiring wiring() {
        KafkaAccess login = kafka();
        return new Services.Wiring(principal -> login, runId, tuning(), queueBound,
            FaultPoints.fromEnvironment(), stateDir, Services.Wiring.DEFAULT_PREFETCH, keys);
    }

    /**
     * The host this process's services run in, writing the hop log if one was asked for, and a
     * progress line for each {@code --progress-every} steps of the records of {@code progressOn}.
     */
    public ServiceHost newHost(int workers, dev.ikd.proto.v1.Kind progressOn, long steps) {
        ServiceHost host = new ServiceHost(workers);
        if (progressOn != null) {
            host.observe(new ProgressLines(progressOn, runId, steps, progressEvery, System.err));
        }
        if (hopLog != null) {
            host.observe(new HopLog(hopLog));
        }
        return host;
    }

    /** Starts serving metrics and says where, on stderr. */
    public void serve(ServiceHost host, String service) {
        int port = host.serve(metricsHost, metricsPort);
        if (port >= 0) {
            System.err.printf("ikd %s: run %s on %s, metrics on %s:%d (/metrics, /health)%n", service, runId, kafka(), metricsHost, port);
            if (host.servesDashboard()) {
                System.err.printf("ikd %s: dashboard http://%s:%d/%n", service, metricsHost, port);
            }
        }
    }
}
