package dev.ikd.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The repository's BENCHMARKS.md is easy to read: a hand-written summary first, then every section
 * under its own marker ({@code bench:NAME}, written by a benchmark and naming the commit that made
 * it; {@code hand:NAME}, hand-written and saying so), markers that close, and no heading outside one.
 */
class BenchmarksFileTest {

    private static final Pattern SECTION = Pattern.compile("<!-- (bench|hand):([\\w.-]+) -->\\n(.*?)<!-- /\\1:\\2 -->", Pattern.DOTALL);

    static String benchmarksMd() throws Exception {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("BENCHMARKS.md"))) {
            p = p.getParent();
        }
        assertThat(p).as("BENCHMARKS.md above " + Path.of("").toAbsolutePath()).isNotNull();
        return Files.readString(p.resolve("BENCHMARKS.md"));
    }

    @Test
    void everySectionSitsUnderItsOwnMarkerAndSaysWhoWroteIt() throws Exception {
        String md = benchmarksMd();
        List<String> names = new ArrayList<>();
        StringBuilder outside = new StringBuilder();
        int last = 0;
        Matcher m = SECTION.matcher(md);
        while (m.find()) {
            outside.append(md, last, m.start());
            last = m.end();
            String kind = m.group(1);
            String name = m.group(2);
            String body = m.group(3);
            names.add(kind + ":" + name);
            assertThat(body).as(name + " starts with its heading").startsWith("### ");
            assertThat(body.substring(4)).as(name + " holds one section").doesNotContain("\n### ");
            assertThat(body).as(name + " opens no other section").doesNotContain("<!-- bench:").doesNotContain("<!-- hand:");
            if (kind.equals("bench")) {
                assertThat(body).as(name + " names the commit that made it")
                    .containsPattern("\\n\\n_(Made by the benchmark at commit \\S+ on .+|Recorded in commit [0-9a-f]{7,} .+)_\\n");
            } else {
                assertThat(body).as(name + " says it is hand-written").contains("_Hand-written");
            }
        }
        outside.append(md.substring(last));
        assertThat(names).as("the first section").first().isEqualTo("hand:summary");
        assertThat(names).as("each section once").doesNotHaveDuplicates().hasSizeGreaterThan(10);
        assertThat(outside.toString()).as("headings outside a marked section").doesNotContain("\n### ").doesNotContain("\n## ");
        assertThat(outside.toString()).as("markers left unclosed or unopened").doesNotContain("<!--");
    }
}
