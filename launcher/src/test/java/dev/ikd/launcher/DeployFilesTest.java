package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;

/**
 * deploy/ checked by the tools that read it: docker-compose validates compose.yaml; kubectl
 * renders the kustomizations, and every object they make is read into the Kubernetes API's own
 * model classes with no field left over (a misspelt or misplaced field fails); every run
 * configuration names only options ikd has; the Dockerfile runs as a non-root user with a health
 * check; the Grafana dashboard uses the provisioned data source.
 */
class DeployFilesTest {

    static final Path ROOT = Tools.projectRoot();
    static final Path DEPLOY = ROOT.resolve("deploy");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    @Test
    void dockerComposeConfigAcceptsComposeYamlWithEveryPortOnLoopbackAndGrafanasPasswordFromASecret() throws Exception {
        Path compose = Tools.require("docker-compose", "docker-compose");
        Tools.Result check = Tools.run(DEPLOY, 60, List.of(compose.toString(), "-f", "compose.yaml", "config", "-q"));
        assertThat(check.code()).as(check.toString()).isZero();
        Tools.Result rendered = Tools.run(DEPLOY, 60, List.of(compose.toString(), "-f", "compose.yaml", "config"));
        JsonNode services = YAML.readTree(rendered.output()).get("services");
        assertThat(iterable(services.fieldNames())).containsExactlyInAnyOrder("kafka", "topics", "coordinator", "teacher",
            "student-0", "student-1", "prometheus", "grafana");
        assertThat(services.get("kafka").get("image").asText()).startsWith("apache/kafka:");
        assertThat(services.get("kafka").get("environment").get("KAFKA_PROCESS_ROLES").asText()).isEqualTo("broker,controller");
        for (String ikd : List.of("topics", "coordinator", "teacher", "student-0", "student-1")) {
            JsonNode s = services.get(ikd);
            assertThat(s.get("image").asText()).as(ikd).isEqualTo(services.get("topics").get("image").asText());
            assertThat(s.get("environment").get("IKD_CONFIG").asText()).as(ikd).isEqualTo("/etc/ikd/run.properties");
        }
        assertThat(services.get("topics").get("build").get("dockerfile").asText()).isEqualTo("deploy/Dockerfile");
        assertThat(services.get("student-1").get("command").toString()).isEqualTo("[\"student\",\"--index\",\"1\"]");
        assertThat(services.get("grafana").get("volumes").toString()).contains("ikd.json");
        // Nothing is published beyond the host unless asked for: 127.0.0.1 by default, every interface with public.env.
        List<String> published = new ArrayList<>();
        services.forEach(service -> {
            if (service.has("ports")) {
                service.get("ports").forEach(port -> published.add(port.asText()));
            }
        });
        assertThat(published).hasSize(3).allSatisfy(port -> assertThat(port).startsWith("127.0.0.1:"));
        Tools.Result open = Tools.run(DEPLOY, 60, List.of(compose.toString(), "--env-file", "public.env", "-f", "compose.yaml", "config"));
        assertThat(open.code()).as(open.toString()).isZero();
        assertThat(open.output()).contains("0.0.0.0:9400:9400").doesNotContain("127.0.0.1:");
        JsonNode grafana = services.get("grafana");
        assertThat(grafana.get("environment").get("GF_AUTH_ANONYMOUS_ENABLED").asText()).isEqualTo("false");
        assertThat(grafana.get("environment").get("GF_SECURITY_ADMIN_PASSWORD__FILE").asText())
            .isEqualTo("/run/secrets/grafana-admin-password");
        assertThat(grafana.get("environment").has("GF_SECURITY_ADMIN_PASSWORD")).as("no password in the file itself").isFalse();
        // The run's options name only options that ikd has.
        ConfigFile.load(DEPLOY.resolve("run.properties"), new CommandLine(new Ikd()).getCommandSpec());
    }

