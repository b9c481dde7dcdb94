package dev.ikd.learning.export;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header that
 * names each tensor's dtype, shape and byte range, then the tensors' bytes, little-endian and
 * row-major. ikd writes float32 tensors in the order given and reads float32 files back; the header
 * is padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
public final class Safetensors {

    /** One tensor: its shape and its values, row-major. */
    public record Tensor(long[] shape, float[] values) {
        public Tensor {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n != values.length) {
                throw new IllegalArgumentException("a tensor of shape " + java.util.Arrays.toString(shape) + " needs " + n
                    + " values, got " + values.length);
            }
        }
    }

    /** A file's tensors, in file order, and its free-form string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {
    }

    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            new TreeMap<>(metadata).forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", "F32");
            JsonArray shape = new JsonArray();
            for (long d : t.getValue().shape()) {
                shape.add(d);
            }
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset += 4L * t.getValue().values().length;
            offsets.add(offset);
            entry.add("data_offsets", offsets);
            header.add(t.getKey(), entry);
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (Tensor t : tensors.values()) {
            for (float v : t.values()) {
                out.putFloat(v);
            }
        }
        Files.write(file, out.array());
    }

    /**
     * Reads a file of float32 tensors; anything else is refused with one line naming the problem: a
     * short file, a bad header, a missing or malformed field, another dtype, a shape whose size is
     * not its byte range's, byte ranges outside the data, overlapping or leaving gaps. All arithmetic
     * on offsets is checked, so no value in the header can overflow it.
     */
    public static Contents read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < 8) {
            throw new IllegalArgumentException(file + " is not a safetensors file (" + bytes.length + " bytes)");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = in.getLong();
        if (n < 2 || n > MAX_HEADER || n > bytes.length - 8L) {
            throw new IllegalArgumentException(file + " is not a safetensors file (header length " + n + ")");
        }
        JsonObject header;
        try {
            header = JsonParser.parseString(new String(bytes, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + " has an unreadable safetensors header: " + e.getMessage());
        }
        long start = 8 + n;
        long dataBytes = bytes.length - start;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new TreeMap<>();
        record Entry(String name, long[] shape, long from, long to) {
        }
        TreeMap<Long, Entry> byOffset = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                JsonObject meta = object(file, name, e.getValue());
                for (Map.Entry<String, JsonElement> m : meta.entrySet()) {
                    if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString()) {
                        throw new IllegalArgumentException(file + ": metadata '" + m.getKey() + "' is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().getAsString());
                }
                continue;
            }
            JsonObject entry = object(file, "tensor " + name, e.getValue());
            JsonElement type = field(file, name, entry, "dtype");
            String dtype = type.isJsonPrimitive() ? type.getAsString() : type.toString();
            if (!dtype.equals("F32")) {
                throw new IllegalArgumentException(file + ": tensor " + name + " is " + dtype + "; ikd reads F32 tensors");
            }
            long[] shape = numbers(file, name, field(file, name, entry, "shape"), "shape", -1);
            long[] offsets = numbers(file, name, field(file, name, entry, "data_offsets"), "data_offsets", 2);
            long from = offsets[0];
            long to = offsets[1];
            if (to < from || to > dataBytes) {
                throw new IllegalArgumentException(file + ": tensor " + name + " has byte range [" + from + ", " + to
                    + ") outside the file's " + dataBytes + " data bytes");
            }
            long elements = 1;
            for (long d : shape) {
                try {
                    elements = Math.multiplyExact(elements, d);
                } catch (ArithmeticException overflow) {
                    elements = -1;
                    break;
                }
            }
            if (elements < 0 || elements > Integer.MAX_VALUE / 4 || elements * 4 != to - from) {
                throw new IllegalArgumentException(file + ": tensor " + name + " has shape " + java.util.Arrays.toString(shape)
                    + " but " + (to - from) + " bytes of data (F32 needs 4 per element)");
            }
            Entry previous = byOffset.put(from, new Entry(name, shape, from, to));
            if (previous != null) {
                throw new IllegalArgumentException(file + ": tensors " + previous.name() + " and " + name + " start at the same byte "
                    + from);
            }
        }
        long expected = 0;
        for (Entry e : byOffset.values()) {
            if (e.from() != expected) {
                throw new IllegalArgumentException(file + ": tensor " + e.name() + " starts at byte " + e.from() + ", where "
                    + (e.from() < expected ? "the tensor before it still runs (they overlap)" : "byte " + expected
                    + " was expected (a gap)"));
            }
            expected = e.to();
        }
        for (Entry e : byOffset.values()) {
            float[] values = new float[(int) ((e.to() - e.from()) / 4)];
            ByteBuffer.wrap(bytes, (int) (start + e.from()), (int) (e.to() - e.from())).order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer().get(values);
            tensors.put(e.name(), new Tensor(e.shape(), values));
        }
        return new Contents(tensors, metadata);
    }

    private static JsonObject object(Path file, String what, JsonElement e) {
        if (!e.isJsonObject()) {
            throw new IllegalArgumentException(file + ": " + what + " is not a JSON object in the header");
        }
        return e.getAsJsonObject();
    }

    private static JsonElement field(Path file, String name, JsonObject entry, String field) {
        JsonElement e = entry.get(field);
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException(file + ": tensor " + name + " has no " + field);
        }
        return e;
    }

    /** A JSON array of whole numbers >= 0 ({@code size} of them, unless it is -1). */
    private static long[] numbers(Path file, String name, JsonElement e, String field, int size) {
        if (!e.isJsonArray() || size >= 0 && e.getAsJsonArray().size() != size) {
            throw new IllegalArgumentException(file + ": tensor " + name + "'s " + field + " is not " + (size >= 0 ? "an array of "
                + size + " numbers" : "an array of numbers"));
        }
        JsonArray a = e.getAsJsonArray();
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement v = a.get(i);
            long value;
            try {
                if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
                    throw new NumberFormatException();
                }
                value = v.getAsBigDecimal().longValueExact();
            } catch (NumberFormatException | ArithmeticException bad) {
                throw new IllegalArgumentException(file + ": tensor " + name + "'s " + field + " holds " + v + ", not a whole number");
            }
            if (value < 0) {
                throw new IllegalArgumentException(file + ": tensor " + name + "'s " + field + " holds " + value + ", below 0");
            }
            out[i] = value;
        }
        return out;
    }
}
