package dev.ikd.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Hop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.ikd.wiring.HopLog;

/** Hops per step, ms per step and hop latency, from made-up hop moments whose answers are known. */
class HopAnalysisTest {

    static final int STEPS = 30;
    static final int WARMUP = 5;

    @TempDir
    Path dir;

    /**
     * The IKD chain: the student learns 4 ms, its feedback takes 1 ms to the teacher, the teacher
     * updates 3 ms, the soft targets take 1 ms back. A step waits for two hops and lasts 9 ms.
     */
    static List<HopLog.Sample> chain() {
        List<HopLog.Sample> s = new ArrayList<>();
        long t = 1_000_000;
        for (long k = 0; k < STEPS; k++) {
            long stSent = t;
            long stReceived = t + 1_000;
            long studentDone = stReceived + 4_000;
            s.add(sample("student", Kind.SOFT_TARGETS, k, stSent, stReceived, studentDone));
            long fbReceived = studentDone + 1_000;
            long teacherDone = fbReceived + 3_000;
            s.add(sample("teacher", Kind.FEEDBACK, k, studentDone, fbReceived, teacherDone));
            t = teacherDone;
        }
        return s;
    }

    /** Classic KD with prefetch: soft targets arrive long before they are needed; the student learns 2 ms a step. */
    static List<HopLog.Sample> prefetched() {
        List<HopLog.Sample> s = new ArrayList<>();
        for (long k = 0; k < STEPS; k++) {
            long studentStart = 1_000_000 + k * 2_000;
            s.add(sample("student", Kind.SOFT_TARGETS, k, 1_000, 2_000 + k, studentStart + 2_000));
            s.add(sample("teacher", Kind.FEEDBACK, k, studentStart + 2_000, studentStart + 2_500, studentStart + 2_600));
        }
        return s;
    }

    static HopLog.Sample sample(String service, Kind kind, long step, long sent, long received, long done) {
        return new HopLog.Sample(service, kind == Kind.SOFT_TARGETS ? "ikd.soft-targets" : "ikd.feedback", kind, "student-0", step,
            new Hop(sent, sent + 200, received, received + 50, done - 100, done - 50, done));
    }

    @Test
    void theIkdChainWaitsForTwoHopsAStep() {
        HopAnalysis.Result r = HopAnalysis.of(chain(), 1, STEPS, WARMUP);
        assertThat(r.hopsPerStep()).isEqualTo(2.0);
        assertThat(r.msPerStep()).isEqualTo(9.0);
        assertThat(r.hopP50Ms()).isEqualTo(1.0);
        assertThat(r.stageP50Ms().get("ikd.soft-targets")).containsEntry("produce", 0.2).containsEntry("fetch", 0.8)
            .containsEntry("queue", 0.05);
    }

    @Test
    void prefetchedSoftTargetsWaitForNoHop() {
        HopAnalysis.Result r = HopAnalysis.of(prefetched(), 1, STEPS, WARMUP);
        assertThat(r.hopsPerStep()).isZero();
        assertThat(r.msPerStep()).isEqualTo(2.0);
    }

    @Test
    void aRunWithoutEveryStepIsNotAnalysedButNamed() {
        List<HopLog.Sample> gap = new ArrayList<>(chain());
        gap.removeIf(s -> s.kind() == Kind.SOFT_TARGETS && s.step() == 12);
        assertThatThrownBy(() -> HopAnalysis.of(gap, 1, STEPS, WARMUP))
            .hasMessage("no hop sample of the soft targets of step 12 of student-0");
    }

    @Test
    void aHopLogReadsBackWhatWasWritten() throws Exception {
        Path file = dir.resolve("hops.csv");
        try (HopLog log = new HopLog(file)) {
            for (HopLog.Sample s : chain()) {
                log.handled(s.service(), s.topic(), Envelopes.header("r", s.student(), s.step(), s.kind(), "x",
                    java.time.Clock.systemUTC()).build(), s.hop());
            }
        }
        assertThat(HopLog.read(file)).isEqualTo(chain());
        Files.writeString(file, HopLog.HEADER + "\nstudent,ikd.soft-targets,SOFT_TARGETS,student-0,1,2\n");
        assertThatThrownBy(() -> HopLog.read(file)).hasMessage(file + " line 2: not a hop sample (12 fields expected, got 6)");
    }
}
