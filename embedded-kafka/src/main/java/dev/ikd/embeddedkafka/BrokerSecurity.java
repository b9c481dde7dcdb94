package dev.ikd.embeddedkafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * What makes the embedded broker safe on a shared network: TLS with a certificate from its own CA,
 * SASL/SCRAM-SHA-512 logins with one principal per role, and Kafka's StandardAuthorizer denying
 * whatever no ACL allows. The controller listener takes only the broker's own certificate (mutual
 * TLS). Everything lives in the broker's data directory and is kept across restarts:
 * <ul>
 *   <li>{@code credentials/}: a Kafka client {@code <principal>.properties} per principal and the
 *       CA as {@code ca.pem}, for clients (owner-only files);</li>
 *   <li>{@code tls/}: the CA's key, the broker's key store and the principals' passwords.</li>
 * </ul>
 */
public final class BrokerSecurity {

    public static final String MECHANISM = "SCRAM-SHA-512";
    /** The principal with every right: it creates topics and ACLs, and reads whole logs (replay). */
    public static final String ADMIN = "admin";
    /** The broker's certificate subject: its own connections (broker to controller) act as this super user. */
    static final String BROKER_SUBJECT = "CN=ikd-broker";
    private static final int SCRAM_ITERATIONS = 8192;
    private static final Duration VALIDITY = Duration.ofDays(3650);
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private final Path credentials;
    private final Path tls;
    private final Map<String, String> passwords;
    private final String storePassword;

    private BrokerSecurity(Path credentials, Path tls, Map<String, String> passwords, String storePassword) {
        this.credentials = credentials;
        this.tls = tls;
        this.passwords = passwords;
        this.storePassword = storePassword;
    }

