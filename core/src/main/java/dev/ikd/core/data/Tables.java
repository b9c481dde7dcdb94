package dev.ikd.core.data;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A table of samples, one a row (CSV, or TSV when the file ends in {@code .tsv} or its first line
 * has tabs and no commas), parsed by Apache Commons CSV. The label column is chosen by name or
 * index (default: the last); labels may be strings, and the class names are kept. Every feature
 * column is standardised with the mean and standard deviation of the training split, which the
 * data set keeps. A missing or non-numeric value stops the load with the file, line and column.
 */
public final class Tables {

    /** Whether the first row names the columns. */
    public enum Header { AUTO, YES, NO }

    /**
     * How to read a table.
     *
     * @param header      whether the first row is a header (AUTO: it is when a column that holds
     *                    numbers below it does not hold one in it)
     * @param labelColumn the label column's name or 0-based index; null: the last column
     */
    public record Options(Header header, String labelColumn, Limits limits) {
        public static final Options DEFAULT = new Options(Header.AUTO, null, Limits.DEFAULT);

        public Options(Header header, String labelColumn) {
            this(header, labelColumn, Limits.DEFAULT);
        }
        /** The load option that says whether the first row is a header (auto, yes, no). */
        public static final String HEADER = "csv-header";
        /** The load option that names the label column. */
        public static final String LABEL_COLUMN = "label-column";

        /** From load options ({@link #HEADER}, {@link #LABEL_COLUMN}; others are not a table's). */
        public static Options of(Map<String, String> options) {
            String h = options.getOrDefault(HEADER, "auto");
            Header header = switch (h.strip().toLowerCase(Locale.ROOT)) {
                case "auto" -> Header.AUTO;
                case "yes", "true" -> Header.YES;
                case "no", "false" -> Header.NO;
                default -> throw new IllegalArgumentException("--" + HEADER + " must be auto, yes or no, got '" + h + "'");
            };
            String label = options.get(LABEL_COLUMN);
            return new Options(header, label == null || label.isBlank() ? null : label, Limits.of(options));
        }
    }

    private Tables() {
    }

    /** Reads {@code file}; {@code testCut} splits n rows into {train ids, test ids}. */
    static Dataset read(Path file, Options options, java.util.function.IntFunction<int[][]> testCut) {
        List<CSVRecord> records = parse(file, options.limits());
        if (records.isEmpty()) {
            throw new MissingDataException(file + " has no rows");
        }
        int width = records.get(0).size();
        boolean header = switch (options.header()) {
            case YES -> true;
            case NO -> false;
            case AUTO -> looksLikeHeader(records);
        };
        List<String> names = new ArrayList<>();
        for (int c = 0; c < width; c++) {
            names.add(header ? records.get(0).get(c).strip() : "column " + (c + 1));
        }
        List<CSVRecord> rows = header ? records.subList(1, records.size()) : records;
        if (rows.isEmpty()) {
            throw new MissingDataException(file + " has a header and no rows");
        }
        int label = labelIndex(file, options.labelColumn(), names, header);
        int features = width - 1;
        float[][] x = new float[rows.size()][features];
        String[] rawLabels = new String[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            CSVRecord rec = rows.get(r);
            long line = rec.getRecordNumber();
            if (rec.size() != width) {
                throw new MissingDataException(file + " line " + line + ": " + rec.size() + " columns, expected " + width);
            }
            int f = 0;
            for (int c = 0; c < width; c++) {
                String cell = rec.get(c).strip();
                if (c == label) {
                    if (cell.isEmpty()) {
                        throw new MissingDataException(file + " line " + line + ", column '" + names.get(c) + "': the label is missing");
                    }
                    rawLabels[r] = cell;
                    continue;
                }
                x[r][f++] = number(file, line, names.get(c), cell);
            }
        }
        List<String> classNames = classNames(rawLabels);
        Map<String, Integer> classOf = new TreeMap<>();
        for (int i = 0; i < classNames.size(); i++) {
            classOf.put(classNames.get(i), i);
        }
        int[] y = Arrays.stream(rawLabels).mapToInt(classOf::get).toArray();

        int[][] cut = testCut.apply(rows.size());
        double[] mean = new double[features];
        double[] std = new double[features];
        for (int id : cut[0]) {
            for (int f = 0; f < features; f++) {
                mean[f] += x[id][f];
            }
        }
        for (int f = 0; f < features; f++) {
            mean[f] /= Math.max(1, cut[0].length);
        }
        for (int id : cut[0]) {
            for (int f = 0; f < features; f++) {
                double d = x[id][f] - mean[f];
                std[f] += d * d;
            }
        }
        for (int f = 0; f < features; f++) {
            std[f] = Math.sqrt(std[f] / Math.max(1, cut[0].length));
            // A constant column carries nothing: it becomes zeros instead of a division by zero.
            std[f] = std[f] == 0 ? 1 : std[f];
        }
        float[] train = standardised(x, cut[0], mean, std);
        float[] test = standardised(x, cut[1], mean, std);
        List<String> featureNames = new ArrayList<>(names);
        featureNames.remove(label);
        Dataset.Table table = new Dataset.Table(featureNames, classNames, mean, std);
        // As read: a replay of the run reads the file the same way whatever detection would say.
        Map<String, String> resolved = new java.util.TreeMap<>(Map.of(Options.HEADER, header ? "yes" : "no",
            Options.LABEL_COLUMN, Integer.toString(label)));
        options.limits().given(resolved, false);
        Dataset.Origin origin = new Dataset.Origin("csv:" + file, resolved, classNames);
        return new Dataset(file.getFileName().toString(), new long[] {features}, classNames.size(), train,
            Arrays.stream(cut[0]).map(i -> y[i]).toArray(), test, Arrays.stream(cut[1]).map(i -> y[i]).toArray(), 0, table, origin);
    }

