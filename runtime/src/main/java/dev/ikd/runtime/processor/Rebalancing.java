package dev.ikd.runtime.processor;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Partitions gained and given up (docs/architecture.md §6, "Restart"): a gained partition's keys are
 * recovered from their checkpoints, their last answers sent again, and the partition sought to the
 * lowest of the group's committed offset and what the checkpoints cover; a partition given up has
 * its records in flight finished, committed (unless lost), and its keys' machines let go, within a
 * deadline.
 */
final class Rebalancing<M extends Machine> implements ConsumerRebalanceListener {

    private final Context<M> c;
    private final Outbox outbox;
    private final Lanes<M> lanes;
    private final InputLoop<M> loop;

    Rebalancing(Context<M> c, Outbox outbox, Lanes<M> lanes, InputLoop<M> loop) {
        this.c = c;
        this.outbox = outbox;
        this.lanes = lanes;
        this.loop = loop;
    }

    /** Partitions gained: their keys' machines recovered, their last answers sent again, and every partition sought. */
    void assigned(Collection<TopicPartition> partitions) {
        Predicate<String> belongs = c.service.placement() == Service.Placement.ALL ? k -> true
            : k -> partitions.stream().anyMatch(tp -> outbox.partitionOf(tp.topic(), k) == tp.partition());
        Map<String, Durability.Recovered<M>> recovered = c.durability.recover(c.service,
            k -> lanes.machine(k) == null && belongs.test(k));
        recovered.forEach(lanes::recovered);
        Map<TopicPartition, OffsetAndMetadata> groupOffsets = c.consumer.committed(new HashSet<>(partitions));
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata committed = groupOffsets.get(tp);
            Long from = committed == null ? null : committed.offset();
            for (Map.Entry<String, Positions> k : lanes.covered().entrySet()) {
                if (belongs.test(k.getKey())) {
                    Long p = k.getValue().asMap().get(tp.topic() + "/" + tp.partition());
                    if (p != null) {
                        from = from == null ? p : Math.min(from, p);
                    }
                }
            }
            if (from != null) {
                c.consumer.seek(tp, from);
                loop.intake().committed(tp, from);
            }
        }
    }

    /**
     * Partitions given up (to another member of the group): their records in flight are waited for
     * and, unless the partitions were lost, committed; then the machines of their keys are let go.
     * Their state is in their checkpoints, where the new owner finds it.
     */
    void giveUp(Set<TopicPartition> partitions, boolean commit) {
        long deadline = System.currentTimeMillis() + InputLoop.DRAIN_WAIT_MS;
        loop.drain(partitions, deadline);
        if (commit) {
            loop.commitNow(partitions);
        }
        if (c.service.placement() == Service.Placement.BY_KEY_HASH) {
            for (String key : List.copyOf(lanes.keys())) {
                if (partitions.stream().anyMatch(tp -> outbox.partitionOf(tp.topic(), key) == tp.partition())
                    && !lanes.release(key, deadline)) {
                    return;
                }
            }
        }
        loop.forget(partitions);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        if (c.running) {
            giveUp(new HashSet<>(partitions), true);
        }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        if (c.running) {
            giveUp(new HashSet<>(partitions), false);
        }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        if (c.running) {
            assigned(partitions);
        }
    }
}
