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
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A run's signing keys on disk ({@code --keys DIR}): {@code manifest.properties} holds the run's
 * manifest (the coordinator's and the teacher's public keys), and {@code <identity>.key} each
 * sender's private key, readable by its owner only. A machine needs the manifest and its own key;
 * {@code ikd keys} and {@code ikd local --secure} make them all.
 */
public final class RunKeys {

    public static final String MANIFEST = "manifest.properties";
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private RunKeys() {
    }

    /**
     * Makes the keys of a run with {@code students} students in {@code dir}, or keeps those already
     * there (a restarted run signs with the keys it started with).
     */
    public static RunManifest create(Path dir, String runId, int students) {
        try {
            Files.createDirectories(dir);
            ownerOnly(dir, "rwx------");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the key directory " + dir + ": " + e.getMessage(), e);
        }
        for (String identity : identities(students)) {
            Path file = dir.resolve(identity + ".key");
            if (!Files.exists(file)) {
                write(file, pem(SigningKey.generate(identity)));
            }
        }
        Path manifest = dir.resolve(MANIFEST);
        if (!Files.exists(manifest)) {
            var p = new Properties();
            p.setProperty("run.id", runId);
            p.setProperty("key.coordinator", encode(signingKey(dir, RunManifest.COORDINATOR).publicKey()));
            p.setProperty("key.teacher", encode(signingKey(dir, RunManifest.TEACHER).publicKey()));
            var text = new java.io.StringWriter();
            try {
                p.store(text, "ikd run manifest: the public keys every service checks signatures with");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            write(manifest, text.toString());
        }
        return manifest(dir);
    }

    /** The coordinator, the teacher and {@code student-0} ... {@code student-(n-1)}. */
    public static List<String> identities(int students) {
        var all = new java.util.ArrayList<>(List.of(RunManifest.COORDINATOR, RunManifest.TEACHER));
        for (int i = 0; i < students; i++) {
            all.add("student-" + i);
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
            return new RunManifest(p.getProperty("run.id", ""), publicKey(p.getProperty("key.coordinator")),
                publicKey(p.getProperty("key.teacher")));
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

    private static PublicKey publicKey(String base64) {
        if (base64 == null || base64.isBlank()) {
            throw new IllegalArgumentException("lacks a public key");
        }
        try {
            return publicKey(Base64.getDecoder().decode(base64.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("holds a key that " + e.getMessage());
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
