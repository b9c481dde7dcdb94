package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./ikd} script in a copy of the repository's layout, with a stand-in for Maven (it
 * writes the jar and logs that it ran) and for java (it prints its arguments): the jar is built
 * when missing and when a source or a pom changed after it, not otherwise, and a failed build
 * says so instead of running an old jar.
 */
class LauncherScriptTest {

    @TempDir
    Path repo;

    private Path builds;
    private Path jar;
    private Path bin;

    @BeforeEach
    void layout() throws Exception {
        executable(repo.resolve("ikd"), Files.readString(Tools.projectRoot().resolve("ikd")));
        builds = repo.resolve("builds.log");
        jar = repo.resolve("launcher/target/ikd.jar");
        Files.createDirectories(repo.resolve("core/src/main/java"));
        Files.writeString(repo.resolve("core/src/main/java/A.java"), "class A {}");
        Files.writeString(repo.resolve("pom.xml"), "<project/>");
        executable(repo.resolve("mvnw"), "#!/usr/bin/env bash\necho build >> '" + builds + "'\n"
            + "[ -n \"${FAIL_BUILD:-}\" ] && { echo 'COMPILATION ERROR' >&2; exit 1; }\n"
            + "mkdir -p launcher/target && echo jar > launcher/target/ikd.jar\n");
        bin = Files.createDirectories(repo.resolve("bin"));
        executable(bin.resolve("java"), "#!/usr/bin/env bash\necho \"java $*\"\n");
        age(repo.resolve("core/src/main/java/A.java"), 3600);
        age(repo.resolve("pom.xml"), 3600);
    }

    @Test
    void buildsWhenTheJarIsMissingOrOlderThanASourceAndOnlyThen() throws Exception {
        Tools.Result first = ikd(Map.of(), "--version");
        assertThat(first.errors()).contains("ikd: first run: building").contains("ikd: built in");
        assertThat(first.output().strip()).isEqualTo("java -jar " + jar + " --version");
        assertThat(Files.readAllLines(builds)).hasSize(1);

        Tools.Result unchanged = ikd(Map.of(), "--version");
        assertThat(unchanged.errors()).isEmpty();
        assertThat(Files.readAllLines(builds)).hasSize(1);

        age(jar, 60);
        Files.writeString(repo.resolve("core/src/main/java/A.java"), "class A { int x; }");
        assertThat(ikd(Map.of("IKD_NO_BUILD", "1"), "--version").errors()).isEmpty();
        Tools.Result changed = ikd(Map.of(), "local");
        assertThat(changed.errors()).contains("ikd: core/src/main/java/A.java changed since the jar was built: rebuilding");
        assertThat(changed.output().strip()).isEqualTo("java -jar " + jar + " local");
        assertThat(Files.readAllLines(builds)).hasSize(2);
    }

    @Test
    void aFailedBuildStopsInsteadOfRunningTheOldJar() throws Exception {
        ikd(Map.of(), "--version");
        age(jar, 60);
        Files.writeString(repo.resolve("pom.xml"), "<project><!-- changed --></project>");
        Tools.Result failed = ikd(Map.of("FAIL_BUILD", "1"), "--version");
        assertThat(failed.code()).isEqualTo(1);
        assertThat(failed.errors()).contains("COMPILATION ERROR").contains("ikd: the build failed");
        assertThat(failed.output()).doesNotContain("java -jar");
    }

    private Tools.Result ikd(Map<String, String> env, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("env", "PATH=" + bin + ":" + System.getenv("PATH")));
        env.forEach((k, v) -> command.add(k + "=" + v));
        command.add(repo.resolve("ikd").toString());
        command.addAll(List.of(args));
        return Tools.run(repo, 60, command);
    }

    private static void executable(Path file, String text) throws Exception {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void age(Path file, long seconds) throws Exception {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(seconds)));
    }
}
