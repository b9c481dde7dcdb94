package dev.ikd.proto.topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/** The one place that names ikd's topics and creates them (docs/architecture.md §4). */
public final class Topics {

    public static final String ENROLLMENT = "ikd.enrollment";
    public static final String CONTROL = "ikd.control";
    public static final String SOFT_TARGETS = "ikd.soft-targets";
    public static final String FEEDBACK = "ikd.feedback";
    public static final String EXAM_RESULTS = "ikd.exam-results";
    public static final String TEACHER_UPDATES = "ikd.teacher-updates";
    public static final String TEACHER_BLOCKS = "ikd.teacher-blocks";
    public static final String DEAD_LETTER = "ikd.dead-letter";
    public static final String COORDINATOR_JOURNAL = "ikd.coordinator-journal";

    public static final List<String> ALL = List.of(
        ENROLLMENT, CONTROL, SOFT_TARGETS, FEEDBACK, EXAM_RESULTS, TEACHER_UPDATES, TEACHER_BLOCKS, DEAD_LETTER,
        COORDINATOR_JOURNAL);

    private Topics() {
    }

    /** The topic an envelope travels on: its kind's, or for a part of a larger envelope, that envelope's kind's. */
    public static String topicOf(Envelope e) {
        return topicOf(e.getKind() == Kind.PART ? e.getPart().getWholeKind() : e.getKind());
    }

    /** The topic each kind of message travels on. */
    public static String topicOf(Kind kind) {
        return switch (kind) {
            case ENROLLMENT -> ENROLLMENT;
            case ADMITTED, REFUSED, COURSE_START, TEACHER_DEADLINE, FINISH, ABORT -> CONTROL;
            case SOFT_TARGETS -> SOFT_TARGETS;
            case FEEDBACK -> FEEDBACK;
            case EXAM_RESULT, STUDENT_REPORT -> EXAM_RESULTS;
            case TEACHER_UPDATED -> TEACHER_UPDATES;
            case TEACHER_BLOCK -> TEACHER_BLOCKS;
            case DEAD_LETTER -> DEAD_LETTER;
            case JOURNAL_ENTRY -> COORDINATOR_JOURNAL;
            case PART, KIND_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("no topic for kind " + kind);
        };
    }

    /**
     * Why a record read from {@code topic} under {@code key} is not where its envelope belongs, or
     * null: every kind has one topic, and its key names its student (or run, or block). A signature
     * covers the value only, so a genuine record copied to another topic or under another key is
     * caught here, before anyone hears of it.
     */
    public static String misplaced(String topic, String key, Envelope e) {
        String home;
        try {
            home = topicOf(e);
        } catch (IllegalArgumentException unknown) {
            return "misplaced: a " + e.getKind() + " record belongs on no topic";
        }
        if (!home.equals(topic)) {
            return "misplaced: a " + e.getKind() + " record belongs on " + home + ", not " + topic;
        }
        String expected = keyOf(e);
        String actual = key == null ? "" : key;
        if (!expected.equals(actual)) {
            return "misplaced: a " + e.getKind() + " record of " + (expected.isEmpty() ? "the whole run" : "'" + expected + "'")
                + " is keyed '" + (actual.length() > 64 ? actual.substring(0, 64) + "..." : actual).replaceAll("[^\\x20-\\x7e]", "?")
                + "'";
        }
        return null;
    }

    /**
     * The record key: the student id, so one student's messages stay ordered in one partition; for
     * teacher blocks run, teacher id and stage, so compaction keeps the latest version of each stage; for
     * the coordinator's journal the run id, so one run's journal is one ordered partition.
     */
    public static String keyOf(Envelope envelope) {
        if (envelope.getKind() == Kind.JOURNAL_ENTRY) {
            return envelope.getRunId();
        }
        if (envelope.getKind() == Kind.TEACHER_BLOCK) {
            return envelope.getRunId() + "/" + envelope.getTeacherBlock().getTeacherId() + "/" + envelope.getTeacherBlock().getStage();
        }
        return envelope.getStudentId();
    }

    /**
     * The topic definitions for {@code settings}: compaction for teacher blocks, the run log kept for
     * good (or {@code retentionMs}), records stamped with the broker's append time, and
     * {@code min.insync.replicas} on every topic.
     */
    public static List<NewTopic> definitions(TopicSettings settings) {
        List<NewTopic> topics = new ArrayList<>();
        for (String name : ALL) {
            Map<String, String> config = TEACHER_BLOCKS.equals(name)
                ? Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.SEGMENT_MS_CONFIG, Long.toString(settings.compactionSegmentMs()),
                    TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01",
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(settings.maxMessageBytes()),
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(settings.minInsyncReplicas()))
                : Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(settings.retentionMs()),
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(settings.maxMessageBytes()),
                    // The broker stamps each record as it appends it: with the sender's and the
                    // receiver's clocks, that splits a hop into its produce and fetch stages.
                    TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime",
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(settings.minInsyncReplicas()));
            topics.add(new NewTopic(name, settings.partitions(), settings.replicationFactor()).configs(config));
        }
        return topics;
    }

    /**
     * Waits until the brokers serve every partition of {@code names}. A topic is created when the
     * controller says so, but a broker learns of it a moment later; an idempotent producer whose
     * first record to a partition is refused as unknown while its next one is accepted would see
     * its sequence broken (OutOfOrderSequenceException), so nothing is sent before this returns.
     */
    static void awaitLeaders(Admin admin, List<String> names, Duration timeout)
        throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                var described = admin.describeTopics(names).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (described.values().stream().allMatch(t -> !t.partitions().isEmpty()
                    && t.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()))) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the partitions of " + names + " have no leader after " + timeout.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
    }

    /** Creates the topics that are missing, and waits until the brokers serve them; existing ones are left as they are. */
    public static void ensure(Admin admin, TopicSettings settings, Duration timeout) {
        try {
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = definitions(settings).stream().filter(t -> !existing.contains(t.name())).toList();
            if (missing.isEmpty()) {
                return;
            }
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + entry.getKey() + ": "
                            + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
            awaitLeaders(admin, missing.stream().map(NewTopic::name).toList(), timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot reach the Kafka cluster to create topics: " + e.getMessage(), e);
        }
    }
}
