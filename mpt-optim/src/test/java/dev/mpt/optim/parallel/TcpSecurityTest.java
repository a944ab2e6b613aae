package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Connections without the job's secret, or that break the frame format, are closed; the job goes on. */
class TcpSecurityTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(1);

    @Test
    void strangersAreTurnedAwayAndTheJobGoesOn() throws Exception {
        JobSecret secret = JobSecret.random();
        List<ServerSocketChannel> ls = Ranks.listeners(2);
        List<InetSocketAddress> peers = Ranks.addresses(ls);
        CountDownLatch strangersDone = new CountDownLatch(1);
        List<Future<double[]>> ranks = Ranks.submit(2, r -> {
            if (r == 1) {
                // the strangers below come first: once rank 1 joins, rank 0 stops listening
                assertTrue(strangersDone.await(30, TimeUnit.SECONDS));
            }
            try (TcpCollective c = TcpCollective.builder().rank(r).worldSize(2).secret(secret).timeout(TIMEOUT)
                    .startupTimeout(Duration.ofSeconds(10)).listener(ls.get(r)).peers(peers).connect()) {
                return c.allGather(new double[] {r + 0.5});
            }
        });
        InetSocketAddress rank0 = peers.get(0);

        // garbage: an HTTP request is not a frame (wrong magic)
        try (SocketChannel ch = SocketChannel.open(rank0)) {
            ch.write(StandardCharsets.US_ASCII.encode("GET / HTTP/1.1\r\nHost: mpt\r\n\r\n"));
            assertClosedByPeer(ch);
        }
        // a header announcing a 2 GiB HELLO: closed before anything is allocated
        try (SocketChannel ch = SocketChannel.open(rank0)) {
            ch.write(header(Frame.HELLO, Integer.MAX_VALUE));
            assertClosedByPeer(ch);
        }
        // a well-formed HELLO claiming rank 1, then an AUTH that is not the HMAC of the secret
        try (SocketChannel ch = SocketChannel.open(rank0)) {
            ByteBuffer hello = ByteBuffer.allocate(16 + Handshake.NONCE_BYTES + 1).order(ByteOrder.LITTLE_ENDIAN);
            hello.putInt(1).putInt(2).putInt(1234).putInt(0).put(new byte[Handshake.NONCE_BYTES]).put((byte) 0);
            ch.write(Frame.frame(Frame.HELLO, hello.flip()));
            ByteBuffer challenge = ByteBuffer.allocate(Frame.HEADER_BYTES + Frame.maxPayload(Frame.CHALLENGE));
            while (challenge.hasRemaining() && ch.read(challenge) >= 0) {
                // the server proves itself first; the stranger cannot check it and guesses
            }
            ch.write(Frame.frame(Frame.AUTH, ByteBuffer.allocate(Handshake.MAC_BYTES)));
            assertClosedByPeer(ch);
        }
        strangersDone.countDown();
        // the job still runs, unharmed
        for (Future<double[]> f : ranks) {
            assertArrayEquals(new double[] {0.5, 1.5}, f.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aRankWithAnotherSecretCannotJoin() throws Exception {
        List<ServerSocketChannel> ls = Ranks.listeners(2);
        List<InetSocketAddress> peers = Ranks.addresses(ls);
        JobSecret[] secrets = {JobSecret.random(), JobSecret.random()};
        List<Future<Object>> ranks = Ranks.submit(2, r -> TcpCollective.builder().rank(r).worldSize(2)
                .secret(secrets[r]).timeout(TIMEOUT).startupTimeout(Duration.ofSeconds(1)).listener(ls.get(r))
                .peers(peers).connect());
        CollectiveException e1 = cause(ranks.get(1));
        assertEquals(0, e1.rank());
        assertTrue(e1.getMessage().contains("rank 0 at " + peers.get(0) + " could not prove the job secret"),
                e1.getMessage());
        CollectiveException e0 = cause(ranks.get(0));
        assertEquals(1, e0.rank());
        assertTrue(e0.getMessage().contains("for rank(s) [1] to connect"), e0.getMessage());
    }

    @Test
    void malformedHeadersAreNamedWithThePeer() {
        Frame.FrameException e = assertThrows(Frame.FrameException.class,
                () -> Frame.parse(header(Frame.HELLO, -1), "connection from /10.0.0.9:4000"));
        assertEquals("over-size frame from connection from /10.0.0.9:4000: a HELLO frame of 4294967295 bytes, "
                + "at most " + Frame.maxPayload(Frame.HELLO) + " allowed", e.getMessage());
        ByteBuffer bad = header((byte) 42, 0);
        e = assertThrows(Frame.FrameException.class, () -> Frame.parse(bad, "rank 3"));
        assertEquals("malformed frame from rank 3: unknown frame type 42", e.getMessage());
        ByteBuffer http = StandardCharsets.US_ASCII.encode("GET / HTTP/1.1\r\n").order(ByteOrder.LITTLE_ENDIAN);
        e = assertThrows(Frame.FrameException.class, () -> Frame.parse(http, "rank 1"));
        assertTrue(e.getMessage().startsWith("malformed frame from rank 1: magic 0x20544547"), e.getMessage());
    }

    private static ByteBuffer header(byte type, int length) {
        ByteBuffer b = ByteBuffer.allocate(Frame.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        Frame.putHeader(b, type, (byte) 0, 0, length);
        return b.flip();
    }

    /** The server closes the connection: a read sees end-of-stream or a reset, within 3 s. */
    private static void assertClosedByPeer(SocketChannel ch) throws IOException {
        ch.socket().setSoTimeout(3000);
        try {
            int n;
            byte[] sink = new byte[4096];
            do {
                n = ch.socket().getInputStream().read(sink);
            } while (n > 0);
            assertEquals(-1, n);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept a bad connection open", e);
        } catch (IOException reset) {
            // connection reset: closed too
        }
    }

    private static CollectiveException cause(Future<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        if (e.getCause() instanceof CollectiveException c) {
            return c;
        }
        throw new AssertionError("expected a CollectiveException", e.getCause());
    }
}
