package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The README's platforms: Maven, told it runs on Linux x86_64, Linux aarch64 or macOS arm64, picks
 * the PyTorch natives of that platform, and DJL's JNI library has a build for each; told it runs
 * anywhere else, it names no natives at all (the build stops at the missing artifact).
 */
class PlatformProfilesTest {

    /** os.name without spaces: MAVEN_OPTS is split on them ("MacOSX" is in Maven's mac family as "Mac OS X" is). */
    @ParameterizedTest
    @CsvSource({"Linux, amd64, linux-x86_64", "Linux, aarch64, linux-aarch64", "MacOSX, aarch64, osx-aarch64",
        "MacOSX, x86_64, unsupported-platform", "Windows11, amd64, unsupported-platform"})
    void mavenPicksTheNativesOfThePlatformItRunsOn(String osName, String osArch, String classifier) throws Exception {
        Path root = Tools.projectRoot();
        Tools.Result r = Tools.run(root, 180, List.of("env", "MAVEN_OPTS=-Dos.name=" + osName + " -Dos.arch=" + osArch,
            root.resolve("mvnw").toString(), "-B", "-q", "-N", "help:evaluate", "-Dexpression=pytorch.native.classifier",
            "-DforceStdout"));
        assertThat(r.code()).as(r.toString()).isZero();
        List<String> lines = r.output().strip().lines().toList();
        assertThat(lines.get(lines.size() - 1)).as(r.toString()).isEqualTo(classifier);
        if (!classifier.startsWith("unsupported")) {
            String url = PlatformProfilesTest.class.getClassLoader().getResource("jnilib/pytorch.properties").toString();
            assertThat(url).startsWith("jar:file:");
            try (JarFile jni = new JarFile(Path.of(java.net.URI.create(url.substring(4, url.indexOf("!/")))).toFile())) {
                assertThat(jni.stream().map(e -> e.getName()).filter(n -> n.startsWith("jnilib/" + classifier + "/cpu/")))
                    .as("DJL's JNI library for " + classifier).isNotEmpty();
            }
        }
    }

}