    /**
     * Sets up (or finds again) the CA, a fresh broker certificate naming {@code hosts}, and a
     * password and client file for every principal in {@code users} (the admin is always one).
     */
    static BrokerSecurity prepare(Path dataDir, List<String> users, Set<String> hosts) {
        Path credentials = dataDir.resolve("credentials");
        Path tls = dataDir.resolve("tls");
        try {
            for (Path dir : List.of(credentials, tls)) {
                Files.createDirectories(dir);
                ownerOnly(dir, "rwx------");
            }
            Certificates.Issued ca = authority(tls, credentials);
            Properties secrets = load(tls.resolve("secrets.properties"));
            boolean changed = false;
            Set<String> all = new LinkedHashSet<>();
            all.add(ADMIN);
            all.addAll(users);
            Map<String, String> passwords = new TreeMap<>();
            for (String user : all) {
                if (!user.matches("[A-Za-z0-9._-]{1,128}")) {
                    throw new BrokerException("principal names must be letters, digits, '.', '_' or '-', got '" + user + "'");
                }
                String key = "scram." + user;
                if (secrets.getProperty(key) == null) {
                    secrets.setProperty(key, secret());
                    changed = true;
                }
                passwords.put(user, secrets.getProperty(key));
            }
            if (secrets.getProperty("store") == null) {
                secrets.setProperty("store", secret());
                changed = true;
            }
            if (changed) {
                var text = new java.io.StringWriter();
                secrets.store(text, "passwords of the broker's principals and key store: keep private");
                writeOwnerOnly(tls.resolve("secrets.properties"), text.toString().getBytes(StandardCharsets.UTF_8));
            }
            var security = new BrokerSecurity(credentials, tls, passwords, secrets.getProperty("store"));
            security.writeKeyStore(ca, hosts);
            for (String user : all) {
                security.writeClientConfig(user);
            }
            return security;
        } catch (IOException e) {
            throw new BrokerException("cannot set up the broker's credentials in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    /** Where the client files are: one {@code <principal>.properties} each, and {@code ca.pem}. */
    public Path credentialsDir() {
        return credentials;
    }

    /** The Kafka client properties file of {@code principal}. */
    public Path clientConfig(String principal) {
        if (!passwords.containsKey(principal)) {
            throw new BrokerException("the broker has no principal " + principal + " (it has " + String.join(", ", passwords.keySet()) + ")");
        }
        return credentials.resolve(principal + ".properties");
    }

    /** The principals that can log in. */
    public Set<String> principals() {
        return passwords.keySet();
    }

    /** The client properties of {@code principal}, as a map (they hold its password: never log them). */
    public Map<String, Object> clientProperties(String principal) {
        Map<String, Object> p = new TreeMap<>();
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", MECHANISM);
        p.put("sasl.jaas.config", jaas(principal));
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", credentials.resolve("ca.pem").toAbsolutePath().toString());
        return p;
    }

    /** The broker's settings for a SASL_SSL client listener named {@code listener} and an SSL controller listener. */
    Map<String, String> brokerProperties(String listener, String controllerListener) {
        Map<String, String> p = new TreeMap<>();
        String l = listener.toLowerCase(java.util.Locale.ROOT);
        p.put("listener.security.protocol.map", listener + ":SASL_SSL," + controllerListener + ":SSL");
        p.put("sasl.enabled.mechanisms", MECHANISM);
        p.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        p.put("listener.name." + l + "." + MECHANISM.toLowerCase(java.util.Locale.ROOT) + ".sasl.jaas.config", jaas(ADMIN));
        p.put("ssl.keystore.type", "PKCS12");
        p.put("ssl.keystore.location", tls.resolve("broker.p12").toAbsolutePath().toString());
        p.put("ssl.keystore.password", storePassword);
        p.put("ssl.key.password", storePassword);
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", credentials.resolve("ca.pem").toAbsolutePath().toString());
        p.put("listener.name." + controllerListener.toLowerCase(java.util.Locale.ROOT) + ".ssl.client.auth", "required");
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:" + ADMIN + ";User:" + BROKER_SUBJECT);
        p.put("allow.everyone.if.no.acl.found", "false");
        return p;
    }

    /** The storage tool's arguments that create the admin's login when the log is formatted. */
    List<String> formatArguments() {
        return List.of("--add-scram", MECHANISM + "=[name=" + ADMIN + ",password=" + passwords.get(ADMIN) + "]");
    }

    /** Gives every principal that cannot log in yet its SCRAM credential (a restart with more students adds theirs). */
    void registerUsers(String bootstrap) {
        Map<String, Object> config = new TreeMap<>(clientProperties(ADMIN));
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(config)) {
            Set<String> known = new java.util.HashSet<>(admin.describeUserScramCredentials().all().get(30, TimeUnit.SECONDS).keySet());
            List<org.apache.kafka.clients.admin.UserScramCredentialAlteration> add = new ArrayList<>();
            for (var e : passwords.entrySet()) {
                if (!known.contains(e.getKey())) {
                    add.add(new UserScramCredentialUpsertion(e.getKey(),
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS), e.getValue()));
                }
            }
            if (!add.isEmpty()) {
                admin.alterUserScramCredentials(add).all().get(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerException("interrupted while adding the broker's principals", e);
        } catch (Exception e) {
            throw new BrokerException("cannot add the broker's principals: " + e.getClass().getSimpleName(), e);
        }
    }

    private String jaas(String principal) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + principal + "\" password=\""
            + passwords.get(principal) + "\";";
    }

    private void writeClientConfig(String principal) throws IOException {
        var p = new Properties();
        clientProperties(principal).forEach((k, v) -> p.setProperty(k, v.toString()));
        var text = new java.io.StringWriter();
        p.store(text, "Kafka client settings of principal " + principal + " (holds its password: keep private)");
        writeOwnerOnly(credentials.resolve(principal + ".properties"), text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** A fresh broker certificate for today's addresses, signed by the CA, in a PKCS#12 key store. */
    private void writeKeyStore(Certificates.Issued ca, Set<String> hosts) throws IOException {
        Set<String> names = new LinkedHashSet<>(List.of("127.0.0.1", "localhost"));
        names.addAll(hosts);
        names.remove("0.0.0.0");
        Certificates.Issued broker = Certificates.issue(ca, BROKER_SUBJECT.substring(3), names, VALIDITY);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("broker", broker.keys().getPrivate(), storePassword.toCharArray(),
                new Certificate[] {broker.certificate(), ca.certificate()});
            var bytes = new java.io.ByteArrayOutputStream();
            store.store(bytes, storePassword.toCharArray());
            writeOwnerOnly(tls.resolve("broker.p12"), bytes.toByteArray());
        } catch (GeneralSecurityException e) {
            throw new BrokerException("cannot write the broker's key store: " + e.getMessage(), e);
        }
    }

    /** The CA of this data directory: made on first start, read back after. */
    private static Certificates.Issued authority(Path tls, Path credentials) throws IOException {
        Path keyFile = tls.resolve("ca-key.pem");
        Path certFile = credentials.resolve("ca.pem");
        if (Files.exists(keyFile) && Files.exists(certFile)) {
            try {
                X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(Files.newInputStream(certFile));
                PrivateKey key = null;
                Matcher m = PEM.matcher(Files.readString(keyFile, StandardCharsets.US_ASCII));
                if (m.find()) {
                    key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(2))));
                }
                if (key == null) {
                    throw new BrokerException(keyFile + " holds no private key");
                }
                return new Certificates.Issued(new KeyPair(cert.getPublicKey(), key), cert);
            } catch (GeneralSecurityException e) {
                throw new BrokerException("cannot read the broker's CA from " + tls + ": " + e.getMessage(), e);
            }
        }
        Certificates.Issued ca = Certificates.authority("ikd broker CA", VALIDITY);
        writeOwnerOnly(keyFile, Certificates.pem(ca.keys().getPrivate()).getBytes(StandardCharsets.US_ASCII));
        writeOwnerOnly(certFile, Certificates.pem(ca.certificate()).getBytes(StandardCharsets.US_ASCII));
        return ca;
    }

    private static Properties load(Path file) throws IOException {
        var p = new Properties();
        if (Files.exists(file)) {
            try (Reader r = new StringReader(Files.readString(file, StandardCharsets.UTF_8))) {
                p.load(r);
            }
        }
        return p;
    }

    private static String secret() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Writes {@code bytes} to {@code file} through an owner-only temporary file, atomically. */
    static void writeOwnerOnly(Path file, byte[] bytes) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            Files.createFile(tmp);
            ownerOnly(tmp, "rw-------");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                out.write(bytes);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void ownerOnly(Path path, String permissions) throws IOException {
        if (path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        }
    }
}
