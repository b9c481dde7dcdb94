package dev.ikd.proto.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import com.google.protobuf.ByteString;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import dev.ikd.proto.v1.TokenTargets;
import org.junit.jupiter.api.Test;

class PartsTest {

    static Envelope large(int bytes) {
        byte[] probs = new byte[bytes];
        new Random(3).nextBytes(probs);
        return Envelopes.header("run-1", "student-2", 7, Kind.SOFT_TARGETS, "teacher", SampleEnvelopes.CLOCK)
            .setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(7).setTemperature(2).setTokens(TokenTargets.newBuilder()
                .setEncoding("dense").setPositions(bytes / 4 / 1000).setVocab(1000).setProbs(ByteString.copyFrom(probs)))).build();
    }

    @Test
    void anEnvelopeThatFitsTravelsAsItIs() {
        Envelope small = large(4000);
        assertThat(Parts.split(small, 1 << 20)).containsExactly(small);
    }

    @Test
    void aLargerOneTravelsInPartsThatEachFitOnItsTopicAndJoinInAnyOrder() {
        Envelope whole = large(1_000_000);
        List<Envelope> parts = new ArrayList<>(Parts.split(whole, 100_000));
        assertThat(parts).hasSize((whole.getSerializedSize() + 100_000 - Parts.OVERHEAD - 1) / (100_000 - Parts.OVERHEAD));
        for (Envelope p : parts) {
            assertThat(p.getSerializedSize()).isLessThanOrEqualTo(100_000 - Parts.OVERHEAD + 400);
            assertThat(Topics.topicOf(p)).isEqualTo(Topics.SOFT_TARGETS);
            assertThat(Topics.keyOf(p)).isEqualTo("student-2");
            assertThat(Topics.misplaced(Topics.SOFT_TARGETS, "student-2", p)).isNull();
            Envelopes.validate(p);
        }
        Collections.shuffle(parts, new Random(5));
        Parts.Assembler assembler = new Parts.Assembler(50_000_000);
        Optional<Envelope> joined = Optional.empty();
        for (int i = 0; i < parts.size(); i++) {
            assertThat(joined).as("nothing before the last part").isEmpty();
            joined = assembler.accept(parts.get(i));
            if (i == 3) {
                assertThat(assembler.accept(parts.get(2))).as("a part delivered twice is taken once").isEmpty();
            }
        }
        assertThat(joined).contains(whole);
        assertThat(assembler.waiting()).isZero();
    }

    @Test
    void partsThatCannotBelongAreRefusedWithTheReason() {
        List<Envelope> parts = Parts.split(large(300_000), 100_000);
        Parts.Assembler a = new Parts.Assembler(50_000_000);
        a.accept(parts.get(0));
        Envelope changed = parts.get(1).toBuilder().setPart(parts.get(1).getPart().toBuilder().setData(ByteString.copyFromUtf8("x")))
            .build();
        Envelope last = parts.get(parts.size() - 1);
        assertThatThrownBy(() -> {
            a.accept(changed);
            for (int i = 2; i < parts.size(); i++) {
                a.accept(parts.get(i));
            }
        }).isInstanceOf(MalformedMessageException.class).hasMessage("run-1/student-2/7/soft_targets: its " + parts.size()
            + " parts joined do not have the SHA-256 they carry");
        Parts.Assembler b = new Parts.Assembler(50_000_000);
        b.accept(parts.get(0));
        assertThatThrownBy(() -> b.accept(parts.get(0).toBuilder().setPart(parts.get(0).getPart().toBuilder()
            .setData(ByteString.copyFromUtf8("other")).build()).build()))
            .hasMessage("part 0 of " + parts.size() + " of run-1/student-2/7/soft_targets: sent again with other bytes");
        assertThatThrownBy(() -> b.accept(last.toBuilder().setPart(last.getPart().toBuilder().setCount(9)).build()))
            .hasMessageEndingWith("its count or hash differs from the parts already in (" + parts.size() + " parts)");
        Parts.Assembler small = new Parts.Assembler(150_000);
        small.accept(parts.get(0));
        assertThatThrownBy(() -> small.accept(parts.get(1))).as("memory bound")
            .hasMessageEndingWith("more than 150000 bytes of parts would wait at once; the parts of run-1/student-2/7/soft_targets "
                + "are given up");
        assertThat(small.waitingFor("run-1/student-2/7/soft_targets")).as("given up").isNull();
        assertThat(small.accept(parts.get(0))).as("the bytes given up no longer count").isEmpty();
        assertThatThrownBy(() -> Parts.split(large(300_000), 4000)).hasMessageContaining("leaves no room for a part");
    }

    @Test
    void aNewerSendOfTheSameEnvelopeCanReplaceTheUnfinishedOne() {
        Envelope first = large(300_000);
        List<Envelope> old = Parts.split(first, 100_000);
        List<Envelope> again = Parts.split(first.toBuilder().setEventTimeUs(first.getEventTimeUs() + 1).build(), 100_000);
        Parts.Assembler a = new Parts.Assembler(50_000_000);
        a.accept(old.get(0));
        String key = old.get(0).getPart().getWholeKey();
        assertThat(a.waitingFor(key)).isEqualTo(old.get(0).getPart().getWholeSha256());
        assertThat(a.replacedBy(old.get(1))).as("the same send").isFalse();
        assertThat(a.replacedBy(again.get(0))).isTrue();
        assertThat(a.waitingFor(key)).isNull();
        Optional<Envelope> whole = Optional.empty();
        for (Envelope p : again) {
            whole = a.accept(p);
        }
        assertThat(whole).hasValueSatisfying(w -> assertThat(w.getEventTimeUs()).isEqualTo(first.getEventTimeUs() + 1));
        assertThat(a.waiting()).isZero();
    }

    @Test
    void partsThatJoinIntoAnotherEnvelopeThanTheirHeaderNamesAreRefused() {
        Envelope whole = large(300_000);
        List<Envelope> parts = Parts.split(whole, 100_000);
        Parts.Assembler a = new Parts.Assembler(50_000_000);
        for (int i = 0; i < parts.size() - 1; i++) {
            a.accept(parts.get(i).toBuilder().setStep(8).build());
        }
        assertThatThrownBy(() -> a.accept(parts.get(parts.size() - 1).toBuilder().setStep(8).build()))
            .hasMessage("run-1/student-2/7/soft_targets: its parts join into SOFT_TARGETS run-1/student-2/7/soft_targets, not the "
                + "envelope their header names");
        List<Envelope> invalid = Parts.split(whole.toBuilder().setSchemaVersion(9).build(), 100_000);
        Parts.Assembler b = new Parts.Assembler(50_000_000);
        assertThatThrownBy(() -> invalid.forEach(b::accept))
            .hasMessage("run-1/student-2/7/soft_targets: its parts join into an envelope that is not valid: unknown schema version 9 "
                + "(this build reads 1)");
    }
}
