package dev.ikd.core.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.model.Tensors;

/**
 * A labelled data set in memory: a training pool (sample ids index into it) and a test set used
 * only for final evaluation. Features are float32; text data hold token ids as floats.
 */
public final class Dataset {

    private final String name;
    private final long[] sampleShape;
    private final int sampleSize;
    private final int classes;
    private final float[] train;
    private final int[] trainLabels;
    private final float[] test;
    private final int[] testLabels;
    private final int vocabularySize;
    private final Table table;
    private final Origin origin;
    private final String sha256;

    /**
     * What a table's data set keeps of its file: the feature columns' names, the class names, and
     * the training split's mean and standard deviation of each feature, which standardised it.
     */
    public record Table(List<String> featureNames, List<String> classNames, double[] mean, double[] std) {
        public Table {
            featureNames = List.copyOf(featureNames);
            classNames = List.copyOf(classNames);
            mean = mean.clone();
            std = std.clone();
        }
    }

    public Dataset(String name, long[] sampleShape, int classes, float[] train, int[] trainLabels, float[] test,
                   int[] testLabels) {
        this(name, sampleShape, classes, train, trainLabels, test, testLabels, 0);
    }

    /** @param vocabularySize for text data, the number of word ids (features are ids); 0 otherwise */
    public Dataset(String name, long[] sampleShape, int classes, float[] train, int[] trainLabels, float[] test,
                   int[] testLabels, int vocabularySize) {
        this(name, sampleShape, classes, train, trainLabels, test, testLabels, vocabularySize, null, Origin.named(name));
    }

    /**
     * Where a data set came from and what rebuilds it: the {@code --dataset} value that named it
     * ({@code digits}, {@code csv:PATH}, {@code images:DIR}), the load options as resolved (the
     * header and label column a table was read with, an image size), and the class names (empty:
     * the classes are the numbers 0..k-1). A run carries it, so that replay, export and predict read
     * the data as the run did.
     */
    public record Origin(String source, java.util.Map<String, String> options, List<String> classNames) {
        public Origin {
            options = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(options));
            classNames = List.copyOf(classNames);
        }

