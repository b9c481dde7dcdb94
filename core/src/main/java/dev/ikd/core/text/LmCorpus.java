package dev.ikd.core.text;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import dev.ikd.core.data.Datasets;
import dev.ikd.core.data.MissingDataException;

/**
 * A language-model corpus (groundwork for {@code --dataset lm:...}): documents, split into train,
 * quiz and test by document — a seeded draw, so every machine splits alike — and cut into token
 * sequences. Sources: {@code lm:PATH} (a UTF-8 text file, whose paragraphs are gathered into
 * documents of about {@link #CHUNK} characters, or a folder of .txt files, one document each),
 * {@code lm:imdb} (the review texts of the fetched imdb set), {@code lm:brown} (the Brown corpus,
 * {@code scripts/fetch-data.sh brown}) and {@code lm:bundled} (a small public-domain text, for tests).
 */
public record LmCorpus(String source, List<String> train, List<String> quiz, List<String> test) {

    /** About how many characters make a document of a single file: its paragraphs, gathered. */
    public static final int CHUNK = 2_000;

    public LmCorpus {
        train = List.copyOf(train);
        quiz = List.copyOf(quiz);
        test = List.copyOf(test);
    }

    /** The documents of {@code lm:...} source {@code spec}, fetched data read from {@code dataDir}. */
    public static List<String> documents(String spec, Path dataDir) {
        if (!spec.startsWith("lm:")) {
            throw new IllegalArgumentException("a language-model corpus is lm:PATH, lm:imdb, lm:brown or lm:bundled, got '" + spec + "'");
        }
        String what = spec.substring("lm:".length());
        return switch (what) {
            case "bundled" -> chunks(bundled(), CHUNK / 4);
            case "imdb" -> Datasets.imdbTexts(dataDir.resolve("imdb").resolve("reviews.json")).stream()
                .map(t -> t.replace("<br />", "\n")).toList();
            case "brown" -> BrownCorpus.documents(dataDir.resolve("brown"));
            default -> read(Path.of(what));
        };
    }

    /** The bundled public-domain text (the Gettysburg Address, the Preamble, the Declaration's opening). */
    public static String bundled() {
        try (InputStream in = LmCorpus.class.getResourceAsStream("public-domain.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> read(Path path) {
        try {
            if (Files.isDirectory(path)) {
                List<Path> files;
                try (Stream<Path> s = Files.list(path)) {
                    files = s.filter(f -> f.getFileName().toString().endsWith(".txt")).sorted().toList();
                }
                if (files.isEmpty()) {
                    throw new MissingDataException("no .txt files in " + path);
                }
                List<String> out = new ArrayList<>();
                for (Path f : files) {
                    out.add(Files.readString(f, StandardCharsets.UTF_8));
                }
                return out;
            }
            if (!Files.isReadable(path)) {
                throw new MissingDataException("text " + path + " does not exist or cannot be read");
            }
            return chunks(Files.readString(path, StandardCharsets.UTF_8), CHUNK);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new MissingDataException(path + " is not UTF-8 text", e);
        } catch (IOException e) {
            throw new MissingDataException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** One text as documents: its paragraphs (split at blank lines), gathered in order until each has {@code size} characters. */
    static List<String> chunks(String text, int size) {
        List<String> out = new ArrayList<>();
        StringBuilder doc = new StringBuilder();
        for (String paragraph : text.split("\\n\\s*\\n")) {
            if (paragraph.isBlank()) {
                continue;
            }
            doc.append(paragraph.strip()).append("\n\n");
            if (doc.length() >= size) {
                out.add(doc.toString());
                doc.setLength(0);
            }
        }
        if (doc.length() > 0) {
            out.add(doc.toString());
        }
        return out;
    }

    /**
     * {@code documents} split by document: a seeded shuffle, the first {@code testFraction} of them
     * the test split, the next {@code quizFraction} the quiz split (the exams), the rest train; each
     * split holds at least one document, or the corpus is refused with one line.
     */
    public static LmCorpus split(String source, List<String> documents, long seed, double quizFraction, double testFraction) {
        if (documents.size() < 3) {
            throw new IllegalArgumentException(source + " has " + documents.size() + " document" + (documents.size() == 1 ? "" : "s")
                + ": a language-model corpus needs at least 3 (train, quiz and test)");
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        int test = Math.max(1, (int) Math.round(documents.size() * testFraction));
        int quiz = Math.max(1, (int) Math.round(documents.size() * quizFraction));
        if (test + quiz >= documents.size()) {
            throw new IllegalArgumentException(source + ": quiz " + quizFraction + " and test " + testFraction + " of "
                + documents.size() + " documents leave none to train on");
        }
        return new LmCorpus(source, pick(documents, order.subList(quiz + test, order.size())),
            pick(documents, order.subList(test, test + quiz)), pick(documents, order.subList(0, test)));
    }

    private static List<String> pick(List<String> documents, List<Integer> which) {
        return which.stream().sorted().map(documents::get).toList();
    }

    /**
     * The documents' tokens, one stream (each document's tokens in turn), cut into sequences of
     * {@code length} + 1 tokens that overlap by one: a model reads the first {@code length} and
     * predicts each next one. The stream's last, shorter piece is left out.
     */
    public static int[][] sequences(BytePairEncoding tokenizer, List<String> documents, int length) {
        return cut(stream(tokenizer, documents), length);
    }

    /** The documents' tokens as one stream, each document's in turn. */
    public static int[] stream(BytePairEncoding tokenizer, List<String> documents) {
        List<int[]> encoded = documents.stream().map(tokenizer::encode).toList();
        int total = encoded.stream().mapToInt(t -> t.length).sum();
        int[] stream = new int[total];
        int at = 0;
        for (int[] t : encoded) {
            System.arraycopy(t, 0, stream, at, t.length);
            at += t.length;
        }
        return stream;
    }

    /** A stream cut into sequences of {@code length} + 1 tokens that overlap by one, as {@link #sequences} cuts it. */
    public static int[][] cut(int[] stream, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("a sequence needs at least 1 token, got " + length);
        }
        int total = stream.length;
        int count = total < length + 1 ? 0 : (total - 1) / length;
        int[][] out = new int[count][];
        for (int s = 0; s < count; s++) {
            out[s] = java.util.Arrays.copyOfRange(stream, s * length, s * length + length + 1);
        }
        return out;
    }
}
