package dev.ikd.core.data;

import java.util.Map;

/**
 * How much of a user's data ikd reads before it stops and says so: a table's rows, columns and
 * cell length, an image's pixels. A file past a limit (a wrong file, a hostile one) stops the run
 * with one line naming the limit and the option that raises it, before it fills the memory.
 */
public record Limits(long csvRows, int csvColumns, int csvCell, long imagePixels) {

    public static final String CSV_ROWS = "csv-max-rows";
    public static final String CSV_COLUMNS = "csv-max-columns";
    public static final String CSV_CELL = "csv-max-cell";
    public static final String IMAGE_PIXELS = "image-max-pixels";

    public static final Limits DEFAULT = new Limits(1_000_000, 10_000, 1_000, 50_000_000);

    public Limits {
        if (csvRows < 1 || csvColumns < 2 || csvCell < 1 || imagePixels < 1) {
            throw new IllegalArgumentException("limits must be positive (a table needs 2 columns): --" + CSV_ROWS + " " + csvRows
                + ", --" + CSV_COLUMNS + " " + csvColumns + ", --" + CSV_CELL + " " + csvCell + ", --" + IMAGE_PIXELS + " " + imagePixels);
        }
    }

    /** From load options; a limit not given is the default. */
    public static Limits of(Map<String, String> options) {
        return new Limits(number(options, CSV_ROWS, DEFAULT.csvRows), (int) number(options, CSV_COLUMNS, DEFAULT.csvColumns),
            (int) number(options, CSV_CELL, DEFAULT.csvCell), number(options, IMAGE_PIXELS, DEFAULT.imagePixels));
    }

    private static long number(Map<String, String> options, String key, long fallback) {
        String v = options.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < 1 || (!key.equals(CSV_ROWS) && !key.equals(IMAGE_PIXELS) && n > Integer.MAX_VALUE)) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be a whole number of at least 1, got '" + v + "'");
        }
    }

    /**
     * Puts the limits that differ from the defaults into {@code options} (a run's load options as
     * resolved, so that replay reads its data with the same limits): a table's, or an image folder's.
     */
    void given(Map<String, String> options, boolean images) {
        if (images) {
            if (imagePixels != DEFAULT.imagePixels) {
                options.put(IMAGE_PIXELS, Long.toString(imagePixels));
            }
            return;
        }
        if (csvRows != DEFAULT.csvRows) {
            options.put(CSV_ROWS, Long.toString(csvRows));
        }
        if (csvColumns != DEFAULT.csvColumns) {
            options.put(CSV_COLUMNS, Integer.toString(csvColumns));
        }
        if (csvCell != DEFAULT.csvCell) {
            options.put(CSV_CELL, Integer.toString(csvCell));
        }
    }

    /** The one line for a file past {@code limit} (the option's name) of {@code value}. */
    static MissingDataException past(String where, String what, String key, long value) {
        return new MissingDataException(where + ": " + what + " (the limit is " + value + "; --" + key + " raises it)");
    }
}
