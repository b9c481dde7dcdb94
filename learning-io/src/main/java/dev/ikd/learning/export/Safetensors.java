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

    /** Reads a file of float32 tensors; anything else (another dtype, a bad header, a short file) is refused with the reason. */
    public static Contents read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < 8) {
            throw new IllegalArgumentException(file + " is not a safetensors file (" + bytes.length + " bytes)");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = in.getLong();
        if (n < 2 || n > MAX_HEADER || 8 + n > bytes.length) {
            throw new IllegalArgumentException(file + " is not a safetensors file (header length " + n + ")");
        }
        JsonObject header;
        try {
            header = JsonParser.parseString(new String(bytes, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + " has an unreadable safetensors header: " + e.getMessage());
        }
        int start = (int) (8 + n);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new TreeMap<>();
        TreeMap<Long, String> byOffset = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                e.getValue().getAsJsonObject().entrySet().forEach(m -> metadata.put(m.getKey(), m.getValue().getAsString()));
                continue;
            }
            byOffset.put(e.getValue().getAsJsonObject().getAsJsonArray("data_offsets").get(0).getAsLong(), e.getKey());
        }
        for (String name : byOffset.values()) {
            JsonObject entry = header.getAsJsonObject(name);
            String dtype = entry.get("dtype").getAsString();
            if (!dtype.equals("F32")) {
                throw new IllegalArgumentException(file + ": tensor " + name + " is " + dtype + "; ikd reads F32 tensors");
            }
            JsonArray s = entry.getAsJsonArray("shape");
            long[] shape = new long[s.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = s.get(i).getAsLong();
            }
            JsonArray o = entry.getAsJsonArray("data_offsets");
            long from = o.get(0).getAsLong();
            long to = o.get(1).getAsLong();
            if (from < 0 || to < from || start + to > bytes.length || (to - from) % 4 != 0) {
                throw new IllegalArgumentException(file + ": tensor " + name + " has byte range [" + from + ", " + to
                    + ") outside the file's " + (bytes.length - start) + " data bytes");
            }
            float[] values = new float[(int) ((to - from) / 4)];
            ByteBuffer.wrap(bytes, (int) (start + from), (int) (to - from)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            tensors.put(name, new Tensor(shape, values));
        }
        return new Contents(tensors, metadata);
    }
}
