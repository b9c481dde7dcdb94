package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import dev.ikd.coordinator.service.Journal;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run on a cluster of three KRaft nodes ({@code ikd broker --node-id --controller-quorum}, each in a
 * JVM of its own) with replication factor 3, {@code min.insync.replicas} 2 and {@code acks=all}. The
 * leader of the feedback partition in use is killed with SIGKILL mid-run: the run goes on with the
 * two nodes left and ends on the hashes of an undisturbed run, every step in the journal once.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class KafkaClusterTest {

    static final int KILL_AT = 30;

    @TempDir
    Path dir;

    @Test
    void killingTheLeaderOfTheFeedbackPartitionMidRunLosesAndDoublesNoStep() throws Exception {
        String runId = "cluster";
        Path checkpoint = dir.resolve("teacher.ckpt");
        List<String> expected = DistributedRunTest.reference(checkpoint, CrashMatrixTest.RUN);
        // The controllers' ports are named in the quorum every node starts with, so they are chosen before; each node
        // binds its client port itself (0) and says which it got.
        int[] ports = freePorts(3);
        String quorum = "1@127.0.0.1:" + ports[0] + ",2@127.0.0.1:" + ports[1] + ",3@127.0.0.1:" + ports[2];
        try (Jvms jvms = new Jvms(dir)) {
            Map<Integer, Jvms.Jvm> nodes = new TreeMap<>();
            for (int id = 1; id <= 3; id++) {
                nodes.put(id, jvms.start("kafka-" + id, "broker", "--port", "0", "--data-dir",
                    dir.resolve("kafka-" + id).toString(), "--node-id", Integer.toString(id), "--controller-quorum", quorum));
            }
            List<String> addresses = new ArrayList<>();
            for (Jvms.Jvm node : nodes.values()) {
                addresses.add(Jvms.awaitListening(node).bootstrap());
            }
            String bootstrap = String.join(",", addresses);
            KafkaAccess kafka = KafkaAccess.plain(bootstrap);
            try (Admin admin = Admin.create(KafkaClients.adminConfig(kafka))) {
                String described = dev.ikd.wiring.TopicReport.text(admin);
                var json = dev.ikd.wiring.TopicReport.json(admin);
                for (String topic : Topics.ALL) {
                    assertThat(described).contains(topic + ": partitions 4, replicas 3, min.insync.replicas 2");
                    assertThat(json.getAsJsonObject(topic).getAsJsonArray("partition_leaders")).hasSize(4);
                }
            }
            List<String> common = DistributedRunTest.with(CrashMatrixTest.RUN, "--bootstrap", bootstrap, "--run-id", runId,
                "--metrics-port", "-1", "--state-dir", dir.resolve("state").toString(), "--replication-factor", "3",
                "--min-insync-replicas", "2", "--kafka-acks", "all");
            Map<String, Jvms.Jvm> running = new TreeMap<>();
            running.put("coordinator", jvms.start("coordinator", DistributedRunTest.args("coordinator", common)));
            running.put("teacher", jvms.start("teacher", DistributedRunTest.args("teacher", common, "--teacher-checkpoint",
                checkpoint.toString())));
            running.put("students", jvms.start("students", DistributedRunTest.args("student", common, "--index", "0-1", "--json")));

            int killed;
            TopicPartition partition;
            try (CrashMatrixTest.Progress progress = new CrashMatrixTest.Progress(bootstrap, runId);
                 Admin admin = Admin.create(KafkaClients.adminConfig(kafka))) {
                progress.await(KILL_AT, running);
                partition = feedbackInUse(admin);
                killed = leaderOf(admin, partition).leader().id();
                CrashMatrixTest.Halt halt = progress.halt();
                nodes.get(killed).kill();
                progress.await(KILL_AT + CrashMatrixTest.RECOVERED_AFTER, running);
                TopicPartitionInfo after = leaderOf(admin, partition);
                for (int i = 0; i < 300 && (after.leader() == null || after.leader().id() == killed || after.isr().size() > 2); i++) {
                    Thread.sleep(100);
                    after = leaderOf(admin, partition);
                }
                System.out.printf(Locale.ROOT, "kafka cluster | kill -9 node %d (leader of %s) | step %d | new leader %d, in sync %s "
                        + "| recovered in %.1f s%n", killed, partition, KILL_AT, after.leader().id(),
                    after.isr().stream().map(n -> n.idString()).collect(Collectors.joining(",")), progress.recovery(halt) / 1e9);
                assertThat(after.leader().id()).isNotEqualTo(killed);
                assertThat(after.isr()).hasSize(2);
            }
            for (var e : running.entrySet()) {
                assertThat(e.getValue().await(300)).as(e.getKey() + ": " + e.getValue().stderr()).isZero();
            }
            List<String> hashes = running.get("students").stdout().strip().lines().map(DistributedRunTest::hashOf).toList();
            assertThat(hashes).isEqualTo(expected);
            CrashMatrixTest.assertAppliedOnce(Journal.applied(kafka, runId, "cluster-test"), 2, CrashMatrixTest.STEPS);
            assertThat(nodes.get(killed).process().isAlive()).isFalse();
        }
    }

    /** The partition of ikd.feedback that holds the run's records (the students' keys choose it). */
    private static TopicPartition feedbackInUse(Admin admin) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::partition));
        for (int p = 0; p < 4; p++) {
            latest.put(new TopicPartition(Topics.FEEDBACK, p), OffsetSpec.latest());
        }
        var offsets = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
        return offsets.entrySet().stream().filter(e -> e.getValue().offset() > 0).map(Map.Entry::getKey)
            .min(java.util.Comparator.comparing(TopicPartition::partition)).orElseThrow();
    }

    private static TopicPartitionInfo leaderOf(Admin admin, TopicPartition partition) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(partition.topic())).allTopicNames().get(30, TimeUnit.SECONDS)
            .get(partition.topic());
        return d.partitions().get(partition.partition());
    }

    private static int[] freePorts(int n) throws Exception {
        ServerSocket[] sockets = new ServerSocket[n];
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                sockets[i] = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                ports[i] = sockets[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : sockets) {
                if (s != null) {
                    s.close();
                }
            }
        }
        return ports;
    }

    /** A node formats its log with any valid cluster id, one that starts with '-' too (a derived id does, 1 time in 64). */
    @Test
    void aClusterIdThatStartsWithADashFormats() throws Exception {
        int[] ports = freePorts(1);
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Jvm node = jvms.start("kafka-dash", "broker", "--port", "0", "--data-dir", dir.resolve("kafka-dash").toString(),
                "--node-id", "1", "--controller-quorum", "1@127.0.0.1:" + ports[0], "--cluster-id=-AAAAAAAAAAAAAAAAAAAAA");
            assertThat(Jvms.awaitListening(node).bootstrap()).startsWith("127.0.0.1:");
        }
    }
}
