package dev.ikd.core.model;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Named parameter arrays in a fixed order (stage by stage). Models are pure functions of a Params
 * and an input; learning steps make new Params or update the owner's in place.
 */
public final class Params implements AutoCloseable {

    private final LinkedHashMap<String, NDArray> arrays;

    public Params(Map<String, NDArray> arrays) {
        this.arrays = new LinkedHashMap<>(arrays);
    }

    public NDArray get(String name) {
        NDArray a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter named " + name + "; have " + arrays.keySet());
        }
        return a;
    }

    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(arrays.keySet()));
    }

    public Map<String, NDArray> asMap() {
        return Collections.unmodifiableMap(arrays);
    }

    /** A new Params made name by name from this one's arrays. */
    public Params map(BiFunction<String, NDArray, NDArray> f) {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, f.apply(k, v)));
        return new Params(out);
    }

    /** A bit-exact copy owned by {@code manager}. */
    public Params copy(NDManager manager) {
        return map((k, v) -> Tensors.copy(v, v.getDataType(), manager));
    }

    /** Copies whose gradients autograd will record (leaves for one backward pass). */
    public Params requiringGradient(NDManager manager) {
        Params c = copy(manager);
        c.arrays.values().forEach(a -> a.setRequiresGradient(true));
        return c;
    }

    /** The gradients recorded on arrays from {@link #requiringGradient}, copied into {@code manager}. */
    public Params gradients(NDManager manager) {
        return map((k, v) -> {
            try (NDArray g = v.getGradient()) {
                return Tensors.copy(g, g.getDataType(), manager);
            }
        });
    }

    /** this + scale * other, as new arrays in {@code manager}. */
    public Params plusScaled(Params other, double scale, NDManager manager) {
        return map((k, v) -> {
            try (NDArray scaled = other.get(k).mul(scale)) { // in other's manager, which may live long: closed here
                NDArray r = v.add(scaled);
                r.attach(manager);
                return r;
            }
        });
    }

    public double squaredNorm() {
        double s = 0;
        for (NDArray a : arrays.values()) {
            try (NDArray sq = a.mul(a).sum()) {
                s += sq.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
            }
        }
        return s;
    }

    /** How these parameters differ in layout from {@code expected} (names, shapes, types), or null if they do not. */
    public String layoutDifference(Params expected) {
        if (!names().equals(expected.names())) {
            return "parameters " + names() + ", expected " + expected.names();
        }
        for (String n : expected.names()) {
            NDArray a = get(n);
            NDArray b = expected.get(n);
            if (!a.getShape().equals(b.getShape()) || a.getDataType() != b.getDataType()) {
                return n + " is " + a.getShape() + " " + a.getDataType() + ", expected " + b.getShape() + " " + b.getDataType();
            }
        }
        return null;
    }

    /** SHA-256 over names, shapes, types and little-endian values: equal hashes mean bit-equal parameters. */
    public String sha256() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (var e : arrays.entrySet()) {
                md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                md.update(e.getValue().getShape().toString().getBytes(StandardCharsets.UTF_8));
                md.update(e.getValue().getDataType().toString().getBytes(StandardCharsets.UTF_8));
                md.update(e.getValue().toByteArray());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        arrays.values().forEach(NDArray::close);
    }
}