    /** Each ikd service of the secure file mounts its role's own secret folder, and no folder is mounted by two. */
    @Test
    void dockerComposeConfigAcceptsComposeSecureYamlWithOneSecretFolderPerRole() throws Exception {
        Path compose = Tools.require("docker-compose", "docker-compose");
        Tools.Result rendered = Tools.run(DEPLOY, 60, List.of(compose.toString(), "-f", "compose.secure.yaml", "config"));
        assertThat(rendered.code()).as(rendered.toString()).isZero();
        JsonNode services = YAML.readTree(rendered.output()).get("services");
        Map<String, String> secretOf = new java.util.TreeMap<>();
        for (String role : List.of("topics", "coordinator", "teacher", "student-0", "student-1")) {
            JsonNode service = services.get(role);
            List<String> mounts = new ArrayList<>();
            service.get("volumes").forEach(v -> mounts.add(v.asText()));
            List<String> secrets = mounts.stream().filter(m -> m.contains(":/etc/ikd/secret")).toList();
            assertThat(secrets).as(role).hasSize(1);
            String folder = secrets.get(0).substring(0, secrets.get(0).indexOf(":/etc/ikd/secret"));
            assertThat(folder).as(role).endsWith("/secrets/" + (role.equals("topics") ? "admin" : role));
            assertThat(secretOf.values()).as("the folder of " + role + " is nobody else's").doesNotContain(folder);
            secretOf.put(role, folder);
            String command = service.get("command").toString();
            assertThat(command).as(role).contains("\"--kafka-config\",\"/etc/ikd/secret/client.properties\"");
            if (!role.equals("topics")) {
                assertThat(command).as(role).contains("\"--keys\",\"/etc/ikd/secret\"");
            }
        }
        assertThat(services.get("coordinator").get("ports").get(0).asText()).startsWith("127.0.0.1:9400:");
        ConfigFile.load(DEPLOY.resolve("run-secure.properties"), new CommandLine(new Ikd()).getCommandSpec());
    }

