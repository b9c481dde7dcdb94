package dev.ikd.core.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The Brown corpus as plain text: its 500 texts (files ca01 to cr09, as {@code scripts/fetch-data.sh
 * brown} unpacks them), each a document of one sentence a line. The corpus holds word/tag tokens
 * ({@code The/at jury/nn said/vbd ,/,}); a token's word is what comes before its last '/', the
 * quotes {@code ``} and {@code ''} become '"', and words are joined by one space except before
 * closing punctuation and after an opening one.
 */
public final class BrownCorpus {

    private static final Set<String> NO_SPACE_BEFORE = Set.of(".", ",", ";", ":", "!", "?", ")", "]", "}", "''", "'");
    private static final Set<String> NO_SPACE_AFTER = Set.of("(", "[", "{", "``");

    private BrownCorpus() {
    }

    /** Every text in {@code dir}, in the order of their file names (ca01, ca02, ..., cr09). */
    public static List<String> documents(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("no Brown corpus at " + dir + ": run scripts/fetch-data.sh brown");
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> texts = files.filter(f -> f.getFileName().toString().matches("c[a-r][0-9][0-9]")).sorted().toList();
            if (texts.isEmpty()) {
                throw new IllegalArgumentException("no Brown corpus texts (ca01 ... cr09) in " + dir
                    + ": run scripts/fetch-data.sh brown");
            }
            List<String> out = new ArrayList<>();
            for (Path f : texts) {
                out.add(plainText(Files.readString(f, StandardCharsets.UTF_8)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One text's tagged sentences (one a line) as plain text, one sentence a line. */
    public static String plainText(String tagged) {
        StringBuilder out = new StringBuilder();
        for (String line : tagged.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            StringBuilder sentence = new StringBuilder();
            boolean glue = true;
            for (String token : line.strip().split("\\s+")) {
                int slash = token.lastIndexOf('/');
                String word = slash > 0 ? token.substring(0, slash) : token;
                if (!glue && !NO_SPACE_BEFORE.contains(word)) {
                    sentence.append(' ');
                }
                sentence.append(word.equals("``") || word.equals("''") ? "\"" : word);
                glue = NO_SPACE_AFTER.contains(word);
            }
            out.append(sentence).append('\n');
        }
        return out.toString();
    }
}
