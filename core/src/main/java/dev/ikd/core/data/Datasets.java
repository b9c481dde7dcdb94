package dev.ikd.core.data;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Loads data sets from their original formats: the bundled ones from the classpath, the larger ones
 * from the directory that {@code scripts/fetch-data.sh} fills. Nothing is downloaded here.
 */
public final class Datasets {

    public static final List<String> NAMES = List.of("digits", "sentences", "mnist", "fashion-mnist", "imdb");
    /** Fixed seed of the train/test cut for data sets that ship as one file: the test split never moves. */
    private static final long TEST_SPLIT_SEED = 20261123L;
    private static final String BUNDLED = "/dev/ikd/core/data/";

    private Datasets() {
    }

    /**
     * @param name    one of {@link #NAMES}, or {@code csv:PATH} (a table, read with the default options)
     * @param dataDir where fetched data sets live (git-ignored {@code data/} by default)
     */
    public static Dataset load(String name, Path dataDir) {
        return load(name, dataDir, Map.of());
    }

    /**
     * The same, read with load {@code options}: a table's {@code csv-header} and {@code label-column}
     * (Tables.Options), an image folder's {@code image-size} and {@code channels} (ImageFolders); an
     * option the data set does not take is refused.
     */
    public static Dataset load(String name, Path dataDir, Map<String, String> options) {
        Set<String> takes = name.startsWith("csv:") ? Set.of(Tables.Options.HEADER, Tables.Options.LABEL_COLUMN, Limits.CSV_ROWS,
            Limits.CSV_COLUMNS, Limits.CSV_CELL)
            : name.startsWith("images:") ? ImageFolders.OPTIONS : Set.of();
        for (String key : options.keySet()) {
            if (!takes.contains(key)) {
                throw new IllegalArgumentException("--" + key + " does not go with --dataset " + name);
            }
        }
        if (name.startsWith("csv:")) {
            return csv(Path.of(name.substring(4)), Tables.Options.of(options));
        }
        if (name.startsWith("images:")) {
            return ImageFolders.read(Path.of(name.substring(7)), ImageFolders.Options.of(options), n -> testCut(n, 0.2));
        }
        return switch (name) {
            case "digits" -> digits();
            case "sentences" -> sentences();
            case "mnist" -> idx("mnist", dataDir.resolve("mnist"), "", 10);
            case "fashion-mnist" -> idx("fashion-mnist", dataDir.resolve("fashion-mnist"), ".gz", 10);
            case "imdb" -> imdb(dataDir.resolve("imdb").resolve("reviews.json"));
            default -> throw new IllegalArgumentException("unknown data set '" + name + "'; known: "
                + String.join(", ", NAMES) + ", csv:PATH, images:DIR");
        };
    }

    /** scikit-learn's 8x8 digits (bundled): pixels 0..16 scaled to 0..1, 20% held out as the test set. */
    public static Dataset digits() {
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (var reader = new BufferedReader(new InputStreamReader(new GZIPInputStream(bundled("digits.csv.gz")),
            StandardCharsets.US_ASCII))) {
            String line;
            while ((line = reader.readLine()) != null) {
                String[] cells = line.split(",");
                float[] x = new float[64];
                for (int i = 0; i < 64; i++) {
                    x[i] = Float.parseFloat(cells[i]) / 16f;
                }
                rows.add(x);
                labels.add(Integer.parseInt(cells[64].trim()));
            }
        } catch (IOException e) {
            throw new MissingDataException("cannot read the bundled digits: " + e.getMessage(), e);
        }
        return cut("digits", new long[] {64}, 10, rows, labels, 0.2);
    }