    @Test
    void kubectlKustomizeRendersManifestsThatMatchTheApiSchemasWithOneSecretPerRoleAndAGpuOverlayThatOnlyTouchesTheTeacher()
        throws Exception {
        Path kubectl = Tools.require("kubectl", "kubernetes-client");
        Map<String, HasMetadata> base = render(kubectl, "base");
        Map<String, HasMetadata> gpu = render(kubectl, "gpu");
        assertThat(base.keySet()).containsExactlyInAnyOrder("Namespace/ikd", "ConfigMap/ikd-run",
            "Job/ikd-topics", "PersistentVolumeClaim/ikd-coordinator-state", "Deployment/ikd-coordinator",
            "Service/ikd-coordinator-metrics", "PersistentVolumeClaim/ikd-teacher-state", "Deployment/ikd-teacher",
            "Service/ikd-teacher-metrics", "Service/ikd-students", "StatefulSet/ikd-student-0", "StatefulSet/ikd-student-1");
        assertThat(gpu.keySet()).isEqualTo(base.keySet());

        ConfigMap run = (ConfigMap) base.get("ConfigMap/ikd-run");
        Path properties = Files.writeString(Files.createTempFile("run", ".properties"), run.getData().get("run.properties"));
        ConfigFile.load(properties, new CommandLine(new Ikd()).getCommandSpec());
        Files.delete(properties);

        for (int i = 0; i < 2; i++) {
            StatefulSet students = (StatefulSet) base.get("StatefulSet/ikd-student-" + i);
            Container student = students.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertThat(student.getArgs()).containsSequence("student", "--index", Integer.toString(i));
            assertThat(students.getSpec().getReplicas()).isEqualTo(1);
            assertThat(students.getSpec().getVolumeClaimTemplates()).hasSize(1);
        }
        assertThat(((PersistentVolumeClaim) base.get("PersistentVolumeClaim/ikd-teacher-state")).getSpec().getAccessModes())
            .containsExactly("ReadWriteMany");

        // Every role mounts one Secret, its own: no Secret is mounted by two roles, so no pod holds another's login or key.
        Map<String, String> secretOf = new java.util.TreeMap<>(Map.of("Deployment/ikd-coordinator", "ikd-coordinator",
            "Deployment/ikd-teacher", "ikd-teacher", "StatefulSet/ikd-student-0", "ikd-student-0", "StatefulSet/ikd-student-1",
            "ikd-student-1", "Job/ikd-topics", "ikd-admin"));
        Map<String, List<String>> mountedBy = new java.util.TreeMap<>();
        for (String workload : secretOf.keySet()) {
            PodSpec pod = podSpec(base.get(workload));
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(workload).isTrue();
            List<String> secrets = pod.getVolumes().stream().filter(v -> v.getSecret() != null).map(v -> v.getSecret().getSecretName())
                .toList();
            assertThat(secrets).as(workload).containsExactly(secretOf.get(workload));
            secrets.forEach(name -> mountedBy.computeIfAbsent(name, k -> new ArrayList<>()).add(workload));
            Container c = pod.getContainers().get(0);
            assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(workload).isTrue();
            assertThat(c.getResources().getLimits()).as(workload).containsKey("memory");
            assertThat(c.getArgs()).as(workload).containsSequence("--kafka-config", "/etc/ikd/secret/client.properties");
            if (!workload.startsWith("Job")) {
                assertThat(c.getArgs()).as(workload).containsSequence("--keys", "/etc/ikd/secret");
            }
            if (!workload.startsWith("Job")) {
                assertThat(c.getLivenessProbe().getHttpGet().getPath()).as(workload).isEqualTo("/health");
            }
        }

        assertThat(mountedBy).allSatisfy((secret, by) -> assertThat(by).as(secret + " is mounted by one role").hasSize(1));

        Container cpuTeacher = podSpec(base.get("Deployment/ikd-teacher")).getContainers().get(0);
        Container gpuTeacher = podSpec(gpu.get("Deployment/ikd-teacher")).getContainers().get(0);
        assertThat(cpuTeacher.getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
        assertThat(gpuTeacher.getResources().getLimits().get("nvidia.com/gpu").getAmount()).isEqualTo("1");
        assertThat(gpuTeacher.getArgs()).containsSequence("--device", "gpu");
        for (String other : base.keySet()) {
            if (!other.equals("Deployment/ikd-teacher")) {
                assertThat((JsonNode) YAML.valueToTree(gpu.get(other))).as(other).isEqualTo(YAML.valueToTree(base.get(other)));
            }
        }
    }

    @Test
    void theDockerfileRunsTheJarAsANonRootUserWithAHealthCheckOnHealth() throws Exception {
        // Instructions continued with a backslash are one line.
        String dockerfile = Files.readString(DEPLOY.resolve("Dockerfile")).replaceAll("\\\\\n\\s*", " ");
        Matcher user = Pattern.compile("(?m)^USER (\\S+)").matcher(dockerfile);
        assertThat(user.find()).isTrue();
        assertThat(user.group(1)).doesNotStartWith("root").doesNotStartWith("0");
        assertThat(dockerfile).containsPattern("(?m)^HEALTHCHECK .*/health");
        Matcher copied = Pattern.compile("(?m)^COPY --from=build \\S+/ikd.jar (\\S+)$").matcher(dockerfile);
        assertThat(copied.find()).isTrue();
        assertThat(dockerfile).containsPattern("(?m)^ENTRYPOINT \\[.*\"-jar\", \"" + Pattern.quote(copied.group(1)) + "\"\\]");
        assertThat(Files.readString(ROOT.resolve(".dockerignore"))).contains("**/target/");
    }

    @Test
    void theGrafanaDashboardUsesTheProvisionedPrometheusAndHasEveryPanelTheRunNeeds() throws Exception {
        JsonNode datasource = YAML.readTree(DEPLOY.resolve("grafana/provisioning/datasources/prometheus.yml").toFile())
            .get("datasources").get(0);
        JsonNode dashboard = new ObjectMapper().readTree(DEPLOY.resolve("grafana/ikd.json").toFile());
        List<String> titles = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            titles.add(panel.get("title").asText());
            if (panel.has("targets")) {
                assertThat(panel.get("datasource").get("uid").asText()).as(panel.get("title").asText())
                    .isEqualTo(datasource.get("uid").asText());
            }
        }
        assertThat(titles).contains("Course loss", "Exam accuracy", "Step rate", "Hop latency p50 per topic",
            "Hop latency p99 per topic", "Teacher busy time", "Feature cache hit rate", "Dead letters (5 min)", "Consumer lag",
            "Heap used", "GC pause time");
        JsonNode provider = YAML.readTree(DEPLOY.resolve("grafana/provisioning/dashboards/ikd.yml").toFile()).get("providers").get(0);
        assertThat(Files.readString(DEPLOY.resolve("compose.yaml")))
            .contains("./grafana/ikd.json:" + provider.get("options").get("path").asText() + "/ikd.json");
    }

