package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.ComposeContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * Where Docker runs: {@code docker compose up --build} of deploy/compose.yaml builds the image from
 * deploy/Dockerfile and runs a short 2-student distillation on the official Kafka image; the
 * coordinator reports the run complete and Prometheus holds both students' steps. Skipped (and
 * reported as such) on machines without Docker.
 */
@Testcontainers(disabledWithoutDocker = true)
class ComposeRunTest {

    @TempDir
    Path dir;

    @Test
    void composeUpRunsATwoStudentDistillationThatPrometheusWatches() throws Exception {
        String defaults = Files.readString(DeployFilesTest.DEPLOY.resolve("run.properties"));
        Path run = Files.writeString(dir.resolve("run.properties"), defaults.replaceAll("(?m)^steps=\\d+$", "steps=200")
            .replaceAll("(?m)^run-id=.*$", "run-id=compose-test").replaceAll("(?m)^pretrain-steps=\\d+$", "pretrain-steps=100"));
        Path secrets = Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(secrets.resolve("grafana-admin-password"), java.util.UUID.randomUUID().toString());
        try (ComposeContainer compose = new ComposeContainer(DeployFilesTest.DEPLOY.resolve("compose.yaml").toFile())
            .withLocalCompose(true)
            .withBuild(true)
            .withEnv(Map.of("IKD_RUN_PROPERTIES", run.toString(), "IKD_SECRETS", secrets.toString()))
            .withExposedService("prometheus", 9090)
            .waitingFor("coordinator", Wait.forLogMessage(".*run compose-test complete: 2 students reported.*\\n", 1)
                .withStartupTimeout(Duration.ofMinutes(20)))) {
            compose.start();
            String prometheus = "http://" + compose.getServiceHost("prometheus", 9090) + ":"
                + compose.getServicePort("prometheus", 9090) + "/api/v1/query?query=";
            String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(prometheus
                    + URLEncoder.encode("max_over_time(ikd_step{service=\"student\"}[1h])", StandardCharsets.UTF_8))).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            assertThat(body).contains("\"student-0\"").contains("\"student-1\"");
        }
    }
}