    /** UCI sentiment-labelled sentences (bundled): 3 x 1,000 sentences, 2 classes, 32 tokens each. */
    public static Dataset sentences() {
        List<String> texts = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String source : List.of("imdb", "amazon", "yelp")) {
            JsonArray items;
            try (var reader = new InputStreamReader(bundled("sentences-" + source + ".json"), StandardCharsets.UTF_8)) {
                items = JsonParser.parseReader(reader).getAsJsonArray();
            } catch (IOException | RuntimeException e) {
                throw new MissingDataException("cannot read the bundled sentences: " + e.getMessage(), e);
            }
            for (JsonElement item : items) {
                if (item.isJsonNull()) {
                    continue;
                }
                JsonObject o = item.getAsJsonObject();
                if (!o.has("class") || o.get("class").isJsonNull()) {
                    continue; // the trailing placeholder entry of each file
                }
                texts.add(o.get("text").getAsString());
                labels.add(o.get("class").getAsInt());
            }
        }
        return text("sentences", texts, labels, 0.2, 32, 5000, 1);
    }

    /** IMDB 50k reviews (fetched): {@code <br />} stripped, duplicates dropped, seeded 80/20 split, 200 tokens. */
    public static Dataset imdb(Path reviews) {
        List<String> texts = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        imdbReviews(reviews).forEach(o -> {
            texts.add(o.get("t").getAsString());
            labels.add(o.get("s").getAsInt());
        });
        return text("imdb", texts, labels, 0.2, 200, 20_000, 2);
    }

    /** The text of every IMDB review (fetched), duplicates dropped, in the file's order, as written (with its {@code <br />}). */
    public static List<String> imdbTexts(Path reviews) {
        return imdbReviews(reviews).stream().map(o -> o.get("t").getAsString()).toList();
    }

    private static List<JsonObject> imdbReviews(Path reviews) {
        requireFetched("imdb", reviews);
        JsonArray items;
        try (var reader = Files.newBufferedReader(reviews, StandardCharsets.UTF_8)) {
            items = JsonParser.parseReader(reader).getAsJsonArray();
        } catch (IOException | RuntimeException e) {
            throw new MissingDataException("cannot read " + reviews + ": " + e.getMessage(), e);
        }
        Set<String> seen = new LinkedHashSet<>();
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement item : items) {
            JsonObject o = item.getAsJsonObject();
            if (seen.add(o.get("t").getAsString())) {
                out.add(o);
            }
        }
        return out;
    }

    /** IDX files as MNIST ships them: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. */
    public static Dataset idx(String name, Path dir, String suffix, int classes) {
        Path trainImages = dir.resolve("train-images-idx3-ubyte" + suffix);
        requireFetched(name, trainImages);
        Idx train = Idx.read(trainImages, dir.resolve("train-labels-idx1-ubyte" + suffix));
        Idx test = Idx.read(dir.resolve("t10k-images-idx3-ubyte" + suffix), dir.resolve("t10k-labels-idx1-ubyte" + suffix));
        return new Dataset(name, new long[] {1, train.rows, train.cols}, classes, train.pixels, train.labels,
            test.pixels, test.labels);
    }

    /** A table (CSV or TSV) with the default options: header detected, the label in the last column; 20% held out. */
    public static Dataset csv(Path file) {
        return csv(file, Tables.Options.DEFAULT);
    }

    /** A table read with {@code options} (Tables), standardised by its training split; 20% held out as the test set. */
    public static Dataset csv(Path file, Tables.Options options) {
        requireFetched("csv:" + file, file);
        return Tables.read(file, options, n -> testCut(n, 0.2));
    }

    private static Dataset text(String name, List<String> texts, List<Integer> labels, double testFraction,
                                int length, int vocabSize, int minCount) {
        int[][] cut = testCut(texts.size(), testFraction);
        int[] trainIds = cut[0];
        int[] testIds = cut[1];
        List<String> trainTexts = Arrays.stream(trainIds).mapToObj(texts::get).toList();
        Vocabulary vocab = Vocabulary.build(trainTexts, vocabSize, minCount);
        float[] train = new float[trainIds.length * length];
        float[] test = new float[testIds.length * length];
        for (int i = 0; i < trainIds.length; i++) {
            System.arraycopy(vocab.encode(texts.get(trainIds[i]), length), 0, train, i * length, length);
        }
        for (int i = 0; i < testIds.length; i++) {
            System.arraycopy(vocab.encode(texts.get(testIds[i]), length), 0, test, i * length, length);
        }
        int[] trainLabels = Arrays.stream(trainIds).map(labels::get).toArray();
        int[] testLabels = Arrays.stream(testIds).map(labels::get).toArray();
        int classes = Math.max(Arrays.stream(trainLabels).max().orElse(0), Arrays.stream(testLabels).max().orElse(0)) + 1;
        return new Dataset(name, new long[] {length}, classes, train, trainLabels, test, testLabels, vocab.size());
    }

    private static Dataset cut(String name, long[] shape, int classes, List<float[]> rows, List<Integer> labels,
                               double testFraction) {
        int width = rows.get(0).length;
        int[][] split = testCut(rows.size(), testFraction);
        int[] trainIds = split[0];
        int[] testIds = split[1];
        float[] train = new float[trainIds.length * width];
        float[] test = new float[testIds.length * width];
        for (int i = 0; i < trainIds.length; i++) {
            System.arraycopy(rows.get(trainIds[i]), 0, train, i * width, width);
        }
        for (int i = 0; i < testIds.length; i++) {
            System.arraycopy(rows.get(testIds[i]), 0, test, i * width, width);
        }
        return new Dataset(name, shape, classes, train, Arrays.stream(trainIds).map(labels::get).toArray(),
            test, Arrays.stream(testIds).map(labels::get).toArray());
    }

    /** {train ids, test ids} of a data set that ships as one file: a fixed seeded cut, sorted. */
    static int[][] testCut(int n, double testFraction) {
        int[] order = Splits.permutation(n, TEST_SPLIT_SEED);
        int testCount = (int) Math.round(testFraction * n);
        int[] testIds = Arrays.copyOfRange(order, 0, testCount);
        int[] trainIds = Arrays.copyOfRange(order, testCount, n);
        Arrays.sort(testIds);
        Arrays.sort(trainIds);
        return new int[][] {trainIds, testIds};
    }

    private static InputStream bundled(String file) {
        InputStream in = Datasets.class.getResourceAsStream(BUNDLED + file);
        if (in == null) {
            throw new MissingDataException("bundled data file " + file + " is missing from the classpath");
        }
        return in;
    }

    private static void requireFetched(String name, Path file) {
        if (name.startsWith("csv:") && !Files.isReadable(file)) {
            throw new MissingDataException("table " + file + " does not exist or cannot be read");
        }
        if (!Files.isReadable(file)) {
            throw new MissingDataException("data set '" + name + "' is not on this machine (" + file
                + " missing): run scripts/fetch-data.sh " + name.replace("csv:", ""));
        }
    }

    /** One IDX image file and its label file. */
    private record Idx(int rows, int cols, float[] pixels, int[] labels) {

        static Idx read(Path images, Path labelFile) {
            try (var in = new DataInputStream(open(images)); var lin = new DataInputStream(open(labelFile))) {
                int magic = in.readInt();
                if (magic != 0x0803) {
                    throw new MissingDataException(images + " is not an IDX image file (magic " + Integer.toHexString(magic) + ")");
                }
                int n = in.readInt();
                int rows = in.readInt();
                int cols = in.readInt();
                byte[] raw = in.readNBytes(n * rows * cols);
                if (raw.length != n * rows * cols) {
                    throw new MissingDataException(images + " is truncated");
                }
                int labelMagic = lin.readInt();
                int m = lin.readInt();
                if (labelMagic != 0x0801 || m != n) {
                    throw new MissingDataException(labelFile + " does not match " + images);
                }
                byte[] rawLabels = lin.readNBytes(m);
                float[] pixels = new float[raw.length];
                for (int i = 0; i < raw.length; i++) {
                    pixels[i] = (raw[i] & 0xff) / 255f;
                }
                int[] labels = new int[m];
                for (int i = 0; i < m; i++) {
                    labels[i] = rawLabels[i] & 0xff;
                }
                return new Idx(rows, cols, pixels, labels);
            } catch (IOException e) {
                throw new MissingDataException("cannot read " + images + ": " + e.getMessage(), e);
            }
        }

        private static InputStream open(Path file) throws IOException {
            InputStream in = Files.newInputStream(file);
            return file.toString().endsWith(".gz") ? new GZIPInputStream(in, 1 << 16) : new java.io.BufferedInputStream(in, 1 << 16);
        }
    }
}
