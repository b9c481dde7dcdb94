package dev.ikd.proto.sign;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;

/**
 * One sender's Ed25519 private key and the identity it signs as ({@code coordinator}, {@code teacher}
 * or a student id). {@link #toString} never shows the key.
 */
public final class SigningKey {

    public static final String ALGORITHM = "Ed25519";

    private final String identity;
    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    public SigningKey(String identity, PrivateKey privateKey, PublicKey publicKey) {
        this.identity = identity;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** A fresh key pair for {@code identity}. */
    public static SigningKey generate(String identity) {
        try {
            KeyPair pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
            return new SigningKey(identity, pair.getPrivate(), pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + ALGORITHM + ": " + e.getMessage(), e);
        }
    }

    public String identity() {
        return identity;
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    PrivateKey privateKey() {
        return privateKey;
    }

    /** The signature of {@code bytes}. */
    public byte[] sign(byte[] bytes) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(privateKey);
            s.update(bytes);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign as " + identity + ": " + e.getClass().getSimpleName(), e);
        }
    }

    @Override
    public String toString() {
        return "SigningKey[" + identity + "]";
    }
}