        /** A data set known by its name alone. */
        public static Origin named(String name) {
            return new Origin(name, java.util.Map.of(), List.of());
        }
    }

    /**
     * @param table  what a table's file gave beside the numbers (null for other data sets)
     * @param origin where it came from and what rebuilds it
     */
    public Dataset(String name, long[] sampleShape, int classes, float[] train, int[] trainLabels, float[] test,
                   int[] testLabels, int vocabularySize, Table table, Origin origin) {
        this.name = name;
        this.sampleShape = sampleShape.clone();
        this.sampleSize = Math.toIntExact(new Shape(sampleShape).size());
        this.classes = classes;
        if (train.length != (long) trainLabels.length * sampleSize || test.length != (long) testLabels.length * sampleSize) {
            throw new IllegalArgumentException("data set " + name + ": feature count does not match labels x "
                + Arrays.toString(sampleShape));
        }
        for (int[] labels : new int[][] {trainLabels, testLabels}) {
            for (int y : labels) {
                if (y < 0 || y >= classes) {
                    throw new IllegalArgumentException("data set " + name + ": label " + y + " outside 0.." + (classes - 1));
                }
            }
        }
        this.train = train;
        this.trainLabels = trainLabels;
        this.test = test;
        this.testLabels = testLabels;
        this.vocabularySize = vocabularySize;
        this.table = table;
        if (!origin.classNames().isEmpty() && origin.classNames().size() != classes) {
            throw new IllegalArgumentException("data set " + name + ": " + origin.classNames().size() + " class names for " + classes
                + " classes");
        }
        this.origin = origin;
        this.sha256 = digest();
    }

    public String name() {
        return name;
    }

    public long[] sampleShape() {
        return sampleShape.clone();
    }

    public int classes() {
        return classes;
    }

    public boolean isText() {
        return vocabularySize > 0;
    }

    public int vocabularySize() {
        return vocabularySize;
    }

    public int trainSize() {
        return trainLabels.length;
    }

    public int testSize() {
        return testLabels.length;
    }

    /** The class names and standardisation of a table's data set; null for other data sets. */
    public Table table() {
        return table;
    }

    public Origin origin() {
        return origin;
    }

    /** The name of each class: the data set's own, or the class numbers. */
    public List<String> classNames() {
        if (!origin.classNames().isEmpty()) {
            return origin.classNames();
        }
        return java.util.stream.IntStream.range(0, classes).mapToObj(Integer::toString).toList();
    }

    /** Rows, features, classes with each one's share of the training split, and the split sizes, on one line. */
    public String summary() {
        int[] counts = new int[classes];
        for (int y : trainLabels) {
            counts[y]++;
        }
        StringBuilder balance = new StringBuilder();
        for (int c = 0; c < classes; c++) {
            balance.append(c == 0 ? "" : ", ").append(classNames().get(c))
                .append(String.format(java.util.Locale.ROOT, " %.1f%%", 100.0 * counts[c] / Math.max(1, trainLabels.length)));
        }
        return String.format(java.util.Locale.ROOT, "%s: %d rows, %d features, %d classes (%s), %d train / %d test", name,
            trainLabels.length + testLabels.length, sampleSize, classes, balance, trainLabels.length, testLabels.length);
    }

    /**
     * This data set with {@code fraction} of its training labels wrong: that many samples, drawn
     * from {@code seed}, each get a class other than its own, drawn uniformly. Only for making a
     * teacher of noisy labels to compare against (a benchmark); the test split is untouched.
     */
    public Dataset withTrainLabelNoise(double fraction, long seed) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("a label noise is a fraction of the training labels, 0 to 1, got " + fraction);
        }
        if (fraction == 0) {
            return this;
        }
        int[] noisy = trainLabels.clone();
        int[] order = Splits.permutation(noisy.length, seed);
        var random = new java.util.SplittableRandom(seed ^ 0x6E6F697365L);
        int flipped = (int) Math.round(fraction * noisy.length);
        for (int i = 0; i < flipped; i++) {
            int id = order[i];
            int other = random.nextInt(classes - 1);
            noisy[id] = other >= trainLabels[id] ? other + 1 : other;
        }
        return new Dataset(name + " (" + flipped + " training labels noisy)", sampleShape, classes, train, noisy, test, testLabels,
            vocabularySize, table, origin);
    }

    /** SHA-256 over the canonical bytes (shape, classes, features, labels): both sides of a run must agree on it. */
    public String sha256() {
        return sha256;
    }

    /** Training samples {@code ids} as a [B, ...sampleShape] array of {@code type}. */
    public NDArray trainFeatures(NDManager manager, int[] ids, DataType type) {
        return gather(manager, train, ids, type);
    }

    public int[] trainLabels(int[] ids) {
        int[] y = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            y[i] = trainLabels[checkId(ids[i], trainLabels.length)];
        }
        return y;
    }

    public NDArray testFeatures(NDManager manager, int from, int to, DataType type) {
        int[] ids = new int[to - from];
        Arrays.setAll(ids, i -> from + i);
        return gather(manager, test, ids, type);
    }

    public int[] testLabels(int from, int to) {
        return Arrays.copyOfRange(testLabels, from, to);
    }

    /** Every feature of the training pool ({@code test}: of the test set), row-major, a copy. */
    public float[] allFeatures(boolean test) {
        return (test ? this.test : train).clone();
    }

    /** Every label of the training pool, a copy. */
    public int[] allTrainLabels() {
        return trainLabels.clone();
    }

    /** The raw features of one training sample (for inline transport when data is not shared). */
    public float[] trainSample(int id) {
        checkId(id, trainLabels.length);
        return Arrays.copyOfRange(train, id * sampleSize, (id + 1) * sampleSize);
    }

    private NDArray gather(NDManager manager, float[] source, int[] ids, DataType type) {
        float[] out = new float[ids.length * sampleSize];
        int n = source.length / sampleSize;
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(source, checkId(ids[i], n) * sampleSize, out, i * sampleSize, sampleSize);
        }
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = ids.length;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return Tensors.of(manager, out, new Shape(shape), type);
    }

    private int checkId(int id, int n) {
        if (id < 0 || id >= n) {
            throw new IllegalArgumentException("sample id " + id + " is outside data set " + name + " (0.." + (n - 1) + ")");
        }
        return id;
    }

    private String digest() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer header = ByteBuffer.allocate(8 * (sampleShape.length + 2)).order(ByteOrder.LITTLE_ENDIAN);
            for (long d : sampleShape) {
                header.putLong(d);
            }
            header.putLong(classes);
            header.putLong(vocabularySize);
            md.update(header.array());
            for (float[] f : new float[][] {train, test}) {
                ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(f);
                md.update(b.array());
            }
            for (int[] l : new int[][] {trainLabels, testLabels}) {
                ByteBuffer b = ByteBuffer.allocate(l.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asIntBuffer().put(l);
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
