package dev.mpt.optim.parallel;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mutual authentication of two ranks by HMAC-SHA256 challenge-response; the secret never crosses
 * the wire. The connecting rank (client) and the accepting rank (server) exchange:
 *
 * <pre>
 * client -> server  HELLO     rank_c, world, port_c, nonce_c (32 random bytes), host_c
 * server -> client  CHALLENGE nonce_s (32 random bytes), rank_s,
 *                             mac_s = HMAC(secret, "mpt-server" | HELLO | nonce_s | rank_s)
 * client -> server  AUTH      mac_c = HMAC(secret, "mpt-client" | HELLO | nonce_s | rank_s)
 * server -> client  ACCEPT    (empty), or the server closes the connection
 * </pre>
 *
 * Each side proves it holds the secret over a transcript that includes the other side's fresh
 * nonce (no replay) and a role label (a server's answer cannot be reflected as a client's). The MACs
 * also cover the ranks, the world size and the advertised address, so none can be altered in
 * flight. MACs are compared in constant time ({@link MessageDigest#isEqual}).
 */
final class Handshake {

    static final int NONCE_BYTES = 32;
    static final int MAC_BYTES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] SERVER_LABEL = "mpt-server".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_LABEL = "mpt-client".getBytes(StandardCharsets.US_ASCII);

    private Handshake() {
    }

    /** What an authenticated client said about itself. */
    record Hello(int rank, int world, int port, String host) {
    }

    /** A failed authentication: the peer does not hold this job's secret or does not belong here. */
    static final class AuthenticationException extends IOException {
        AuthenticationException(String message) {
            super(message);
        }
    }

    /**
     * The client's side: authenticates to the rank {@code expectedRank} at the other end of
     * {@code ch} and proves this rank's identity to it.
     *
     * @throws AuthenticationException if the server is not {@code expectedRank} or cannot prove the
     *                                 secret, or closed the connection instead of accepting
     */
    static void client(SocketChannel ch, Selector sel, JobSecret secret, int rank, int world, int expectedRank,
            InetSocketAddress advertised, long deadline, String peer, AtomicLong sent) throws IOException {
        // a listener on all interfaces advertises no host: rank 0 then uses the address it sees
        boolean wildcard = advertised.getAddress() != null && advertised.getAddress().isAnyLocalAddress();
        byte[] host = (wildcard ? "" : advertised.getHostString()).getBytes(StandardCharsets.UTF_8);
        if (host.length > Frame.MAX_HOST_BYTES) {
            throw new IllegalArgumentException("TcpCollective: host name '" + advertised.getHostString() + "' has "
                    + host.length + " bytes, at most " + Frame.MAX_HOST_BYTES);
        }
        ByteBuffer hello = ByteBuffer.allocate(16 + NONCE_BYTES + 1 + host.length).order(ByteOrder.LITTLE_ENDIAN);
        hello.putInt(rank).putInt(world).putInt(advertised.getPort()).putInt(0).put(nonce());
        hello.put((byte) host.length).put(host).flip();
        Frame.writeFully(ch, sel, Frame.frame(Frame.HELLO, hello), deadline, peer, sent);

        ByteBuffer challenge = Frame.read(ch, sel, Frame.CHALLENGE, deadline, peer);
        if (challenge.remaining() != Frame.maxPayload(Frame.CHALLENGE)) {
            throw new Frame.FrameException("malformed CHALLENGE from " + peer + ": " + challenge.remaining()
                    + " bytes");
        }
        byte[] nonceS = new byte[NONCE_BYTES];
        challenge.get(nonceS);
        int rankS = challenge.getInt();
        byte[] macS = new byte[MAC_BYTES];
        challenge.get(macS);
        if (!MessageDigest.isEqual(macS, mac(secret, SERVER_LABEL, hello, nonceS, rankS))) {
            throw new AuthenticationException(peer + " could not prove the job secret (another job's rank, or not "
                    + "an mpt rank)");
        }
        if (rankS != expectedRank) {
            throw new AuthenticationException(peer + " is rank " + rankS + ", not the expected rank " + expectedRank);
        }
        ByteBuffer auth = ByteBuffer.wrap(mac(secret, CLIENT_LABEL, hello, nonceS, rankS));
        Frame.writeFully(ch, sel, Frame.frame(Frame.AUTH, auth), deadline, peer, sent);
        try {
            Frame.read(ch, sel, Frame.ACCEPT, deadline, peer);
        } catch (EOFException e) {
            throw new AuthenticationException(peer + " closed the connection instead of accepting rank " + rank
                    + ": it has another secret or world size, or already has a rank " + rank);
        }
    }

    /**
     * The server's side, up to (not including) ACCEPT: reads the client's HELLO, proves this rank
     * holds the secret and checks the client's proof. The caller decides whether the client's rank
     * is welcome and then calls {@link #accept} or closes the connection.
     *
     * @throws AuthenticationException if the client's proof is wrong or its world size differs
     */
    static Hello server(SocketChannel ch, Selector sel, JobSecret secret, int rank, int world, long deadline,
            String peer, AtomicLong sent) throws IOException {
        ByteBuffer hello = Frame.read(ch, sel, Frame.HELLO, deadline, peer);
        if (hello.remaining() < 16 + NONCE_BYTES + 1) {
            throw new Frame.FrameException("malformed HELLO from " + peer + ": " + hello.remaining() + " bytes");
        }
        ByteBuffer h = hello.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int rankC = h.getInt();
        int worldC = h.getInt();
        int port = h.getInt();
        h.getInt();
        h.position(h.position() + NONCE_BYTES);
        int hostLength = Byte.toUnsignedInt(h.get());
        if (h.remaining() != hostLength || port < 0 || port > 0xFFFF) {
            throw new Frame.FrameException("malformed HELLO from " + peer + ": host length " + hostLength + " with "
                    + h.remaining() + " bytes left, port " + port);
        }
        byte[] host = new byte[hostLength];
        h.get(host);

        byte[] nonceS = nonce();
        ByteBuffer challenge = ByteBuffer.allocate(Frame.maxPayload(Frame.CHALLENGE)).order(ByteOrder.LITTLE_ENDIAN);
        challenge.put(nonceS).putInt(rank).put(mac(secret, SERVER_LABEL, hello, nonceS, rank)).flip();
        Frame.writeFully(ch, sel, Frame.frame(Frame.CHALLENGE, challenge), deadline, peer, sent);

        ByteBuffer auth = Frame.read(ch, sel, Frame.AUTH, deadline, peer);
        byte[] macC = new byte[auth.remaining()];
        auth.get(macC);
        if (!MessageDigest.isEqual(macC, mac(secret, CLIENT_LABEL, hello, nonceS, rank))) {
            throw new AuthenticationException(peer + " failed authentication: it does not hold this job's secret");
        }
        if (worldC != world) {
            throw new AuthenticationException(peer + " (rank " + rankC + ") belongs to a job of " + worldC
                    + " ranks, this one has " + world);
        }
        return new Hello(rankC, worldC, port, new String(host, StandardCharsets.UTF_8));
    }

    /** Tells an authenticated client it is welcome. */
    static void accept(SocketChannel ch, Selector sel, long deadline, String peer, AtomicLong sent)
            throws IOException {
        Frame.writeFully(ch, sel, Frame.frame(Frame.ACCEPT, ByteBuffer.allocate(0)), deadline, peer, sent);
    }

    private static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    private static byte[] mac(JobSecret secret, byte[] label, ByteBuffer hello, byte[] nonceS, int rankS) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(secret.key(), "HmacSHA256"));
            m.update(label);
            m.update(hello.duplicate());
            m.update(nonceS);
            m.update(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, rankS));
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TcpCollective: HmacSHA256 is not available in this JVM", e);
        }
    }
}
