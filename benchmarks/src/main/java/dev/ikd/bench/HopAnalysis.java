package dev.ikd.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Hop;
import dev.ikd.wiring.HopLog;

/**
 * What a distributed run's hop samples say: ms per step in the steady state, hop latency, and how
 * many hops a student's step waited for one after the other. A student is done with step k-1 when
 * its state after it is persisted (its answers may still be on their way). Step k waited for no hop
 * when its soft targets were polled before that; for one when they came later; for two when,
 * besides, the teacher sent them only after the student's feedback of step k-1 reached it (the IKD
 * chain: feedback, teacher update, soft targets).
 */
public final class HopAnalysis {

    private HopAnalysis() {
    }

    /**
     * @param msPerStep   steady-state ms per round (every student one step) over the number of students
     * @param hopsPerStep mean number of hops a student's step waited for in sequence
     * @param hopP50Ms    send-to-poll latency of the soft-targets and feedback hops, median
     */
    record Result(double msPerStep, double msPerRound, double hopsPerStep, double hopP50Ms, double hopP99Ms,
                  Map<String, Map<String, Double>> stageP50Ms) {
    }

    /** The stages of a hop, in order, and how to read each from a hop. */
    static final Map<String, ToLongFunction<Hop>> STAGES = stages();

    private static Map<String, ToLongFunction<Hop>> stages() {
        Map<String, ToLongFunction<Hop>> m = new LinkedHashMap<>();
        m.put("produce", Hop::produceUs);
        m.put("fetch", Hop::fetchUs);
        m.put("queue", Hop::queueUs);
        m.put("apply", Hop::applyUs);
        m.put("persist", Hop::persistUs);
        m.put("ack", Hop::ackUs);
        return m;
    }

    /** Analyses the samples of one run of {@code students} students, {@code steps} steps each, timing from step {@code warmup}. */
    static Result of(List<HopLog.Sample> samples, int students, long steps, int warmup) {
        Map<String, Map<Long, Hop>> targets = firstBy(samples, Kind.SOFT_TARGETS);
        Map<String, Map<Long, Hop>> feedback = firstBy(samples, Kind.FEEDBACK);
        if (targets.size() != students) {
            throw new IllegalStateException("hop samples of " + targets.size() + " students' soft targets, expected " + students);
        }
        double waited = 0;
        long counted = 0;
        long[] roundDone = new long[(int) steps];
        for (var student : targets.entrySet()) {
            Map<Long, Hop> st = student.getValue();
            for (long k = Math.max(0, warmup - 1); k < steps; k++) {
                Hop h = st.get(k);
                if (h == null) {
                    throw new IllegalStateException("no hop sample of the soft targets of step " + k + " of " + student.getKey());
                }
                roundDone[(int) k] = Math.max(roundDone[(int) k], finished(h));
                if (k < Math.max(1, warmup)) {
                    continue;
                }
                counted++;
                if (h.receivedUs() > finished(st.get(k - 1))) {
                    Hop fb = feedback.getOrDefault(student.getKey(), Map.of()).get(k - 1);
                    waited += fb != null && h.sentUs() >= fb.receivedUs() ? 2 : 1;
                }
            }
        }
        double msPerRound = (roundDone[(int) steps - 1] - roundDone[warmup - 1]) / 1000.0 / (steps - warmup);
        List<Hop> timed = new ArrayList<>();
        Map<String, Map<String, Double>> stages = new LinkedHashMap<>();
        for (Kind kind : List.of(Kind.SOFT_TARGETS, Kind.FEEDBACK)) {
            List<Hop> ofKind = new ArrayList<>();
            for (HopLog.Sample s : samples) {
                if (s.kind() == kind && s.step() >= warmup) {
                    ofKind.add(s.hop());
                }
            }
            timed.addAll(ofKind);
            Map<String, Double> p50 = new LinkedHashMap<>();
            STAGES.forEach((stage, f) -> p50.put(stage, percentile(ofKind, f, 0.5)));
            stages.put(Topics.topicOf(kind), p50);
        }
        return new Result(msPerRound / students, msPerRound, waited / counted, percentile(timed, Hop::latencyUs, 0.5),
            percentile(timed, Hop::latencyUs, 0.99), stages);
    }

    /** When the student was done with a step and free for the next: its state persisted (or, unknown that, the record done). */
    private static long finished(Hop h) {
        return h.persistedUs() >= 0 ? h.persistedUs() : h.doneUs();
    }

    /** Per student and step, the first record of {@code kind} handled (a repeat after a nudge is not a new hop). */
    private static Map<String, Map<Long, Hop>> firstBy(List<HopLog.Sample> samples, Kind kind) {
        Map<String, Map<Long, Hop>> out = new HashMap<>();
        for (HopLog.Sample s : samples) {
            if (s.kind() == kind) {
                out.computeIfAbsent(s.student(), k -> new HashMap<>()).merge(s.step(), s.hop(),
                    (a, b) -> a.receivedUs() <= b.receivedUs() ? a : b);
            }
        }
        return out;
    }

    /** The {@code p} quantile of a stage, in ms, over the hops that know it. */
    static double percentile(List<Hop> hops, ToLongFunction<Hop> micros, double p) {
        List<Long> values = new ArrayList<>();
        for (Hop h : hops) {
            long v = micros.applyAsLong(h);
            if (v >= 0) {
                values.add(v);
            }
        }
        if (values.isEmpty()) {
            return Double.NaN;
        }
        Collections.sort(values);
        int i = (int) Math.ceil(p * values.size()) - 1;
        return values.get(Math.max(0, Math.min(values.size() - 1, i))) / 1000.0;
    }
}
