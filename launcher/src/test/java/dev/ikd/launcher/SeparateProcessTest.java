package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.ikd.proto.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as users run it: each command in a JVM of its own. */
class SeparateProcessTest {

    @TempDir
    Path dir;

    static Process ikd(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "dev.ikd.launcher.Ikd"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /**
     * Under a POSIX locale (no LANG, as in a bare container) a JVM's default charset is ASCII; ikd
     * still writes UTF-8 (its help names η).
     */
    @Test
    void underAPosixLocaleIkdStillWritesUtf8() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Dfile.encoding=ANSI_X3.4-1968", "-cp", System.getProperty("java.class.path"), "dev.ikd.launcher.Ikd", "train", "--help")
            .redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().remove("LANG");
        builder.environment().put("LC_ALL", "C");
        Process p = builder.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(out).contains("Student learning rate η");
        } finally {
            Jvms.kill(p);
        }
    }

    /**
     * Fresh JVMs, each with its own garbage-collection timing: a gradient corrupted by a collection
     * (DJL scalar ops, see Tensors.scalar) showed up here as NaN in about one run in twelve.
     */
    @Test
    void gradcheckPassesInFreshJvmsInBothPrecisions() throws Exception {
        for (int i = 0; i < 3; i++) {
            for (String dtype : new String[] {"float64", "float32"}) {
                Process p = ikd("gradcheck", "--json", "--dtype", dtype);
                try {
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                    assertThat(p.exitValue()).as(out).isZero();
                    assertThat(out).contains("\"ok\":true").contains("\"dtype\":\"" + dtype + "\"");
                } finally {
                    Jvms.kill(p);
                }
            }
        }
    }

    @Test
    void theBrokerCommandServesIkdsTopicsToOtherProcesses() throws Exception {
        Process broker = ikd("broker", "--port", "0", "--data-dir", dir.resolve("kafka").toString(), "--partitions", "2");
        try {
            var reader = new BufferedReader(new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8));
            String line = reader.readLine();
            assertThat(line).as("first line of ikd broker").isNotNull();
            Matcher m = Pattern.compile("listening on (\\S+) ").matcher(line);
            assertThat(m.find()).as(line).isTrue();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, m.group(1)))) {
                Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                assertThat(names).containsAll(Topics.ALL);
                assertThat(admin.describeTopics(List.of(Topics.FEEDBACK)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(Topics.FEEDBACK).partitions()).hasSize(2);
            }
        } finally {
            broker.destroy();
            if (!broker.waitFor(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS)) {
                Jvms.kill(broker);
            }
        }
    }
}
