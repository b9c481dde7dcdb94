package dev.ikd.wiring;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.ikd.proto.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/** What 'ikd topics describe' says of ikd's topics on a cluster: as JSON, or as lines. */
public final class TopicReport {

    private TopicReport() {
    }

    /** Each of ikd's topics (null where missing): partitions, replicas, settings, and each partition's leader and replicas. */
    public static JsonObject json(Admin admin) throws InterruptedException, ExecutionException, TimeoutException {
        var out = new JsonObject();
        var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        var present = Topics.ALL.stream().filter(existing::contains).toList();
        Map<String, TopicDescription> described = admin.describeTopics(present).allTopicNames().get(30, TimeUnit.SECONDS);
        Map<ConfigResource, Config> configs = admin.describeConfigs(present.stream()
            .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all().get(30, TimeUnit.SECONDS);
        for (String topic : Topics.ALL) {
            TopicDescription d = described.get(topic);
            if (d == null) {
                out.add(topic, JsonNull.INSTANCE);
                continue;
            }
            Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic));
            var t = new JsonObject();
            t.addProperty("partitions", d.partitions().size());
            t.addProperty("replicas", d.partitions().get(0).replicas().size());
            for (String key : new String[] {TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, TopicConfig.RETENTION_MS_CONFIG,
                TopicConfig.CLEANUP_POLICY_CONFIG}) {
                t.addProperty(key, c.get(key).value());
            }
            var parts = new JsonArray();
            d.partitions().stream().sorted(java.util.Comparator.comparingInt(p -> p.partition())).forEach(p -> {
                var o = new JsonObject();
                o.addProperty("partition", p.partition());
                o.addProperty("leader", p.leader() == null || p.leader().isEmpty() ? null : p.leader().idString());
                o.addProperty("replicas", ids(p.replicas()));
                o.addProperty("in_sync", ids(p.isr()));
                parts.add(o);
            });
            t.add("partition_leaders", parts);
            out.add(topic, t);
        }
        return out;
    }

    /** One line per topic, one indented line per partition; a missing topic says so. */
    public static String text(Admin admin) throws InterruptedException, ExecutionException, TimeoutException {
        StringBuilder out = new StringBuilder();
        json(admin).entrySet().forEach(e -> {
            if (e.getValue().isJsonNull()) {
                out.append(e.getKey()).append(": missing\n");
                return;
            }
            var t = e.getValue().getAsJsonObject();
            out.append(String.format("%s: partitions %d, replicas %d, min.insync.replicas %s, retention.ms %s, cleanup.policy %s%n",
                e.getKey(), t.get("partitions").getAsInt(), t.get("replicas").getAsInt(),
                t.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).getAsString(), t.get(TopicConfig.RETENTION_MS_CONFIG).getAsString(),
                t.get(TopicConfig.CLEANUP_POLICY_CONFIG).getAsString()));
            for (var p : t.getAsJsonArray("partition_leaders")) {
                var o = p.getAsJsonObject();
                out.append(String.format("  partition %d: leader %s, replicas %s, in sync %s%n", o.get("partition").getAsInt(),
                    o.get("leader").isJsonNull() ? "none" : o.get("leader").getAsString(), o.get("replicas").getAsString(),
                    o.get("in_sync").getAsString()));
            }
        });
        return out.toString();
    }

    private static String ids(java.util.List<Node> nodes) {
        return nodes.stream().map(Node::idString).collect(Collectors.joining(",", "[", "]"));
    }
}