    /**
     * The rows of {@code file} as a model trained on a table with {@code featureNames} takes them,
     * raw (not yet standardised): with a header, the columns are found by name (other columns, such
     * as the label, are left out); without one, the row must hold exactly the features, in order.
     */
    public static List<float[]> rows(Path file, List<String> featureNames) {
        List<CSVRecord> records = parse(file, Limits.DEFAULT);
        if (records.isEmpty()) {
            throw new MissingDataException(file + " has no rows");
        }
        List<String> first = records.get(0).stream().map(String::strip).toList();
        // A header names a feature, or is text above numbers (then a feature it lacks is named in the refusal).
        boolean header = first.stream().anyMatch(featureNames::contains) || looksLikeHeader(records);
        int[] columns = new int[featureNames.size()];
        List<String> names = new ArrayList<>();
        if (header) {
            for (int f = 0; f < columns.length; f++) {
                columns[f] = first.indexOf(featureNames.get(f));
                if (columns[f] < 0) {
                    throw new IllegalArgumentException(file + " has no column '" + featureNames.get(f) + "'; the model takes "
                        + String.join(", ", featureNames));
                }
            }
            names.addAll(first);
        } else {
            if (first.size() != columns.length) {
                throw new IllegalArgumentException(file + " has " + first.size() + " columns and no header; the model takes "
                    + columns.length + " features (" + String.join(", ", featureNames) + "): give them in that order, or a "
                    + "header row naming them");
            }
            Arrays.setAll(columns, f -> f);
            names.addAll(featureNames);
        }
        List<float[]> rows = new ArrayList<>();
        for (CSVRecord rec : header ? records.subList(1, records.size()) : records) {
            float[] x = new float[columns.length];
            for (int f = 0; f < columns.length; f++) {
                if (columns[f] >= rec.size()) {
                    throw new MissingDataException(file + " line " + rec.getRecordNumber() + ": " + rec.size() + " columns, expected "
                        + names.size());
                }
                x[f] = number(file, rec.getRecordNumber(), names.get(columns[f]), rec.get(columns[f]).strip());
            }
            rows.add(x);
        }
        return rows;
    }

