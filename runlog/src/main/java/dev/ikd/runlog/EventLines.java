package dev.ikd.runlog;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Tensor;

/**
 * A run's events as JSON Lines, in the order they happened: where each record was (topic,
 * partition, offset, time), its header, and its payload as JSON; tensors as their shape and a
 * summary (min, max, mean), or in full; bytes as their length.
 */
public final class EventLines {

    private final boolean full;

    private EventLines(boolean full) {
        this.full = full;
    }

    /** Writes every event of {@code log} to {@code file}, tensors in full when {@code full}; returns how many. */
    public static long write(RunLog log, Path file, boolean full) throws IOException {
        EventLines lines = new EventLines(full);
        long n = 0;
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (RunLog.Entry e : log.byTime()) {
                out.write(lines.line(e).toString());
                out.write('\n');
                n++;
            }
        }
        return n;
    }

    private JsonObject line(RunLog.Entry e) {
        JsonObject line = new JsonObject();
        line.addProperty("topic", e.topic());
        line.addProperty("partition", e.partition());
        line.addProperty("offset", e.offset());
        line.addProperty("timestamp_ms", e.timestampMs());
        Envelope env = e.envelope();
        line.addProperty("kind", env.getKind().name());
        line.addProperty("run_id", env.getRunId());
        line.addProperty("student_id", env.getStudentId());
        line.addProperty("step", env.getStep());
        line.addProperty("producer_id", env.getProducerId());
        line.addProperty("idempotency_key", env.getIdempotencyKey());
        FieldDescriptor payload = env.getOneofFieldDescriptor(Envelope.getDescriptor().getOneofs().get(0));
        if (payload != null) {
            line.add(payload.getName(), json((Message) env.getField(payload)));
        }
        return line;
    }

    private JsonObject json(Message m) {
        if (m instanceof Tensor t) {
            return tensor(t);
        }
        JsonObject o = new JsonObject();
        for (var f : m.getAllFields().entrySet()) {
            FieldDescriptor d = f.getKey();
            if (d.isRepeated()) {
                JsonArray a = new JsonArray();
                for (Object v : (List<?>) f.getValue()) {
                    addTo(a, v);
                }
                o.add(d.getName(), a);
            } else {
                JsonArray one = new JsonArray();
                addTo(one, f.getValue());
                o.add(d.getName(), one.get(0));
            }
        }
        return o;
    }

    private void addTo(JsonArray a, Object v) {
        if (v instanceof Message m) {
            a.add(json(m));
        } else if (v instanceof Number num) {
            a.add(num);
        } else if (v instanceof Boolean b) {
            a.add(b);
        } else if (v instanceof ByteString bytes) {
            a.add(bytes.size() + " bytes");
        } else {
            a.add(String.valueOf(v));
        }
    }

    private JsonObject tensor(Tensor t) {
        JsonObject o = new JsonObject();
        JsonArray shape = new JsonArray();
        t.getShapeList().forEach(shape::add);
        o.add("shape", shape);
        float[] v = TensorCodec.toFloats(t, TensorCodec.Finite.ALLOWED);
        if (full) {
            JsonArray values = new JsonArray();
            for (float x : v) {
                values.add(x);
            }
            o.add("values", values);
            return o;
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        for (float x : v) {
            min = Math.min(min, x);
            max = Math.max(max, x);
            sum += x;
        }
        if (v.length > 0) {
            o.addProperty("min", min);
            o.addProperty("max", max);
            o.addProperty("mean", sum / v.length);
        }
        return o;
    }
}
