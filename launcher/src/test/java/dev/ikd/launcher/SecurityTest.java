package dev.ikd.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import ai.djl.ndarray.NDManager;
import dev.ikd.embeddedkafka.BrokerSecurity;
import dev.ikd.embeddedkafka.BrokerSettings;
import dev.ikd.embeddedkafka.Certificates;
import dev.ikd.embeddedkafka.EmbeddedKafka;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.ReferenceTrainer;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.core.train.StepListener;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.EnvelopeDeserializer;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.sign.RunKeys;
import dev.ikd.proto.sign.RunManifest;
import dev.ikd.proto.sign.Signatures;
import dev.ikd.proto.sign.SigningKey;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Abort;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.SoftTargets;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import dev.ikd.wiring.LocalRun;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.Teachers;
import dev.ikd.runlog.RunLog;

/**
 * ikd on a shared cluster (docs/architecture.md §12): a secure broker lets each role do exactly its
 * part, refuses whoever cannot log in, and every service dead-letters what is not signed by the
 * sender its kind requires; a secure run ends where a plain one does, and logs no secret.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SecurityTest {

    private static final List<String> STUDENTS = List.of("student-0", "student-1");

    @TempDir
    static Path shared;

    static EmbeddedKafka broker;

    @BeforeAll
    static void secureBroker() {
        broker = EmbeddedKafka.start(BrokerSettings.loopback(shared.resolve("kafka")).secure(RunKeys.identities(2)));
        Services.secureTopics(login(BrokerSecurity.ADMIN), dev.ikd.proto.topics.TopicSettings.defaults(), STUDENTS);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    static KafkaAccess login(String principal) {
        return KafkaAccess.withConfig(broker.bootstrapServers(), broker.security().clientConfig(principal));
    }

    /** What each role may do, written out from the rules (not from the ACL table under test). */
    record Role(String principal, Set<String> mayWrite, Set<String> mayRead, String group) {
    }

    static final List<Role> ROLES = List.of(
        new Role("coordinator", Set.of(Topics.CONTROL, Topics.COORDINATOR_JOURNAL, Topics.DEAD_LETTER),
            Set.of(Topics.ENROLLMENT, Topics.EXAM_RESULTS, Topics.TEACHER_UPDATES, Topics.COORDINATOR_JOURNAL), "ikd-coordinator-r"),
        new Role("teacher", Set.of(Topics.SOFT_TARGETS, Topics.TEACHER_UPDATES, Topics.TEACHER_BLOCKS, Topics.DEAD_LETTER),
            Set.of(Topics.CONTROL, Topics.FEEDBACK), "ikd-teacher-r"),
        new Role("student-0", Set.of(Topics.ENROLLMENT, Topics.FEEDBACK, Topics.EXAM_RESULTS, Topics.DEAD_LETTER),
            Set.of(Topics.CONTROL, Topics.SOFT_TARGETS, Topics.TEACHER_BLOCKS), "ikd-student-student-0-r"));

    @Nested
    class LeastPrivilege {

        @Test
        void everyPrincipalIsDeniedEveryReadAndWriteItsRoleMustNotDoAndNothingIsWritten() throws Exception {
            Map<TopicPartition, Long> before = endOffsets();
            int allowedWrites = 0;
            for (Role role : ROLES) {
                try (var producer = new KafkaProducer<>(withTimeouts(KafkaClients.producerConfig(login(role.principal()), "acl")),
                    new StringSerializer(), new ByteArraySerializer())) {
                    for (String topic : Topics.ALL) {
                        if (role.mayWrite().contains(topic) && !topic.equals(Topics.DEAD_LETTER)) {
                            continue; // allowed, and a run's topics are no place for test records: the dead letters show it
                        }
                        Throwable failure = failureOf(() -> producer.send(new ProducerRecord<>(topic, "k", new byte[] {1}))
                            .get(20, TimeUnit.SECONDS));
                        if (role.mayWrite().contains(topic)) {
                            assertThat(failure).as(role.principal() + " writes " + topic).isNull();
                            allowedWrites += topic.equals(Topics.DEAD_LETTER) ? 1 : 0;
                        } else {
                            assertThat(failure).as(role.principal() + " writes " + topic).isInstanceOf(TopicAuthorizationException.class);
                        }
                    }
                }
                for (String topic : Topics.ALL) {
                    Throwable failure = failureOf(() -> read(role.principal(), null, topic));
                    if (role.mayRead().contains(topic)) {
                        assertThat(failure).as(role.principal() + " reads " + topic).isNull();
                    } else {
                        assertThat(failure).as(role.principal() + " reads " + topic).isInstanceOf(TopicAuthorizationException.class);
                    }
                }
                String readable = role.mayRead().iterator().next();
                for (Role other : ROLES) {
                    Throwable failure = failureOf(() -> read(role.principal(), other.group(), readable));
                    if (other == role) {
                        assertThat(failure).as(role.principal() + " in its own group").isNull();
                    } else {
                        assertThat(failure).as(role.principal() + " in group " + other.group()).isInstanceOf(GroupAuthorizationException.class);
                    }
                }
            }
            Map<TopicPartition, Long> after = endOffsets();
            long written = after.entrySet().stream().mapToLong(e -> e.getValue() - before.get(e.getKey())).sum();
            long deadLetters = after.entrySet().stream().filter(e -> e.getKey().topic().equals(Topics.DEAD_LETTER))
                .mapToLong(e -> e.getValue() - before.get(e.getKey())).sum();
            assertThat(deadLetters).as("the one write each role may do here: a dead letter").isEqualTo(allowedWrites).isEqualTo(3);
            assertThat(written).as("records written anywhere").isEqualTo(deadLetters);
        }

        /** Reads partition 0 of {@code topic} as {@code principal}; with {@code group}, commits there too. */
        private void read(String principal, String group, String topic) {
            Map<String, Object> c = withTimeouts(KafkaClients.consumerConfig(login(principal), group == null ? "x" : group, "acl"));
            if (group == null) {
                c.remove(ConsumerConfig.GROUP_ID_CONFIG);
            }
            try (var consumer = new KafkaConsumer<String, Decoded>(c, new StringDeserializer(), new EnvelopeDeserializer())) {
                TopicPartition p = new TopicPartition(topic, 0);
                consumer.assign(List.of(p));
                consumer.seekToBeginning(List.of(p));
                consumer.poll(Duration.ofSeconds(2));
                if (group != null) {
                    consumer.commitSync(Map.of(p, new org.apache.kafka.clients.consumer.OffsetAndMetadata(0)), Duration.ofSeconds(10));
                }
            }
        }
    }

    @Nested
    class Logins {

        /**
         * A client with no credentials gets nothing, and not because the broker is out of reach: the broker
         * takes its connection and answers its plain-text request with a TLS alert and a close, where an
         * address nothing listens on refuses the connection itself.
         */
        @Test
        void aClientWithNoCredentialsIsRefusedByTheBrokerNotForWantOfOne() throws Exception {
            Map<String, Object> plain = withTimeouts(KafkaClients.adminConfig(KafkaAccess.plain(broker.bootstrapServers())));
            try (Admin admin = Admin.create(plain)) {
                assertThatThrownBy(() -> admin.listTopics().names().get(20, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
            }
            String[] hostPort = broker.bootstrapServers().split(",")[0].split(":");
            try (var socket = new java.net.Socket(hostPort[0], Integer.parseInt(hostPort[1]))) {
                socket.setSoTimeout(10_000);
                // A Kafka ApiVersions request (v0, correlation id 1, client id "x"), as a plain-text client sends it first.
                byte[] request = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 1, 0, 1, 'x'};
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
                var in = socket.getInputStream();
                int first = in.read();
                // 21 (0x15) opens a TLS alert record; -1 is the broker closing at once. A Kafka answer would start with a length.
                assertThat(first).as("the broker's answer to plain text").isIn(21, -1);
                if (first == 21) {
                    byte[] rest = in.readNBytes(64);
                    assertThat(in.read()).as("then it closes the connection").isEqualTo(-1);
                    assertThat(rest.length).isGreaterThan(0);
                }
            }
            int closed;
            try (var free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                closed = free.getLocalPort();
            }
            int nothing = closed;
            assertThatThrownBy(() -> new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), nothing).close())
                .as("an address nothing listens on").isInstanceOf(java.net.ConnectException.class);
        }

        @Test
        void aWrongPasswordIsRefused() throws Exception {
            Map<String, Object> c = login("student-0").apply(Map.of());
            c.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"student-0\" "
                + "password=\"not-the-password\";");
            assertThat(describeCluster(c)).isInstanceOf(SaslAuthenticationException.class);
        }

        @Test
        void aBrokerWhoseCertificateIsNotFromTheTrustedCaIsRefused() throws Exception {
            Path otherCa = Files.writeString(shared.resolve("other-ca.pem"),
                Certificates.pem(Certificates.authority("another CA", Duration.ofDays(1)).certificate()));
            Map<String, Object> c = login("student-0").apply(Map.of());
            c.put("ssl.truststore.location", otherCa.toString());
            assertThat(describeCluster(c)).isInstanceOf(SslAuthenticationException.class);
        }

        @Test
        void aClientCertificateFromAnotherCaIsRefusedOnTheControllerListener() throws Exception {
            var other = Certificates.authority("another CA", Duration.ofDays(1));
            var client = Certificates.issue(other, "ikd-broker", List.of("127.0.0.1"), Duration.ofDays(1));
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("me", client.keys().getPrivate(), "pw".toCharArray(), new Certificate[] {client.certificate()});
            Path keyStore = shared.resolve("other.p12");
            try (var out = Files.newOutputStream(keyStore)) {
                store.store(out, "pw".toCharArray());
            }
            var ports = new Properties();
            try (var in = Files.newBufferedReader(shared.resolve("kafka").resolve("ikd-broker.properties"))) {
                ports.load(in);
            }
            Map<String, Object> c = new HashMap<>();
            c.put("bootstrap.servers", "127.0.0.1:" + ports.getProperty("controller.port"));
            c.put("security.protocol", "SSL");
            c.put("ssl.truststore.type", "PEM");
            c.put("ssl.truststore.location", broker.security().credentialsDir().resolve("ca.pem").toString());
            c.put("ssl.keystore.type", "PKCS12");
            c.put("ssl.keystore.location", keyStore.toString());
            c.put("ssl.keystore.password", "pw");
            c.put("ssl.key.password", "pw");
            assertThat(describeCluster(c)).isInstanceOf(SslAuthenticationException.class);
        }

        @Test
        void aSecureBrokersLogIsNeverServedInPlainText() {
            assertThatThrownBy(() -> EmbeddedKafka.start(BrokerSettings.loopback(shared.resolve("kafka"))))
                .isInstanceOf(dev.ikd.embeddedkafka.BrokerException.class).hasMessageContaining("holds a secure broker's log");
        }

        /** A client that is not Java (kcat, librdkafka) logs in with the CA file and a principal's SCRAM password. */
        @Test
        void kcatLogsInWithCaPemAndIsRefusedAWrongPassword() throws Exception {
            Tools.require("kcat", "kcat");
            Matcher m = Pattern.compile("password\\\\?=\\\\?\"([A-Za-z0-9_-]+)\"").matcher(
                Files.readString(broker.security().clientConfig("student-0")));
            assertThat(m.find()).isTrue();
            assertThat(kcat("student-0", m.group(1)).exitValue()).isZero();
            Process ok = kcat("student-0", m.group(1));
            assertThat(new String(ok.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains(Topics.CONTROL);
            Process refused = kcat("student-0", "not-the-password");
            assertThat(refused.exitValue()).isNotZero();
        }

        private Process kcat(String user, String password) throws Exception {
            Process p = new ProcessBuilder("kcat", "-b", broker.bootstrapServers(), "-L", "-m", "10",
                "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=" + user,
                "-X", "sasl.password=" + password,
                "-X", "ssl.ca.location=" + broker.security().credentialsDir().resolve("ca.pem")).redirectErrorStream(true).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return p;
        }

        private Throwable describeCluster(Map<String, Object> config) {
            try (Admin admin = Admin.create(withTimeouts(config))) {
                return failureOf(() -> admin.describeCluster().clusterId().get(20, TimeUnit.SECONDS));
            }
        }
    }

    /** A forgery an intruder with stolen logins sends once student-0 is under way, and the reason it must be refused for. */
    record Forgery(String what, String topic, String login, Envelope envelope, SigningKey signer, String asWho, String reason) {
    }

    @Test
    void forgedMessagesAreDeadLetteredWithTheirReasonAndTheRunEndsOnTheUndisturbedHashes(@TempDir Path dir) throws Exception {
        String runId = "forged";
        RunOptions options = CommandLine.populateCommand(new RunOptions(), "--dataset", "digits", "--students", "2", "--steps", "150",
            "--pretrain-steps", "100");
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        Path keys = dir.resolve("keys");
        try (NDManager manager = NDManager.newBaseManager(); ServiceHost host = new ServiceHost(4)) {
            Params teacher = Teachers.pretrain(c, data, Network.build(c.teacher(), data), manager, false);
            TrainResult reference = ReferenceTrainer.run(c, data, teacher, manager, StepListener.NONE);
            Services.Wiring wiring = Services.secured(Services.Wiring.of(broker.bootstrapServers(), runId, dir.resolve("state")),
                broker, keys, 2);
            SigningKey student0 = RunKeys.signingKey(keys.resolve("student-0"), "student-0");
            SigningKey student1 = RunKeys.signingKey(keys.resolve("student-1"), "student-1");
            SigningKey student1AsStudent0 = new SigningKey("student-0", privateKeyOf(keys.resolve("student-1"), "student-1"),
                student1.publicKey());
            // Student-1's login enrolling as student-0, with a fresh key of its own.
            SigningKey fresh = SigningKey.generate("student-0");
            Envelope impostorEnrollment = Envelopes.header(runId, "student-0", 0, Kind.ENROLLMENT, "student-0", Clock.systemUTC())
                .setEnrollment(dev.ikd.proto.v1.Enrollment.newBuilder()
                    .setPublicKey(com.google.protobuf.ByteString.copyFrom(fresh.publicKey().getEncoded()))).build();
            Envelope feedback = Envelopes.header(runId, "student-0", 5, Kind.FEEDBACK, "student-0", Clock.systemUTC())
                .setFeedback(dev.ikd.proto.v1.Feedback.getDefaultInstance()).build();
            Envelope otherRun = feedback.toBuilder().setRunId("another-run")
                .setIdempotencyKey(Envelopes.idempotencyKey("another-run", "student-0", 5, Kind.FEEDBACK)).build();
            List<Forgery> forgeries = List.of(
                new Forgery("unsigned feedback", Topics.FEEDBACK, "student-1", feedback, null, null, "^unsigned: "),
                new Forgery("student-1 signs student-0's feedback", Topics.FEEDBACK, "student-1", feedback, student1, null,
                    "^wrong sender: a FEEDBACK of student-0 must be signed by student-0, this one says 'student-1'$"),
                new Forgery("student-1 signs as student-0", Topics.FEEDBACK, "student-1", feedback, student1AsStudent0, null,
                    "^bad signature: the FEEDBACK record was not signed with the key of 'student-0'"),
                new Forgery("a student sends soft targets (with the teacher's login)", Topics.SOFT_TARGETS, "teacher",
                    Envelopes.header(runId, "student-0", 6, Kind.SOFT_TARGETS, "teacher", Clock.systemUTC())
                        .setSoftTargets(SoftTargets.newBuilder().setTeacherVersion(6)).build(), student1, null,
                    "^wrong sender: a SOFT_TARGETS of student-0 must be signed by teacher"),
                new Forgery("a student aborts student-0 (with the coordinator's login)", Topics.CONTROL, "coordinator",
                    Envelopes.header(runId, "student-0", 0, Kind.ABORT, "coordinator", Clock.systemUTC())
                        .setAbort(Abort.newBuilder().setReason("forged")).build(), student1, null,
                    "^wrong sender: a ABORT of student-0 must be signed by coordinator"),
                new Forgery("a student ends the run (with the coordinator's login)", Topics.CONTROL, "coordinator",
                    Envelopes.header(runId, "", 0, Kind.FINISH, "coordinator", Clock.systemUTC())
                        .setFinish(Finish.newBuilder().setReason("forged")).build(), student1, null,
                    "^wrong sender: a FINISH must be signed by coordinator"),
                new Forgery("student-0's valid feedback of another run, its run id changed", Topics.FEEDBACK, "student-1", feedback,
                    student0, "another-run", "^bad signature: the FEEDBACK record was not signed with the key of 'student-0'"),
                new Forgery("student-1's login enrolls as student-0 with a fresh key", Topics.ENROLLMENT, "student-1",
                    impostorEnrollment, fresh, null, "^bad signature: the ENROLLMENT record was not signed with the key of 'student-0' "
                        + "that the run pins"),
                new Forgery("a genuine admission of student-0 copied onto the feedback topic", Topics.FEEDBACK, "student-1", null, null,
                    Topics.CONTROL, "^misplaced: a ADMITTED record belongs on ikd.control, not ikd.feedback$"),
                new Forgery("student-0's genuine soft targets sent again under student-1's key (with the teacher's login)",
                    Topics.SOFT_TARGETS, "teacher", null, null, Topics.SOFT_TARGETS,
                    "^misplaced: a SOFT_TARGETS record of 'student-0' is keyed 'student-1'$"));
            LocalRun.Outcome outcome;
            try (Intruder intruder = new Intruder(runId, forgeries, otherRun, student0)) {
                outcome = LocalRun.run(c, data, teacher, wiring, host, manager, 300);
                assertThat(intruder.sent.size()).as("forgeries sent, failures " + intruder.failures).isEqualTo(forgeries.size() + 1);
            }
            // The forged enrollment was refused on the control topic, signed by the coordinator, naming the key it came with:
            // the forger hears why; student-0, whose key it is not, passed it over and learned on.
            Envelope refusal = refusalOf(runId, Signatures.fingerprint(fresh.publicKey().getEncoded()), RunKeys.manifest(keys));
            assertThat(refusal.getRefused().getReason()).startsWith("enrollment refused: bad signature: the ENROLLMENT record");
            assertThat(outcome.students()).extracting(TrainResult.StudentResult::paramSha256)
                .containsExactlyElementsOf(reference.students().stream().map(TrainResult.StudentResult::paramSha256).toList());

            List<String> reasons = BadInputTest.deadLetterReasons(login(BrokerSecurity.ADMIN), forgeries.size());
            List<String> unexplained = new ArrayList<>(reasons);
            for (Forgery f : forgeries) {
                String match = unexplained.stream().filter(r -> Pattern.compile(f.reason()).matcher(r).find()).findFirst()
                    .orElseThrow(() -> new AssertionError(f.what() + ": no dead letter matches " + f.reason() + " in " + reasons));
                unexplained.remove(match);
                System.out.printf("forged | %s | dead letter: %s%n", f.what(), match);
            }
            assertThat(reasons).as("every dead letter is a refused forgery (one per consumer that read it)")
                .allMatch(r -> forgeries.stream().anyMatch(f -> Pattern.compile(f.reason()).matcher(r).find()));

            // The log is tamper-evident: replay checks every signature, leaves the forgeries out, and verifies the run.
            RunLog log = RunLog.read(login(BrokerSecurity.ADMIN), runId, RunKeys.manifest(keys));
            assertThat(log.forged()).hasSizeGreaterThanOrEqualTo(forgeries.size());
            assertThat(log.checked()).isGreaterThan(100);
            var out = new ByteArrayOutputStream();
            var stdout = System.out;
            int rc;
            try {
                System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
                rc = new CommandLine(new Ikd()).execute("replay", "--bootstrap", broker.bootstrapServers(), "--kafka-config",
                    broker.security().clientConfig(BrokerSecurity.ADMIN).toString(), "--keys", keys.toString(), "--run-id", runId,
                    "--verify");
            } finally {
                System.setOut(stdout);
            }
            assertThat(rc).as(out.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("student-0: 150 of 150 steps verified");

            // Export checks the signatures the same way: the student rebuilt from the genuine records ends on its report.
            Path model = dir.resolve("secure-student.safetensors");
            out.reset();
            try {
                System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
                rc = new CommandLine(new Ikd()).execute("export", "--bootstrap", broker.bootstrapServers(), "--kafka-config",
                    broker.security().clientConfig(BrokerSecurity.ADMIN).toString(), "--keys", keys.toString(), "--run-id", runId,
                    "--student", "student-0", "--out", model.toString());
            } finally {
                System.setOut(stdout);
            }
            assertThat(rc).as(out.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(dev.ikd.learning.export.ModelCard.read(dev.ikd.learning.export.ModelCard.beside(model)).paramSha256())
                .isEqualTo(log.reports().get("student-0").getStudentReport().getParamSha256());
        }
    }

    /** Sends the forgeries as soon as student-0 has soft targets for step 5, with the logins and keys it stole. */
    private static final class Intruder implements AutoCloseable {
        final List<String> sent = new CopyOnWriteArrayList<>();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final Thread thread;
        private volatile boolean stop;

        Intruder(String runId, List<Forgery> forgeries, Envelope otherRun, SigningKey student0) {
            thread = new Thread(() -> {
                try {
                    awaitStep(runId, 5);
                    for (Forgery f : forgeries) {
                        if (f.envelope() == null) {
                            copyMisplaced(runId, f);
                            sent.add(f.what());
                            continue;
                        }
                        Envelope e = f.envelope();
                        byte[] value = e.toByteArray();
                        byte[] signedValue = value;
                        if (f.asWho() != null) {
                            // Signed as a message of another run, then its run id set to this one's.
                            signedValue = e.toBuilder().setRunId(f.asWho()).setIdempotencyKey(Envelopes.idempotencyKey(f.asWho(),
                                e.getStudentId(), e.getStep(), e.getKind())).build().toByteArray();
                        }
                        send(f.login(), f.topic(), Topics.keyOf(e), value, f.signer(), signedValue);
                        sent.add(f.what());
                    }
                    // The same message verbatim, still of the other run: not this run's, so it is never applied.
                    send("student-1", Topics.FEEDBACK, "student-0", otherRun.toByteArray(), student0, otherRun.toByteArray());
                    sent.add("verbatim copy of another run");
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "intruder");
            thread.start();
        }

        private void awaitStep(String runId, long step) {
            Map<String, Object> c = KafkaClients.consumerConfig(login(BrokerSecurity.ADMIN), "intruder-" + UUID.randomUUID(), "intruder");
            try (var consumer = new KafkaConsumer<String, Decoded>(c, new StringDeserializer(), new EnvelopeDeserializer())) {
                consumer.subscribe(List.of(Topics.SOFT_TARGETS));
                while (!stop) {
                    for (var r : consumer.poll(Duration.ofMillis(100))) {
                        if (r.value() instanceof Decoded.Valid v && runId.equals(v.envelope().getRunId())
                            && "student-0".equals(v.envelope().getStudentId()) && v.envelope().getStep() >= step) {
                            return;
                        }
                    }
                }
            }
        }

        /**
         * A genuine record of student-0 as it went by on {@code f.asWho()} (its topic), sent again verbatim,
         * headers and all, with the stolen login to {@code f.topic()} (under student-1's key on its own topic).
         */
        private void copyMisplaced(String runId, Forgery f) throws Exception {
            Map<String, Object> c = KafkaClients.consumerConfig(login(BrokerSecurity.ADMIN), "x", "intruder-copy");
            c.remove(ConsumerConfig.GROUP_ID_CONFIG);
            try (var consumer = new KafkaConsumer<String, byte[]>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> all = consumer.partitionsFor(f.asWho()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                consumer.assign(all);
                consumer.seekToBeginning(all);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline) {
                    for (var r : consumer.poll(Duration.ofMillis(200))) {
                        Envelope e = Envelope.parseFrom(r.value());
                        if (runId.equals(e.getRunId()) && "student-0".equals(e.getStudentId())
                            && (e.getKind() == Kind.ADMITTED || e.getKind() == Kind.SOFT_TARGETS)) {
                            Map<String, Object> pc = login(f.login()).apply(Map.of(ProducerConfig.ACKS_CONFIG, "all"));
                            try (var producer = new KafkaProducer<>(pc, new StringSerializer(), new ByteArraySerializer())) {
                                var copy = new ProducerRecord<>(f.topic(), f.topic().equals(f.asWho()) ? "student-1" : "student-0",
                                    r.value());
                                r.headers().forEach(h -> copy.headers().add(h));
                                producer.send(copy).get(30, TimeUnit.SECONDS);
                            }
                            return;
                        }
                    }
                }
                throw new AssertionError("no genuine record of student-0 on " + f.asWho());
            }
        }

        private static void send(String login, String topic, String key, byte[] value, SigningKey signer, byte[] signedValue)
            throws Exception {
            Map<String, Object> c = login(login).apply(Map.of(ProducerConfig.ACKS_CONFIG, "all"));
            try (var producer = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
                var record = new ProducerRecord<>(topic, key, value);
                if (signer != null) {
                    Signatures.sign(signer, signedValue, record.headers());
                }
                producer.send(record).get(30, TimeUnit.SECONDS);
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(30_000);
        }
    }

    @Test
    void aSecureRunInSeparateJvmsEndsOnThePlainHashesAndNoLogOrMetricHoldsASecret(@TempDir Path dir) throws Exception {
        Path checkpoint = dir.resolve("teacher.ckpt");
        // The in-process hashes: those of the same run without security (DistributedRunTest checks that they match).
        List<String> expected = DistributedRunTest.reference(checkpoint, DistributedRunTest.RUN);
        Path keys = dir.resolve("keys");
        assertThat(new CommandLine(new Ikd()).execute("keys", "--out", keys.toString(), "--run-id", "sec", "--students", "2")).isZero();
        try (Jvms jvms = new Jvms(dir)) {
            Jvms.Broker secure = jvms.broker(List.of(), "--secure", "--students", "2");
            Path credentials = dir.resolve("kafka").resolve("credentials");
            assertThat(secure.jvm().stdout()).contains("credentials: " + credentials.toAbsolutePath());
            // Each service gets its role's folder of keys and nothing else.
            List<String> common = DistributedRunTest.with(DistributedRunTest.RUN, "--bootstrap", secure.bootstrap(), "--run-id", "sec");
            var coordinator = jvms.start("coordinator", DistributedRunTest.args("coordinator", common, "--metrics-port", "0",
                "--keys", keys.resolve("coordinator").toString(), "--kafka-config", credentials.resolve("coordinator.properties").toString()));
            var teacher = jvms.start("teacher", DistributedRunTest.args("teacher", common, "--metrics-port", "-1",
                "--keys", keys.resolve("teacher").toString(), "--teacher-checkpoint", checkpoint.toString(), "--kafka-config",
                credentials.resolve("teacher.properties").toString()));
            // A student-0 with a key the run does not pin (its own login, another run's keys) enrolls first: it is refused with
            // the reason and exits 1, and the rightful student-0, enrolling next, passes that refusal over and is admitted.
            assertThat(new CommandLine(new Ikd()).execute("keys", "--out", dir.resolve("other").toString(), "--run-id", "sec",
                "--students", "1")).isZero();
            Path wrongKeys = Files.createDirectories(dir.resolve("wrong-keys"));
            Files.copy(keys.resolve("student-0").resolve("manifest.properties"), wrongKeys.resolve("manifest.properties"));
            Files.copy(dir.resolve("other").resolve("student-0").resolve("student-0.key"), wrongKeys.resolve("student-0.key"));
            var impostor = jvms.start("impostor", DistributedRunTest.args("student", common, "--metrics-port", "-1", "--index", "0",
                "--keys", wrongKeys.toString(), "--kafka-config", credentials.resolve("student-0.properties").toString()));
            assertThat(impostor.await(120)).as(impostor.stderr()).isEqualTo(1);
            assertThat(impostor.stderr()).contains("ikd: student-0 was refused: enrollment refused: bad signature: the ENROLLMENT "
                + "record was not signed with the key of 'student-0' that the run pins");
            var s0 = jvms.start("student-0", DistributedRunTest.args("student", common, "--metrics-port", "-1", "--index", "0", "--json",
                "--keys", keys.resolve("student-0").toString(), "--kafka-config", credentials.resolve("student-0.properties").toString()));
            var s1 = jvms.start("student-1", DistributedRunTest.args("student", common, "--metrics-port", "-1", "--index", "1", "--json",
                "--keys", keys.resolve("student-1").toString(), "--kafka-config", credentials.resolve("student-1.properties").toString()));
            String metrics = scrape(coordinator);
            for (var jvm : List.of(s0, s1, coordinator, teacher)) {
                assertThat(jvm.await(240)).as(jvm.stderr()).isZero();
            }
            assertThat(DistributedRunTest.hashOf(s0.stdout())).isEqualTo(expected.get(0));
            assertThat(DistributedRunTest.hashOf(s1.stdout())).isEqualTo(expected.get(1));

            List<String> secrets = secrets(dir.resolve("kafka"), keys);
            assertThat(secrets).hasSizeGreaterThan(8);
            List<Path> logs;
            try (Stream<Path> files = Files.list(dir)) {
                logs = files.filter(f -> f.toString().endsWith(".out") || f.toString().endsWith(".err")).toList();
            }
            assertThat(logs).hasSizeGreaterThanOrEqualTo(5);
            for (Path log : logs) {
                String text = Files.readString(log, StandardCharsets.UTF_8);
                for (String secret : secrets) {
                    assertThat(text).as(log.getFileName() + " holds a secret").doesNotContain(secret);
                }
            }
            for (String secret : secrets) {
                assertThat(metrics).as("/metrics holds a secret").doesNotContain(secret);
            }
        }
    }

    /** The refusal on the control topic that names the key {@code keySha256} came with; its signature is the coordinator's. */
    private static Envelope refusalOf(String runId, String keySha256, RunManifest manifest) {
        List<Envelope> found = new ArrayList<>();
        KafkaClients.readFromStart(login(BrokerSecurity.ADMIN), List.of(Topics.CONTROL), "refusals", Duration.ofSeconds(30), r -> {
            if (r.value() instanceof Decoded.Valid v && runId.equals(v.envelope().getRunId()) && v.envelope().getKind() == Kind.REFUSED
                && keySha256.equals(v.envelope().getRefused().getEnrolledKeySha256())) {
                assertThat(Signatures.problem(manifest, v.envelope(), v.signed())).as("the refusal's signature").isNull();
                found.add(v.envelope());
            }
        }, null);
        assertThat(found).as("refusals naming the forged key").hasSize(1);
        return found.get(0);
    }

    /** The coordinator's /metrics, once: it listens on 127.0.0.1 unless told otherwise. */
    private static String scrape(Jvms.Jvm coordinator) throws Exception {
        Pattern listening = Pattern.compile("metrics on 127\\.0\\.0\\.1:(\\d+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = listening.matcher(coordinator.stderr());
            if (m.find()) {
                var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.group(1)
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                return response.body();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the coordinator did not say where its metrics are: " + coordinator.stderr());
    }

    /** Every password and private key of the broker and the run, as they would appear if printed. */
    private static List<String> secrets(Path kafka, Path keys) throws Exception {
        List<String> secrets = new ArrayList<>();
        var p = new Properties();
        try (var in = Files.newBufferedReader(kafka.resolve("tls").resolve("secrets.properties"))) {
            p.load(in);
        }
        p.stringPropertyNames().forEach(name -> secrets.add(p.getProperty(name)));
        List<Path> pems = new ArrayList<>(List.of(kafka.resolve("tls").resolve("ca-key.pem")));
        try (Stream<Path> files = Files.walk(keys)) {
            files.filter(f -> f.toString().endsWith(".key")).forEach(pems::add);
        }
        Pattern privateKey = Pattern.compile("-----BEGIN PRIVATE KEY-----\\s+([A-Za-z0-9+/=]{16})");
        for (Path pem : pems) {
            Matcher m = privateKey.matcher(Files.readString(pem));
            assertThat(m.find()).as(pem + " holds a private key").isTrue();
            secrets.add(m.group(1));
        }
        return secrets;
    }

    private static java.security.PrivateKey privateKeyOf(Path keys, String identity) throws Exception {
        Matcher m = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END").matcher(
            Files.readString(keys.resolve(identity + ".key")));
        assertThat(m.find()).isTrue();
        return java.security.KeyFactory.getInstance("Ed25519").generatePrivate(
            new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getMimeDecoder().decode(m.group(1))));
    }

    private static Map<String, Object> withTimeouts(Map<String, Object> config) {
        Map<String, Object> c = new HashMap<>(config);
        c.put("request.timeout.ms", 10_000);
        c.put("default.api.timeout.ms", 15_000);
        c.put("max.block.ms", 15_000);
        c.put("delivery.timeout.ms", 20_000);
        c.put("reconnect.backoff.max.ms", 1_000);
        return c;
    }

    /** The root Kafka error {@code action} fails with, or null if it succeeds. */
    private static Throwable failureOf(ThrowingRunnable action) {
        try {
            action.run();
            return null;
        } catch (Throwable t) {
            Throwable cause = t;
            while ((cause instanceof java.util.concurrent.ExecutionException || cause instanceof java.util.concurrent.CompletionException
                || cause instanceof org.apache.kafka.common.KafkaException && !(cause instanceof org.apache.kafka.common.errors.ApiException)
                && !(cause instanceof SaslAuthenticationException) && !(cause instanceof SslAuthenticationException))
                && cause.getCause() != null) {
                cause = cause.getCause();
            }
            return cause;
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static Map<TopicPartition, Long> endOffsets() {
        Map<String, Object> c = KafkaClients.consumerConfig(login(BrokerSecurity.ADMIN), "x", "offsets");
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (var consumer = new KafkaConsumer<String, Decoded>(c, new StringDeserializer(), new EnvelopeDeserializer())) {
            List<TopicPartition> all = new ArrayList<>();
            for (String t : Topics.ALL) {
                consumer.partitionsFor(t).forEach(p -> all.add(new TopicPartition(t, p.partition())));
            }
            return consumer.endOffsets(all);
        }
    }
}
