package dev.ikd.proto.sign;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A run's signing keys on disk. {@code ikd keys --out DIR} makes one folder per role,
 * {@code DIR/<identity>/}, holding the run's manifest ({@code manifest.properties}: the public keys of
 * the coordinator, the teacher and every student, pinned) and that role's private key
 * ({@code <identity>.key}, readable by its owner only); {@code DIR/manifest.properties} alone, with
 * no private key, is for replay, export and the dashboard. Each machine gets its role's folder and
 * nothing else: a service started with {@code --keys DIR/student-0} can sign as student-0 only.
 */
public final class RunKeys {

    public static final String MANIFEST = "manifest.properties";
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
    private static final String STUDENT_KEY = "key.";

    private RunKeys() {
    }

    /**
     * Makes the keys of a run with {@code students} students under {@code dir}, one folder per role,
     * or keeps those already there (a restarted run signs with the keys it started with); a larger
     * {@code students} adds the new students' keys, and every manifest then pins them too.
     */
    public static RunManifest create(Path dir, String runId, int students) {
        return create(dir, runId, students, 1);
    }

    /** As {@link #create(Path, String, int)}, for a run of {@code teachers} teachers (several: each its own key). */
    public static RunManifest create(Path dir, String runId, int students, int teachers) {
        if (Files.exists(dir.resolve(MANIFEST))) {
            String existing = manifest(dir).runId();
            if (!existing.equals(runId)) {
                throw new IllegalArgumentException("--keys " + dir + " holds the keys of run " + existing + ", not " + runId);
            }
        }
        Map<String, PublicKey> keys = new LinkedHashMap<>();
        for (String identity : identities(students, teachers)) {
            Path role = dir.resolve(identity);
            Path file = role.resolve(identity + ".key");
            makeDirectory(role);
            if (!Files.exists(file)) {
                write(file, pem(SigningKey.generate(identity)));
            }
            keys.put(identity, signingKey(role, identity).publicKey());
        }
        // Students and teachers made before (a larger run's) stay pinned.
        if (Files.exists(dir.resolve(MANIFEST))) {
            manifest(dir).students().forEach(keys::putIfAbsent);
            manifest(dir).teachers().forEach(keys::putIfAbsent);
        }
        var p = new Properties();
        p.setProperty("run.id", runId);
        keys.forEach((identity, key) -> p.setProperty(STUDENT_KEY + identity, encode(key)));
        var text = new java.io.StringWriter();
        try {
            p.store(text, "ikd run manifest: the public keys every service checks signatures with, pinned per sender");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        replace(dir.resolve(MANIFEST), text.toString());
        for (String identity : keys.keySet()) {
            if (Files.isDirectory(dir.resolve(identity))) {
                replace(dir.resolve(identity).resolve(MANIFEST), text.toString());
            }
        }
        return manifest(dir);
    }

    /**
     * Where {@code identity}'s key is under {@code dir}: its own folder when {@code dir} is a run's
     * keys as {@link #create} made them ({@code ikd local --secure}), or {@code dir} itself when it is
     * that folder, handed to one machine ({@code --keys DIR/student-0}).
     */
    public static Path roleDirectory(Path dir, String identity) {
        Path own = dir.resolve(identity);
        return Files.isRegularFile(own.resolve(identity + ".key")) ? own : dir;
    }

    /** The coordinator, the teacher and {@code student-0} ... {@code student-(n-1)}. */
    public static List<String> identities(int students) {
        return identities(students, 1);
    }

    /** As {@link #identities(int)}, and with several teachers teacher-a, teacher-b, ... too. */
    public static List<String> identities(int students, int teachers) {
        var all = new java.util.ArrayList<>(List.of(RunManifest.COORDINATOR, RunManifest.TEACHER));
        for (int k = 0; teachers > 1 && k < teachers; k++) {
            all.add(dev.ikd.proto.envelope.Envelopes.teacherId(k, teachers));
        }
        for (int i = 0; i < students; i++) {
            all.add(dev.ikd.proto.envelope.Envelopes.studentId(i));
        }
        return all;
    }

    /** The manifest in {@code dir}; a missing or broken one is an error naming the file. */
    public static RunManifest manifest(Path dir) {
        Path file = dir.resolve(MANIFEST);
        var p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--keys " + dir + ": cannot read " + MANIFEST + " ("
                + dev.ikd.proto.kafka.KafkaAccess.why(e) + ")");
        }
        try {
            Map<String, PublicKey> students = new TreeMap<>();
            Map<String, PublicKey> teachers = new TreeMap<>();
            for (String name : p.stringPropertyNames()) {
                String identity = name.startsWith(STUDENT_KEY) ? name.substring(STUDENT_KEY.length()) : null;
                if (identity != null && !identity.equals(RunManifest.COORDINATOR) && !identity.equals(RunManifest.TEACHER)) {
                    if (dev.ikd.proto.envelope.Envelopes.isTeacherId(identity)) {
                        teachers.put(identity, publicKey(p.getProperty(name), name));
                        continue;
                    }
                    if (!dev.ikd.proto.envelope.Envelopes.isStudentId(identity)) {
                        throw new IllegalArgumentException("pins a key for '" + identity + "', which is not a student id (student-N) "
                            + "nor a teacher's (teacher-a, ...)");
                    }
                    students.put(identity, publicKey(p.getProperty(name), name));
                }
            }
            return new RunManifest(p.getProperty("run.id", ""), publicKey(p.getProperty("key.coordinator"), "key.coordinator"),
                publicKey(p.getProperty("key.teacher"), "key.teacher"), students, teachers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--keys " + dir + ": " + MANIFEST + " " + e.getMessage());
        }
    }

    /** The private key {@code identity} signs with, from {@code dir/<identity>.key}. */
    public static SigningKey signingKey(Path dir, String identity) {
        Path file = dir.resolve(identity + ".key");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("--keys " + dir + " has no private key for " + identity + " (" + file.getFileName() + ")");
        }
        PrivateKey privateKey = null;
        PublicKey publicKey = null;
        Matcher m = PEM.matcher(text);
        try {
            while (m.find()) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(2));
                if ("PRIVATE KEY".equals(m.group(1))) {
                    privateKey = KeyFactory.getInstance(SigningKey.ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
                } else if ("PUBLIC KEY".equals(m.group(1))) {
                    publicKey = KeyFactory.getInstance(SigningKey.ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
                }
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException(file.getFileName() + " in " + dir + " is not an " + SigningKey.ALGORITHM + " key pair");
        }
        if (privateKey == null || publicKey == null) {
            throw new IllegalArgumentException(file.getFileName() + " in " + dir + " must hold a PRIVATE KEY and a PUBLIC KEY block");
        }
        return new SigningKey(identity, privateKey, publicKey);
    }

    /** An X.509-encoded Ed25519 public key; anything else is an IllegalArgumentException. */
    public static PublicKey publicKey(byte[] x509) {
        try {
            return KeyFactory.getInstance(SigningKey.ALGORITHM).generatePublic(new X509EncodedKeySpec(x509));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("is not an " + SigningKey.ALGORITHM + " public key");
        }
    }

    private static PublicKey publicKey(String base64, String name) {
        if (base64 == null || base64.isBlank()) {
            throw new IllegalArgumentException("lacks " + name);
        }
        try {
            return publicKey(Base64.getDecoder().decode(base64.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("holds a " + name + " that " + e.getMessage());
        }
    }

    private static String encode(PublicKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    private static String pem(SigningKey key) {
        return block("PRIVATE KEY", key.privateKey().getEncoded()) + block("PUBLIC KEY", key.publicKey().getEncoded());
    }

    private static String block(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
            + "\n-----END " + type + "-----\n";
    }

    private static void makeDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
            ownerOnly(dir, "rwx------");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the key directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code text} over {@code file} (owner-only), atomically. */
    private static void replace(Path file, String text) {
        makeDirectory(file.getParent());
        try {
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        write(file, text);
    }

    /** Writes {@code text} to a new owner-only file, atomically. */
    static void write(Path file, String text) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            Files.createFile(tmp);
            ownerOnly(tmp, "rw-------");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
                w.write(text);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            throw new UncheckedIOException("cannot write " + file + ": it appeared meanwhile", e);
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
