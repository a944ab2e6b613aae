package dev.mpt.optim.parallel;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The per-job secret with which the ranks of a {@link TcpCollective} authenticate each other: at
 * least {@value #MIN_BYTES} random bytes, made by the launcher with {@link #random()} and handed to
 * every rank (in the environment variable {@code MPT_SECRET} as hex, or in a Spark task's closure).
 * There is no default secret: a rank without one cannot join. The secret itself never crosses the
 * wire (see {@link TcpCollective}); {@link #toString()} does not show it.
 */
public final class JobSecret {

    /** The fewest bytes a secret may have (256 bits, the HMAC-SHA256 key size). */
    public static final int MIN_BYTES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;

    private JobSecret(byte[] key) {
        this.key = key;
    }

    /** A new secret of {@value #MIN_BYTES} bytes from {@link SecureRandom}. */
    public static JobSecret random() {
        byte[] k = new byte[MIN_BYTES];
        RANDOM.nextBytes(k);
        return new JobSecret(k);
    }

    /**
     * The secret written by {@link #toHex()}.
     *
     * @throws IllegalArgumentException if {@code hex} is not hexadecimal or has fewer than
     *                                  {@value #MIN_BYTES} bytes (the message does not repeat it)
     */
    public static JobSecret fromHex(String hex) {
        Objects.requireNonNull(hex, "JobSecret.fromHex: hex is null");
        byte[] k;
        try {
            k = HexFormat.of().parseHex(hex.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("JobSecret.fromHex: the secret is not an even number of hex digits ("
                    + hex.strip().length() + " characters)");
        }
        if (k.length < MIN_BYTES) {
            throw new IllegalArgumentException("JobSecret.fromHex: the secret has " + k.length + " bytes, at least "
                    + MIN_BYTES + " are needed; make one with JobSecret.random()");
        }
        return new JobSecret(k);
    }

    /** The secret as lower-case hex, to hand to a rank; keep it out of command lines and logs. */
    public String toHex() {
        return HexFormat.of().formatHex(key);
    }

    /** The key bytes (not copied: callers in this package only read them). */
    byte[] key() {
        return key;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JobSecret s && MessageDigest.isEqual(key, s.key);
    }

    @Override
    public int hashCode() {
        return key.length;
    }

    /** Says how long the secret is, never what it is. */
    @Override
    public String toString() {
        return "JobSecret[" + key.length + " bytes, hidden]";
    }
}
