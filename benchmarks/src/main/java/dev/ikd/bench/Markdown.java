package dev.ikd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Keeps benchmark sections of BENCHMARKS.md up to date: each lives between its own markers. */
public final class Markdown {

    private Markdown() {
    }

    static void replaceSection(Path file, String name, String body) throws IOException {
        String begin = "<!-- bench:" + name + " -->";
        String end = "<!-- /bench:" + name + " -->";
        String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "# Benchmarks\n";
        String section = begin + "\n" + body + end;
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        String updated = b >= 0 && e > b
            ? text.substring(0, b) + section + text.substring(e + end.length())
            : text + (text.endsWith("\n") ? "\n" : "\n\n") + section + "\n";
        Files.writeString(file, updated, StandardCharsets.UTF_8);
    }
}
