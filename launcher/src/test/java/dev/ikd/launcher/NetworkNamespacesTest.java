package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broker, teacher and students on three "machines": network namespaces joined by veth pairs to a
 * bridge, each with its own address, so every message crosses a network interface. Skipped, with
 * the reason, where the test may not create namespaces (no root, no ip tool).
 */
@EnabledOnOs(OS.LINUX)
class NetworkNamespacesTest {

    static final String SUFFIX = Long.toString(ProcessHandle.current().pid() % 100_000);
    static final String BRIDGE = "ikdbr" + SUFFIX;
    static final String[] HOSTS = {"broker", "teacher", "students"};

    @TempDir
    Path dir;

    private final List<String> namespaces = new ArrayList<>();

    static String ns(String host) {
        return "ikd-" + host + "-" + SUFFIX;
    }

    static String address(int i) {
        return "10.77." + (Integer.parseInt(SUFFIX) % 250) + "." + (i + 1);
    }

    @BeforeEach
    void network() throws Exception {
        Tools.require("ip", "iproute2");
        String probe = run("ip", "netns", "add", ns("probe"));
        Assumptions.assumeTrue(probe == null, "cannot create network namespaces here: " + probe);
        run("ip", "netns", "del", ns("probe"));
        must("ip", "link", "add", BRIDGE, "type", "bridge");
        must("ip", "link", "set", BRIDGE, "up");
        for (int i = 0; i < HOSTS.length; i++) {
            String n = ns(HOSTS[i]);
            String outside = "ikdv" + SUFFIX + i;
            must("ip", "netns", "add", n);
            namespaces.add(n);
            must("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", n);
            must("ip", "link", "set", outside, "master", BRIDGE);
            must("ip", "link", "set", outside, "up");
            must("ip", "netns", "exec", n, "ip", "addr", "add", address(i) + "/24", "dev", "eth0");
            must("ip", "netns", "exec", n, "ip", "link", "set", "eth0", "up");
            must("ip", "netns", "exec", n, "ip", "link", "set", "lo", "up");
        }
    }

    @AfterEach
    void teardown() throws Exception {
        for (String n : namespaces) {
            run("ip", "netns", "del", n);
        }
        run("ip", "link", "del", BRIDGE);
    }

    @Test
    void aRunCompletesWithBrokerTeacherAndStudentsOnSeparateHosts() throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        String[] run = {"--dataset", "digits", "--students", "2", "--steps", "20", "--pretrain-steps", "100"};
        List<String> expected = DistributedRunTest.reference(checkpoint, run);
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker broker = jvms.broker(prefix("broker"), "--host", address(0));
            assertThat(broker.bootstrap()).startsWith(address(0) + ":");
            List<String> common = DistributedRunTest.with(run, "--bootstrap", broker.bootstrap(), "--run-id", "netns",
                "--metrics-port", "-1");
            var coordinator = jvms.start("coordinator", prefix("broker"),
                DistributedRunTest.args("coordinator", common));
            var teacher = jvms.start("teacher", prefix("teacher"),
                DistributedRunTest.args("teacher", common, "--teacher-checkpoint", checkpoint.toString()));
            var s0 = jvms.start("student-0", prefix("students"), DistributedRunTest.args("student", common, "--index", "0", "--json"));
            var s1 = jvms.start("student-1", prefix("students"), DistributedRunTest.args("student", common, "--index", "1", "--json"));
            for (var jvm : List.of(s0, s1, coordinator, teacher)) {
                assertThat(jvm.await(240)).as(jvm.stderr()).isZero();
            }
            assertThat(DistributedRunTest.hashOf(s0.stdout())).isEqualTo(expected.get(0));
            assertThat(DistributedRunTest.hashOf(s1.stdout())).isEqualTo(expected.get(1));
        }
    }

    static List<String> prefix(String host) {
        return List.of("ip", "netns", "exec", ns(host));
    }

    private static void must(String... command) throws Exception {
        String error = run(command);
        if (error != null) {
            throw new IllegalStateException(String.join(" ", command) + ": " + error);
        }
    }

    /** Runs a command; null if it succeeded, else what it said. */
    private static String run(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out";
            }
            return p.exitValue() == 0 ? null : out.isEmpty() ? "exit " + p.exitValue() : out;
        } catch (IOException e) {
            return e.getMessage();
        }
    }
}