    /** The objects {@code kubectl kustomize deploy/k8s/OVERLAY} makes, by kind/name, each read strictly. */
    private static Map<String, HasMetadata> render(Path kubectl, String overlay) throws Exception {
        Tools.Result r = Tools.run(DEPLOY.resolve("k8s"), 60, List.of(kubectl.toString(), "kustomize", overlay));
        assertThat(r.code()).as(r.toString()).isZero();
        Map<String, HasMetadata> objects = new TreeMap<>();
        try (YAMLParser parser = new YAMLFactory().createParser(r.output())) {
            for (JsonNode doc : YAML.readValues(parser, JsonNode.class).readAll()) {
                Class<? extends HasMetadata> type = KINDS.get(doc.get("apiVersion").asText() + "/" + doc.get("kind").asText());
                assertThat(type).as("a kind the manifests may use: " + doc.get("apiVersion") + " " + doc.get("kind")).isNotNull();
                HasMetadata object = YAML.treeToValue(doc, type);
                List<String> unknown = new ArrayList<>();
                leftovers(object, doc.get("kind").asText(), unknown, new IdentityHashMap<>());
                assertThat(unknown).as(overlay + ": fields the Kubernetes API does not have").isEmpty();
                objects.put(object.getKind() + "/" + object.getMetadata().getName(), object);
            }
        }
        return objects;
    }

    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of("v1/Namespace", Namespace.class, "v1/ConfigMap",
        ConfigMap.class, "v1/Secret", Secret.class, "v1/Service", Service.class, "v1/PersistentVolumeClaim",
        PersistentVolumeClaim.class, "apps/v1/Deployment", Deployment.class, "apps/v1/StatefulSet", StatefulSet.class,
        "batch/v1/Job", Job.class);

    /**
     * Strict mode: the model classes keep any field they do not know in additionalProperties; every
     * such field, at any depth, is reported with its path.
     */
    private static void leftovers(Object o, String path, List<String> found, Map<Object, Boolean> seen) throws Exception {
        if (o == null || seen.containsKey(o) || o instanceof String || o instanceof Number || o instanceof Boolean) {
            return;
        }
        seen.put(o, true);
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                leftovers(e, path + "[" + i++ + "]", found, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                leftovers(e.getValue(), path + "." + e.getKey(), found, seen);
            }
            return;
        }
        if (!o.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : o.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                continue;
            }
            Object value = getter.invoke(o);
            if (getter.getName().equals("getAdditionalProperties")) {
                ((Map<?, ?>) value).keySet().forEach(k -> found.add(path + "." + k));
            } else {
                leftovers(value, path + "." + getter.getName().substring(3), found, seen);
            }
        }
    }

    private static PodSpec podSpec(HasMetadata workload) {
        if (workload instanceof Deployment d) {
            return d.getSpec().getTemplate().getSpec();
        }
        if (workload instanceof StatefulSet s) {
            return s.getSpec().getTemplate().getSpec();
        }
        return ((Job) workload).getSpec().getTemplate().getSpec();
    }

    private static List<String> iterable(java.util.Iterator<String> names) {
        List<String> all = new ArrayList<>();
        names.forEachRemaining(all::add);
        return all;
    }

}
