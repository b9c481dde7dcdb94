package dev.ikd.wiring;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Student indices {@code first..last}, inclusive. */
public record StudentRange(int first, int last) {

    private static final Pattern FORM = Pattern.compile("(\\d{1,6})(?:-(\\d{1,6}))?");

    public static StudentRange parse(String text) {
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("--index must be N or FIRST-LAST (0-based student indices), got '" + text + "'");
        }
        int first = Integer.parseInt(m.group(1));
        int last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
        if (last < first) {
            throw new IllegalArgumentException("--index " + text + ": the range ends before it starts");
        }
        return new StudentRange(first, last);
    }

    public int size() {
        return last - first + 1;
    }
}
