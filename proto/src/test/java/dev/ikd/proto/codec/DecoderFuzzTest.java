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

/**
 * Coverage-guided fuzzing of the two decoders every record goes through (Jazzer): the envelope
 * deserializer and the tensor codec. Whatever the bytes, a decoder either accepts them or refuses
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
            for (Tensor t : tensorsIn(envelope)) {
                decodeOrRefuse(t);
            }
        }
        try {
            decodeOrRefuse(Tensor.parseFrom(input));
        } catch (InvalidProtocolBufferException notATensor) {
            // refused by protobuf itself, with its reason
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

    private static List<Tensor> tensorsIn(Message m) {
        List<Tensor> out = new ArrayList<>();
        if (m instanceof Tensor t) {
            out.add(t);
            return out;
        }
        for (var field : m.getAllFields().entrySet()) {
            Object value = field.getValue();
            for (Object v : value instanceof List<?> list ? list : List.of(value)) {
                if (v instanceof Message child) {
                    out.addAll(tensorsIn(child));
                }
            }
        }
        return out;
    }
}
