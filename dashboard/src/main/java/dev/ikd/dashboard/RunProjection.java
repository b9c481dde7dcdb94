package dev.ikd.dashboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Tensor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One run as the dashboard shows it: a read-only projection of the run's records, in the order
 * the log gives them, that a live run and a finished one build alike. Pure: no Kafka, no clock of
 * its own (the caller says what time it is), so it is tested with envelopes alone.
 *
 * <p>Per student and step it keeps one row (course loss, exam loss and accuracy from the exam
 * result, the teacher's loss from its update with how far it has drifted from where it started (KL on the
 * exam batch) and its accuracy there, the soft targets' entropy, the distillation term
 * from the feedback); a row changed by a later record is sent again. Every change bumps a version,
 * so a page that has seen version v asks for {@link #since(long, long)} and gets only what changed.
 */
public final class RunProjection {

    /** Rows and latency points kept per run for operations charts: buckets of this many ms. */
    static final long BUCKET_MS = 2_000;
    /** A course loss above twice its lowest of the last this many steps (and above 0.5) is divergent. */
    static final int DIVERGENCE_WINDOW = 50;
    static final int DEAD_LETTERS_SHOWN = 50;
    /** The coordinator's default step timeout: a student silent for longer is an alert. */
    public static final long DEFAULT_STEP_TIMEOUT_MS = 30_000;

    /** One step of one student; null where the record that carries a value has not come yet. */
    static final class Row {
        final long step;
        Double course;
        Double exam;
        Double accuracy;
        Double teacher;
        Double entropy;
        Double distill;
        Double drift;
        Double teacherAccuracy;
        boolean unverified;
        /** The version of each teacher the step learned from ("" for the run's only teacher). */
        Map<String, Long> examVersions = Map.of();
        long changed;

        Row(long step) {
            this.step = step;
        }

        JsonArray json() {
            return new JsonArray().add(step).add(num(course)).add(num(exam)).add(num(accuracy)).add(num(teacher)).add(num(entropy))
                .add(num(distill)).add(num(drift)).add(num(teacherAccuracy)).add(unverified ? 1 : 0);
        }
    }

    /** Hop samples kept per topic and bucket: beyond this, a uniform sample of them (reservoir). */
    static final int HOP_SAMPLES = 2048;

    /** Latency and teacher work per time bucket. */
    static final class Bucket {
        final Map<String, List<Double>> hopsMs = new TreeMap<>();
        final Map<String, long[]> hopsSeen = new TreeMap<>();
        long teacherBusyUs;
        double cacheHitRatio = Double.NaN;
        long changed;
    }

    /** A refused record, newest last. */
    record DeadLetterLine(long timeMs, String service, String topic, int partition, long offset, String student, String reason) {
    }

    private final String runId;
    private final Map<String, StudentState> students = new TreeMap<>();
    /** Parts waiting for the rest of their envelope; a dashboard holds at most this many bytes of them per run. */
    private final dev.ikd.proto.envelope.Parts.Assembler parts = new dev.ikd.proto.envelope.Parts.Assembler(1L << 30);
    /** With several teachers, by teacher id. */
    private final Map<String, TeacherStats> teachers = new TreeMap<>();
    private final TreeMap<Long, Bucket> buckets = new TreeMap<>();
    private final Deque<DeadLetterLine> deadLetters = new ArrayDeque<>();
    private final JsonObject options = new JsonObject();
    private final List<String> staleVersions = new ArrayList<>();
    /** Records that failed the check against the run's keys (or were misplaced): the newest few, and how many. */
    private final java.util.ArrayDeque<String> unverified = new java.util.ArrayDeque<>();
    private long unverifiedCount;
    private String dataset = "";
    private String teacherMode = "";
    private long steps;
    private long firstMs = -1;
    private long lastMs = -1;
    private boolean complete;
    private String endReason = "";
    private long version;
    private long examResults;

    RunProjection(String runId) {
        this.runId = runId;
    }

    String runId() {
        return runId;
    }

    long version() {
        return version;
    }

    long firstMs() {
        return firstMs;
    }

    long lastMs() {
        return lastMs;
    }

    /**
     * A record of this run that failed its check (not signed by the sender its kind needs, or
     * copied to another topic or key): not taken into the rows, but shown, with its step's row
     * marked, so the page never passes a forged value for the run's.
     */
    void unverified(String topic, long timestampMs, Envelope e, String reason) {
        version++;
        unverifiedCount++;
        unverified.addLast(topic + " " + (e.getStudentId().isEmpty() ? "" : e.getStudentId() + " ") + "step " + e.getStep() + " "
            + e.getKind() + ": " + reason);
        while (unverified.size() > 10) {
            unverified.removeFirst();
        }
        if (!e.getStudentId().isEmpty() && e.getKind() != dev.ikd.proto.v1.Kind.DEAD_LETTER) {
            Row r = students.computeIfAbsent(e.getStudentId(), k -> new StudentState()).row(e.getStep());
            r.unverified = true;
            r.changed = version;
        }
    }

    /**
     * Takes one record of this run ({@code timestampMs}: when the broker appended it). A part of an
     * envelope too large for one record waits for the rest; the whole is taken when its last part is.
     */
    void apply(String topic, long timestampMs, Envelope e) {
        if (e.getKind() == dev.ikd.proto.v1.Kind.PART) {
            try {
                parts.replacedBy(e);
                java.util.Optional<Envelope> whole = parts.accept(e);
                if (whole.isPresent()) {
                    apply(topic, timestampMs, whole.get());
                }
            } catch (dev.ikd.proto.codec.MalformedMessageException bad) {
                unverified(topic, timestampMs, e, bad.getMessage());
            }
            return;
        }
        version++;
        firstMs = firstMs < 0 ? timestampMs : Math.min(firstMs, timestampMs);
        lastMs = Math.max(lastMs, timestampMs);
        hop(topic, timestampMs, e);
        StudentState s = e.getStudentId().isEmpty() ? null : students.computeIfAbsent(e.getStudentId(), k -> new StudentState());
        if (s != null && e.getKind() != dev.ikd.proto.v1.Kind.DEAD_LETTER) {
            s.lastMs = Math.max(s.lastMs, timestampMs);
        }
        switch (e.getKind()) {
            case ENROLLMENT -> {
                s.enrolled = true;
                describe(e.getEnrollment());
            }
            case ADMITTED -> {
                s.admitted = true;
                s.teachers = e.getAdmitted().getEnrollment().getHyperParameters().getTeachersList();
                teacherMode = e.getAdmitted().getTeacherMode();
                steps = e.getAdmitted().getSteps();
                options.put("teacher_mode", teacherMode).put("steps", steps);
                describe(e.getAdmitted().getEnrollment());
            }
            case REFUSED -> s.refused = e.getRefused().getReason();
            case ABORT -> s.aborted = e.getAbort().getReason();
            case FINISH -> {
                if (s == null) {
                    complete = true;
                    endReason = e.getFinish().getReason();
                }
            }
            case SOFT_TARGETS -> {
                if (e.getSoftTargets().hasTokens()) {
                    s.tokenBytes += e.getSoftTargets().getTokens().getSerializedSize(); // a language model's: what it costs a token
                    s.tokenPositions += e.getSoftTargets().getTokens().getPositions();
                } else if (!e.getSoftTargets().hasProbabilities()) {
                    return; // the pilot update's last: the updated targets of the last step, for the student's course alone
                }
                s.lastSoftTargets = Math.max(s.lastSoftTargets, e.getStep());
                if (!e.getTeacherId().isEmpty() && e.getStep() > s.lastExam) {
                    s.softFrom.computeIfAbsent(e.getStep(), k -> new java.util.TreeSet<>()).add(e.getTeacherId());
                }
                Row r = s.row(e.getStep());
                r.entropy = e.getSoftTargets().hasTokens() ? null : entropy(e.getSoftTargets().getProbabilities());
                r.changed = version;
                Bucket b = bucket(timestampMs);
                b.teacherBusyUs += e.getMeasured().getBusyUs();
                if (e.getMeasured().hasCacheHitRatio()) {
                    b.cacheHitRatio = e.getMeasured().getCacheHitRatio();
                }
            }
            case FEEDBACK -> {
                s.lastFeedback = Math.max(s.lastFeedback, e.getStep());
                Row r = s.row(e.getStep());
                r.distill = e.getFeedback().getDistillKl();
                r.changed = version;
            }
            case EXAM_RESULT -> {
                if (s.lastExam < e.getStep()) {
                    examResults++;
                }
                s.lastExam = Math.max(s.lastExam, e.getStep());
                Row r = s.row(e.getStep());
                r.course = e.getExamResult().getCourseLoss();
                r.exam = e.getExamResult().getExamLoss();
                r.accuracy = e.getExamResult().getExamAccuracy();
                r.examVersions = e.getExamResult().getTeacherVersionsCount() > 0 ? e.getExamResult().getTeacherVersionsMap()
                    : Map.of("", e.getExamResult().getTeacherVersion());
                r.changed = version;
                e.getExamResult().getTeacherWeightsMap().forEach((teacher, w) -> {
                    TeacherStats t = teachers.computeIfAbsent(teacher, x -> new TeacherStats());
                    t.weight.put(e.getStudentId(), w);
                    t.stepsUsed++;
                });
                if (e.getExamResult().getTeacherWeightsCount() > 0) {
                    for (String teacher : s.teachers) {
                        if (!e.getExamResult().containsTeacherWeights(teacher)) {
                            TeacherStats t = teachers.computeIfAbsent(teacher, x -> new TeacherStats());
                            t.stepsWithout++;
                            t.lastWithout = e.getStudentId() + " step " + e.getStep();
                        }
                    }
                }
                s.softFrom.headMap(s.lastExam, true).clear();
                checkVersion(e.getStudentId(), s, e.getStep());
            }
            case STUDENT_REPORT -> {
                s.testAccuracy = e.getStudentReport().getTestAccuracy();
                s.testPerplexity = e.getStudentReport().getTestPerplexity() > 0 ? e.getStudentReport().getTestPerplexity() : null;
            }
            case TEACHER_UPDATED -> {
                Row r = s.row(e.getStep());
                r.teacher = e.getTeacherUpdated().getTeacherLoss();
                r.drift = e.getTeacherUpdated().getDriftKl();
                r.teacherAccuracy = e.getTeacherUpdated().getTeacherExamAccuracy();
                r.changed = version;
                s.teacherVersions.computeIfAbsent(e.getTeacherId(), t -> new TreeMap<>()).put(e.getStep(),
                    e.getTeacherUpdated().getTeacherVersion());
                if (!e.getTeacherId().isEmpty()) {
                    teachers.computeIfAbsent(e.getTeacherId(), x -> new TeacherStats()).loss.put(e.getStudentId(),
                        e.getTeacherUpdated().getTeacherLoss());
                }
                bucket(timestampMs).teacherBusyUs += e.getMeasured().getBusyUs();
                checkVersion(e.getStudentId(), s, e.getStep() + 1);
            }
            case DEAD_LETTER -> deadLetter(timestampMs, e);
            default -> {
                // Course starts, teacher blocks and journal entries change nothing the page shows.
            }
        }
    }

    /** A dead letter of this run (or one no run can be told from), kept with its reason. */
    void deadLetter(long timestampMs, Envelope e) {
        var d = e.getDeadLetter();
        deadLetters.addLast(new DeadLetterLine(timestampMs, e.getProducerId(), d.getTopic(), d.getPartition(), d.getOffset(),
            e.getStudentId(), d.getReason()));
        while (deadLetters.size() > DEAD_LETTERS_SHOWN) {
            deadLetters.removeFirst();
        }
        if (d.getReason().contains("stale teacher version")) {
            staleVersions.add((e.getStudentId().isEmpty() ? "" : e.getStudentId() + ": ") + d.getReason());
        }
        version++;
    }

    /**
     * In modes where the teacher learns, step k must learn from the version the teacher reported
     * after step k-1; the coordinator aborts a student that did not, and the page says so at once.
     */
    /** Step k must have learned from each teacher at the version it reported after step k−1, where it updated then. */
    private void checkVersion(String student, StudentState s, long k) {
        Row r = s.rows.get(k);
        if (r == null || "frozen".equals(teacherMode)) {
            return;
        }
        r.examVersions.forEach((teacher, learned) -> {
            Long after = s.teacherVersions.getOrDefault(teacher, Map.of()).get(k - 1);
            if (after != null && !after.equals(learned)) {
                staleVersions.add(student + ": step " + k + " learned from " + (teacher.isEmpty() ? "teacher" : teacher) + " version "
                    + learned + ", the teacher was at " + after + " after step " + (k - 1));
            }
        });
    }

    private void describe(dev.ikd.proto.v1.Enrollment en) {
        dataset = en.getDataset().getName();
        var hp = en.getHyperParameters();
        options.put("dataset", dataset).put("student_model", en.getStudentModel().getFamily() + ":" + en.getStudentModel().getWidthsList())
            .put("train_size", en.getDataset().getTrainSize()).put("label_fraction", en.getDataset().getLabelFraction())
            .put("lr", hp.getLearningRate()).put("momentum", hp.getMomentum()).put("temperature", hp.getTemperature())
            .put("alpha", hp.getAlpha()).put("beta", hp.getBeta()).put("teacher_lr", hp.getTeacherLearningRate())
            .put("batch", hp.getBatchSize()).put("exam_batch", hp.getExamBatchSize()).put("seed", hp.getSeed());
        if (!hp.getSwap().isEmpty()) {
            options.put("swap", hp.getSwap());
        }
        if (!hp.getTeacherMode().isEmpty()) {
            teacherMode = teacherMode.isEmpty() ? hp.getTeacherMode() : teacherMode;
            options.put("teacher_mode", teacherMode);
        }
        if (steps == 0) {
            steps = hp.getSteps();
            options.put("steps", steps);
        }
    }

    /** Send to broker append, per topic, from the sender's clock and the broker's stamp. */
    private void hop(String topic, long timestampMs, Envelope e) {
        long sentUs = e.getEventTimeUs() > 0 ? e.getEventTimeUs() : e.getEventTimeMs() * 1000;
        if (sentUs <= 0) {
            return;
        }
        double ms = Math.max(0, timestampMs - sentUs / 1000.0);
        Bucket b = bucket(timestampMs);
        List<Double> samples = b.hopsMs.computeIfAbsent(topic, t -> new ArrayList<>());
        long seen = ++b.hopsSeen.computeIfAbsent(topic, t -> new long[1])[0];
        if (samples.size() < HOP_SAMPLES) {
            samples.add(ms);
        } else {
            // Reservoir sampling, seeded by the count so that the same log gives the same quantiles.
            long slot = Math.floorMod(new java.util.SplittableRandom(seen).nextLong(), seen);
            if (slot < HOP_SAMPLES) {
                samples.set((int) slot, ms);
            }
        }
    }

    private Bucket bucket(long timestampMs) {
        Bucket b = buckets.computeIfAbsent(timestampMs / BUCKET_MS * BUCKET_MS, t -> new Bucket());
        b.changed = version;
        return b;
    }

    /** The mean entropy (nats) of the rows of a B x C probability matrix. */
    static double entropy(Tensor probabilities) {
        float[] p = TensorCodec.toFloats(probabilities, TensorCodec.Finite.ALLOWED);
        long[] shape = TensorCodec.shape(probabilities);
        if (shape.length != 2 || shape[0] == 0) {
            return Double.NaN;
        }
        double h = 0;
        for (float v : p) {
            if (v > 0) {
                h -= v * Math.log(v);
            }
        }
        return h / shape[0];
    }

    /** Running, complete, or aborted when every student that started was aborted. */
    String status() {
        if (complete) {
            return "complete";
        }
        boolean any = students.values().stream().anyMatch(s -> s.admitted);
        boolean allAborted = any && students.values().stream().filter(s -> s.admitted).allMatch(s -> s.aborted != null);
        return allAborted ? "aborted" : "running";
    }

    /**
     * What changed after {@code seen} (0: everything), as the page takes it: the header, each
     * student's changed rows and state, the operations buckets that changed, the latest dead
     * letters and the alerts, with the version to ask from next time. {@code nowMs} ages the
     * students' last messages; {@code stepTimeoutMs} is when silence becomes an alert.
     */
    JsonObject since(long seen, long nowMs) {
        return since(seen, nowMs, DEFAULT_STEP_TIMEOUT_MS);
    }

    /** The run's header at {@code nowMs}: id, data set, teacher mode, status with its reason, elapsed time, rate, options. */
    JsonObject header(long nowMs) {
        String status = status();
        long end = "running".equals(status) ? Math.max(lastMs, nowMs) : lastMs;
        double elapsedS = firstMs < 0 ? 0 : Math.max(0, end - firstMs) / 1000.0;
        return new JsonObject().put("id", runId).put("dataset", dataset).put("teacher_mode", teacherMode)
            .put("steps", steps).put("students", students.size()).put("status", status)
            .put("reason", complete ? endReason : abortReasons()).put("elapsed_s", elapsedS)
            .put("steps_per_s", elapsedS == 0 ? null : examResults / elapsedS).put("options", options.copy())
            .put("first_ms", firstMs < 0 ? null : firstMs).put("last_ms", lastMs < 0 ? null : lastMs);
    }

    JsonObject since(long seen, long nowMs, long stepTimeoutMs) {
        JsonObject run = header(nowMs);
        String status = run.getString("status");
        JsonObject studentsJson = new JsonObject();
        JsonArray alerts = new JsonArray();
        students.forEach((id, s) -> {
            JsonArray rows = new JsonArray();
            for (Row r : s.rows.values()) {
                if (r.changed > seen) {
                    rows.add(r.json());
                }
            }
            studentsJson.put(id, new JsonObject().put("rows", rows).put("step", s.lastExam + 1)
                .put("waiting", s.waiting()).put("age_s", s.lastMs == 0 ? null : Math.max(0, nowMs - s.lastMs) / 1000.0)
                .put("test_accuracy", s.testAccuracy).put("aborted", s.aborted).put("refused", s.refused));
            if (s.tokenPositions > 0) { // a language model: the perplexity of its last exam, and the soft-target bytes a token
                Double examLoss = s.lastExamLoss();
                studentsJson.getJsonObject(id).put("perplexity", examLoss == null ? null : Math.exp(examLoss))
                    .put("test_perplexity", s.testPerplexity).put("soft_target_bytes_per_token", (double) s.tokenBytes / s.tokenPositions);
            }
            alerts(id, s, "running".equals(status), nowMs, stepTimeoutMs, alerts);
        });
        staleVersions.forEach(text -> alerts.add(alert("stale-teacher-version", text)));
        if (unverifiedCount > 0) {
            alerts.add(alert("unverified-records", unverifiedCount + " records failed the check against the run's keys and are "
                + "not shown; the newest: " + String.join("; ", unverified)));
        }
        JsonObject ops = new JsonObject();
        JsonArray bucketRows = new JsonArray();
        buckets.forEach((t, b) -> {
            if (b.changed > seen || seen == 0) {
                JsonObject hops = new JsonObject();
                b.hopsMs.forEach((topic, ms) -> hops.put(topic, new JsonArray().add(quantile(ms, 0.5)).add(quantile(ms, 0.99))));
                bucketRows.add(new JsonObject().put("t", t).put("busy", b.teacherBusyUs / 1000.0 / BUCKET_MS)
                    .put("cache", num(b.cacheHitRatio)).put("hops", hops));
            }
        });
        ops.put("buckets", bucketRows).put("bucket_ms", BUCKET_MS);
        JsonArray dls = new JsonArray();
        deadLetters.forEach(d -> dls.add(new JsonObject().put("time_ms", d.timeMs()).put("service", d.service())
            .put("topic", d.topic()).put("partition", d.partition()).put("offset", d.offset()).put("student", d.student())
            .put("reason", d.reason())));
        JsonObject teachersJson = new JsonObject();
        teachers.forEach((id, t) -> teachersJson.put(id, t.json()));
        return new JsonObject().put("version", version).put("full", seen == 0).put("now_ms", nowMs).put("run", run)
            .put("students", studentsJson).put("teachers", teachersJson).put("ops", ops).put("dead_letters", dls)
            .put("alerts", alerts);
    }

    private String abortReasons() {
        List<String> reasons = new ArrayList<>();
        students.forEach((id, s) -> {
            if (s.aborted != null) {
                reasons.add(id + ": " + s.aborted);
            }
        });
        return String.join("; ", reasons);
    }

    private void alerts(String id, StudentState s, boolean running, long nowMs, long stepTimeoutMs, JsonArray alerts) {
        s.rows.values().stream().filter(r -> !finite(r.course) || !finite(r.exam) || !finite(r.teacher)).findFirst()
            .ifPresent(r -> alerts.add(alert("loss-not-finite", id + ": a loss of step " + r.step + " is NaN or infinite")));
        Row last = s.rows.isEmpty() ? null : s.rows.values().stream().filter(r -> r.course != null).reduce((a, b) -> b).orElse(null);
        if (last != null && Double.isFinite(last.course)) {
            double lowest = s.rows.subMap(Math.max(0, last.step - DIVERGENCE_WINDOW), true, last.step, true).values().stream()
                .filter(r -> r.course != null).mapToDouble(r -> r.course).filter(Double::isFinite).min().orElse(Double.NaN);
            if (last.course > 2 * lowest && last.course > 0.5) {
                alerts.add(alert("loss-divergent", String.format(java.util.Locale.ROOT,
                    "%s: course loss %.3f at step %d, more than twice its lowest (%.3f) of the last %d steps", id, last.course,
                    last.step, lowest, DIVERGENCE_WINDOW)));
            }
        }
        boolean active = running && s.admitted && s.aborted == null && s.testAccuracy == null;
        if (active && s.lastMs > 0 && nowMs - s.lastMs > stepTimeoutMs) {
            alerts.add(alert("student-silent", String.format(java.util.Locale.ROOT, "%s: no message for %.0f s (step timeout %d s)",
                id, (nowMs - s.lastMs) / 1000.0, stepTimeoutMs / 1000)));
        }
    }

    /** A value not yet known is not an alert; one that came as NaN or infinite is. */
    private static boolean finite(Double v) {
        return v == null || Double.isFinite(v);
    }

    private static JsonObject alert(String kind, String text) {
        return new JsonObject().put("kind", kind).put("text", text);
    }

    private static double quantile(List<Double> values, double q) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(q * sorted.size())));
    }

    /** JSON has no NaN or infinity: null stands for a value not known (or not finite; the alerts say which). */
    static Double num(Double v) {
        return v != null && Double.isFinite(v) ? v : null;
    }
}
