package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LmCorpusTest {

    @Test
    void theBundledTextSplitsByDocumentTheSameWayForTheSameSeed() {
        List<String> docs = LmCorpus.documents("lm:bundled", Path.of("data"));
        assertThat(docs).hasSizeGreaterThanOrEqualTo(4);
        assertThat(String.join("", docs)).contains("Four score and seven years ago").contains("pursuit of Happiness");
        LmCorpus a = LmCorpus.split("lm:bundled", docs, 5, 0.2, 0.2);
        LmCorpus b = LmCorpus.split("lm:bundled", docs, 5, 0.2, 0.2);
        assertThat(a).isEqualTo(b);
        Set<String> all = new HashSet<>();
        for (List<String> split : List.of(a.train(), a.quiz(), a.test())) {
            assertThat(split).isNotEmpty();
            for (String d : split) {
                assertThat(all.add(d)).as("each document in one split").isTrue();
            }
        }
        assertThat(all).hasSize(docs.size());
    }

    @Test
    void sequencesOverlapByOneTokenAndCoverTheStream() {
        List<String> docs = LmCorpus.documents("lm:bundled", Path.of("data"));
        BytePairEncoding bpe = BytePairEncoding.train(docs, 300);
        int[][] seqs = LmCorpus.sequences(bpe, docs, 16);
        int total = docs.stream().mapToInt(d -> bpe.encode(d).length).sum();
        assertThat(seqs.length).isEqualTo((total - 1) / 16);
        for (int s = 0; s + 1 < seqs.length; s++) {
            assertThat(seqs[s]).hasSize(17);
            assertThat(seqs[s][16]).as("the last token predicted is the next one read").isEqualTo(seqs[s + 1][0]);
        }
        List<Integer> joined = new ArrayList<>();
        for (String d : docs) {
            for (int t : bpe.encode(d)) {
                joined.add(t);
            }
        }
        assertThat(seqs[1][3]).isEqualTo(joined.get(16 + 3));
    }

    @Test
    void aFolderIsOneDocumentAFileAndAFileIsSplitAtParagraphs(@TempDir Path dir) throws Exception {
        for (int i = 0; i < 3; i++) {
            Files.writeString(dir.resolve("d" + i + ".txt"), "document " + i);
        }
        Files.writeString(dir.resolve("notes.md"), "not a text file");
        assertThat(LmCorpus.documents("lm:" + dir, dir)).containsExactly("document 0", "document 1", "document 2");
        String para = "x".repeat(1500);
        Path one = Files.writeString(dir.resolve("one.text"), para + "\n\n" + para + "\n\n" + para + "\n");
        assertThat(LmCorpus.documents("lm:" + one, dir)).hasSize(2);
    }

    @Test
    void whatCannotBeACorpusIsRefusedWithOneLine(@TempDir Path dir) {
        assertThatThrownBy(() -> LmCorpus.documents("digits", dir))
            .hasMessage("a language-model corpus is lm:PATH, lm:imdb, lm:brown or lm:bundled, got 'digits'");
        assertThatThrownBy(() -> LmCorpus.documents("lm:brown", dir)).hasMessageContaining("run scripts/fetch-data.sh brown");
        assertThatThrownBy(() -> LmCorpus.documents("lm:imdb", dir)).hasMessageContaining("run scripts/fetch-data.sh imdb");
        assertThatThrownBy(() -> LmCorpus.documents("lm:" + dir.resolve("none.txt"), dir))
            .hasMessage("text " + dir.resolve("none.txt") + " does not exist or cannot be read");
        assertThatThrownBy(() -> LmCorpus.split("lm:x", List.of("a", "b"), 1, 0.1, 0.1))
            .hasMessage("lm:x has 2 documents: a language-model corpus needs at least 3 (train, quiz and test)");
        assertThatThrownBy(() -> LmCorpus.split("lm:x", List.of("a", "b", "c"), 1, 0.5, 0.5))
            .hasMessage("lm:x: quiz 0.5 and test 0.5 of 3 documents leave none to train on");
    }
}
