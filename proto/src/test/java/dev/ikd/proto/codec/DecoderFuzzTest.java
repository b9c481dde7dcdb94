package dev.ikd.proto.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Tensor;
import dev.ikd.proto.v1.TokenTargets;

/**
 * Coverage-guided fuzzing of the decoders every record goes through (Jazzer): the envelope
 * deserializer, the tensor codec and the reader of a language model's token targets. Whatever the bytes, a decoder either accepts them or refuses
 * them as malformed with a reason; nothing else may escape (no other exception, no runaway
 * allocation). Accepted envelopes survive a re-encoding unchanged. The seed corpus lives in
 * {@code src/test/resources/.../DecoderFuzzTestInputs}; the surefire configuration of this module
 * fuzzes for {@code maxDuration} in every test run.
 */
class DecoderFuzzTest {

    private static final int LIMIT = 1 << 20;

    @FuzzTest(maxDuration = "40s")
    void anyBytesAreEitherAnEnvelopeOrRefusedWithAReason(byte[] input) {
        Decoded decoded = new EnvelopeDeserializer(LIMIT).deserialize("ikd.feedback", input);
        if (decoded instanceof Decoded.Malformed m) {
            assertThat(m.reason()).isNotBlank();
        } else {
            var envelope = ((Decoded.Valid) decoded).envelope();
            assertThat(Envelopes.decode(Envelopes.encode(envelope))).isEqualTo(envelope);
            for (Message t : messagesIn(envelope)) {
                if (t instanceof Tensor tensor) {
                    decodeOrRefuse(tensor);
                } else {
                    readOrRefuse((TokenTargets) t);
                }
            }
        }
        try {
            decodeOrRefuse(Tensor.parseFrom(input));
        } catch (InvalidProtocolBufferException notATensor) {
            // refused by protobuf itself, with its reason
        }
        try {
            readOrRefuse(TokenTargets.parseFrom(input));
        } catch (InvalidProtocolBufferException notTokenTargets) {
            // refused by protobuf itself, with its reason
        }
    }

    /**
     * Token targets read to as many numbers as their positions and encoding say, every one a
     * probability and every id a token of the vocabulary, or are refused as malformed.
     */
    private static void readOrRefuse(TokenTargets t) {
        try {
            TokenTargetsReader.Read read = TokenTargetsReader.decode(t);
            long rows = read.rows();
            if (read.dense() != null) {
                assertThat((long) read.dense().length).isEqualTo(rows * read.vocab());
                assertProbabilities(read.dense());
            } else {
                assertThat((long) read.ids().length).isEqualTo(rows * read.width());
                assertThat((long) read.probs().length).isEqualTo(rows * read.width());
                assertThat(read.tail()).hasSize(read.rows());
                for (int id : read.ids()) {
                    assertThat(id).isBetween(0, read.vocab() - 1);
                }
                assertProbabilities(read.probs());
                assertProbabilities(read.tail());
            }
        } catch (MalformedMessageException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }

    /** Each value from 0 to 1 (-0.0 included: it is 0 to every sum and product that reads it). */
    private static void assertProbabilities(float[] values) {
        for (float v : values) {
            assertThat(v >= 0 && v <= 1).as(v + " is a probability").isTrue();
        }
    }

    /** A tensor decodes to exactly as many values of its type as its shape says, or is refused as malformed. */
    private static void decodeOrRefuse(Tensor t) {
        try {
            long[] shape = TensorCodec.shape(t);
            long count = 1;
            for (long d : shape) {
                count *= d;
            }
            if (t.getDtype() == dev.ikd.proto.v1.DType.FLOAT64) {
                double[] values = TensorCodec.toDoubles(t, TensorCodec.Finite.ALLOWED);
                assertThat((long) values.length).isEqualTo(count);
                assertThat(TensorCodec.encode(values, shape).getData()).isEqualTo(t.getData());
            } else {
                float[] values = TensorCodec.toFloats(t, TensorCodec.Finite.ALLOWED);
                assertThat((long) values.length).isEqualTo(count);
                assertThat(TensorCodec.encode(values, shape).getData()).isEqualTo(t.getData());
            }
        } catch (MalformedMessageException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }

    /** The tensors and token targets inside a message, at any depth. */
    private static List<Message> messagesIn(Message m) {
        List<Message> out = new ArrayList<>();
        if (m instanceof Tensor || m instanceof TokenTargets) {
            out.add(m);
            return out;
        }
        for (var field : m.getAllFields().entrySet()) {
            Object value = field.getValue();
            for (Object v : value instanceof List<?> list ? list : List.of(value)) {
                if (v instanceof Message child) {
                    out.addAll(messagesIn(child));
                }
            }
        }
        return out;
    }
}