    /** Every record of {@code file}, refused with one line as soon as it passes one of {@code limits}. */
    private static List<CSVRecord> parse(Path file, Limits limits) {
        try {
            String first;
            try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
                first = lines.filter(l -> !l.isBlank()).findFirst().orElse("");
            }
            boolean tabs = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".tsv")
                || (first.contains("\t") && !first.contains(","));
            CSVFormat format = (tabs ? CSVFormat.TDF : CSVFormat.RFC4180).builder().setIgnoreEmptyLines(true).setTrim(true).get();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8); CSVParser parser = CSVParser.parse(reader, format)) {
                List<CSVRecord> records = new java.util.ArrayList<>();
                for (CSVRecord r : parser) {
                    if (records.size() >= limits.csvRows()) {
                        throw Limits.past(file + ":" + r.getRecordNumber(), "more than " + limits.csvRows() + " rows", Limits.CSV_ROWS,
                            limits.csvRows());
                    }
                    if (r.size() > limits.csvColumns()) {
                        throw Limits.past(file + ":" + r.getRecordNumber(), r.size() + " columns", Limits.CSV_COLUMNS, limits.csvColumns());
                    }
                    for (int c = 0; c < r.size(); c++) {
                        if (r.get(c).length() > limits.csvCell()) {
                            throw Limits.past(file + ":" + r.getRecordNumber() + ", column " + (c + 1), "a cell of " + r.get(c).length()
                                + " characters", Limits.CSV_CELL, limits.csvCell());
                        }
                    }
                    records.add(r);
                }
                return records;
            }
        } catch (IOException | java.io.UncheckedIOException | IllegalStateException e) {
            throw new MissingDataException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** A header if some column that holds a number on the second row does not on the first. */
    static boolean looksLikeHeader(List<CSVRecord> records) {
        if (records.size() < 2) {
            return false;
        }
        CSVRecord first = records.get(0);
        CSVRecord second = records.get(1);
        for (int c = 0; c < Math.min(first.size(), second.size()); c++) {
            if (!isNumber(first.get(c)) && isNumber(second.get(c))) {
                return true;
            }
        }
        return false;
    }

    private static int labelIndex(Path file, String column, List<String> names, boolean header) {
        if (column == null) {
            return names.size() - 1;
        }
        if (column.strip().matches("\\d+")) {
            int i = Integer.parseInt(column.strip());
            if (i >= names.size()) {
                throw new IllegalArgumentException("--label-column " + column + ": " + file + " has " + names.size()
                    + " columns (0 to " + (names.size() - 1) + ")");
            }
            return i;
        }
        int i = names.indexOf(column.strip());
        if (i < 0) {
            throw new IllegalArgumentException("--label-column '" + column + "': " + (header ? "no such column in " + file
                + " (its columns: " + String.join(", ", names) + ")" : file + " has no header row; give the column's index"));
        }
        return i;
    }

    /**
     * The classes: labels that are the whole numbers 0..k-1 keep their numbers; any others are
     * sorted (numbers by value, then text), and each class's index is its place.
     */
    static List<String> classNames(String[] labels) {
        TreeSet<String> distinct = new TreeSet<>(Arrays.asList(labels));
        boolean counting = distinct.stream().allMatch(l -> l.matches("\\d{1,9}"))
            && distinct.stream().mapToInt(Integer::parseInt).max().orElse(-1) == distinct.size() - 1;
        List<String> names = new ArrayList<>(distinct);
        names.sort(counting || distinct.stream().allMatch(Tables::isNumber)
            ? java.util.Comparator.comparingDouble(Double::parseDouble) : java.util.Comparator.naturalOrder());
        return names;
    }

    private static float number(Path file, long line, String column, String cell) {
        if (cell.isEmpty()) {
            throw new MissingDataException(file + " line " + line + ", column '" + column + "': the value is missing");
        }
        try {
            float v = Float.parseFloat(cell);
            if (!Float.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new MissingDataException(file + " line " + line + ", column '" + column + "': '" + cell + "' is not a number");
        }
    }

    static boolean isNumber(String cell) {
        try {
            return Double.isFinite(Double.parseDouble(cell.strip()));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static float[] standardised(float[][] x, int[] ids, double[] mean, double[] std) {
        int width = mean.length;
        float[] out = new float[ids.length * width];
        for (int i = 0; i < ids.length; i++) {
            for (int f = 0; f < width; f++) {
                out[i * width + f] = (float) ((x[ids[i]][f] - mean[f]) / std[f]);
            }
        }
        return out;
    }
}
