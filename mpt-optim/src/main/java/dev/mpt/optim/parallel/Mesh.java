package dev.mpt.optim.parallel;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the full mesh of authenticated connections of a {@link TcpCollective}: rank {@code i}
 * connects to every lower rank and accepts every higher one, so each pair has one connection. The
 * ranks' addresses are either given ({@link #connect}) or learnt from rank 0 ({@link #rendezvous}):
 * every other rank connects to rank 0 first and tells it where it listens; once all have come,
 * rank 0 sends everyone the table of addresses.
 *
 * <p>Connecting retries (20 ms, doubling to 500 ms) until the start-up deadline, since peers start
 * in any order; a peer that answers but fails authentication ends the start-up at once. Accepted
 * connections are authenticated each on its own virtual thread with a deadline, so a stray or
 * hostile connection that stalls or sends garbage is logged, closed and does not delay the real
 * ranks. The listener is closed once every expected rank has arrived.
 */
final class Mesh {

    private static final Logger LOG = LoggerFactory.getLogger(TcpCollective.class);
    private static final long FIRST_RETRY_MS = 20;
    private static final long LAST_RETRY_MS = 500;

    /** What every rank of a job agrees on. */
    record Settings(int rank, int world, JobSecret secret, Duration timeout, Duration startupTimeout) {
    }

    private Mesh() {
    }

    /** The mesh among ranks at the given addresses; this rank listens on {@code listener}. */
    static SocketChannel[] connect(Settings s, ServerSocketChannel listener, List<InetSocketAddress> peers,
            AtomicLong sent) throws IOException {
        long deadline = System.nanoTime() + s.startupTimeout().toNanos();
        SocketChannel[] links = new SocketChannel[s.world()];
        Set<Integer> higher = new TreeSet<>();
        for (int r = s.rank() + 1; r < s.world(); r++) {
            higher.add(r);
        }
        InetSocketAddress self = (InetSocketAddress) listener.getLocalAddress();
        try (Acceptor acceptor = new Acceptor(s, listener, higher, deadline, sent)) {
            for (int r = 0; r < s.rank(); r++) {
                links[r] = dial(s, r, peers.get(r), self, deadline, sent);
            }
            acceptor.await().forEach((r, link) -> links[r] = link.channel());
            return links;
        } catch (RuntimeException | IOException e) {
            closeAll(links);
            throw e;
        }
    }

    /** The mesh built through rank 0, which listens at {@code master}; this rank listens on {@code listener}. */
    static SocketChannel[] rendezvous(Settings s, ServerSocketChannel listener, InetSocketAddress master,
            AtomicLong sent) throws IOException {
        long deadline = System.nanoTime() + s.startupTimeout().toNanos();
        SocketChannel[] links = new SocketChannel[s.world()];
        Set<Integer> expected = new TreeSet<>();
        for (int r = s.rank() + 1; r < s.world(); r++) {
            expected.add(r);
        }
        InetSocketAddress self = (InetSocketAddress) listener.getLocalAddress();
        try (Acceptor acceptor = new Acceptor(s, listener, expected, deadline, sent)) {
            if (s.rank() == 0) {
                Map<Integer, Link> all = acceptor.await();
                ByteBuffer table = peerTable(s.world(), all, self);
                for (Link l : all.values()) {
                    links[l.rank()] = l.channel();
                    try (Selector sel = Selector.open()) {
                        Frame.writeFully(l.channel(), sel, Frame.frame(Frame.PEERS, table), deadline,
                                "rank " + l.rank(), sent);
                    }
                }
                return links;
            }
            links[0] = dial(s, 0, master, self, deadline, sent);
            List<InetSocketAddress> peers;
            try (Selector sel = Selector.open()) {
                peers = parsePeerTable(Frame.read(links[0], sel, Frame.PEERS, deadline, "rank 0 at " + master),
                        s.world());
            } catch (SocketTimeoutException e) {
                throw new CollectiveException(0, "TcpCollective: rank " + s.rank() + " waited "
                        + s.startupTimeout() + " for rank 0 to send the ranks' addresses; a rank did not start", e);
            }
            for (int r = 1; r < s.rank(); r++) {
                links[r] = dial(s, r, peers.get(r), self, deadline, sent);
            }
            acceptor.await().forEach((r, link) -> links[r] = link.channel());
            return links;
        } catch (RuntimeException | IOException e) {
            closeAll(links);
            throw e;
        }
    }

    static void closeAll(SocketChannel[] links) {
        for (SocketChannel c : links) {
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing: nothing left to do with it
                }
            }
        }
    }

    /** Connects to {@code peer} (rank {@code r}) and authenticates, retrying refusals until the deadline. */
    private static SocketChannel dial(Settings s, int r, InetSocketAddress peer, InetSocketAddress self,
            long deadline, AtomicLong sent) throws IOException {
        String name = "rank " + r + " at " + peer;
        long backoff = FIRST_RETRY_MS;
        IOException last;
        while (true) {
            SocketChannel ch = SocketChannel.open();
            try (Selector sel = Selector.open()) {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                long opDeadline = Math.min(deadline, System.nanoTime() + s.timeout().toNanos());
                if (!ch.connect(peer)) {
                    ch.register(sel, SelectionKey.OP_CONNECT);
                    long left = opDeadline - System.nanoTime();
                    if (left <= 0 || sel.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) == 0) {
                        throw new SocketTimeoutException("connecting to " + name + " timed out");
                    }
                    ch.finishConnect();
                    sel.selectedKeys().clear();
                }
                Handshake.client(ch, sel, s.secret(), s.rank(), s.world(), r, self, opDeadline, name, sent);
                sel.close();
                LOG.debug("rank {} connected to {}", s.rank(), name);
                return ch;
            } catch (Handshake.AuthenticationException | Frame.FrameException e) {
                ch.close();
                throw new CollectiveException(r, "TcpCollective: rank " + s.rank() + " could not join: "
                        + e.getMessage(), e);
            } catch (IOException e) {
                ch.close();
                last = e;
            }
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) - deadline > 0) {
                throw new CollectiveException(r, "TcpCollective: rank " + s.rank() + " could not connect to " + name
                        + " within the start-up timeout " + s.startupTimeout() + " (" + last + "); did rank " + r
                        + " start, and does it listen there?", last);
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException(-1, "TcpCollective: rank " + s.rank() + " was interrupted while "
                        + "connecting to " + name, e);
            }
            backoff = Math.min(2 * backoff, LAST_RETRY_MS);
        }
    }

    private static ByteBuffer peerTable(int world, Map<Integer, Link> links, InetSocketAddress self) {
        List<byte[]> hosts = new ArrayList<>();
        int[] ports = new int[world];
        int size = 0;
        for (int r = 0; r < world; r++) {
            String host;
            if (r == 0) {
                host = self.getHostString();
                ports[r] = self.getPort();
            } else {
                Link l = links.get(r);
                host = l.hello().host().isEmpty() ? l.remoteHost() : l.hello().host();
                ports[r] = l.hello().port();
            }
            byte[] h = host.getBytes(StandardCharsets.UTF_8);
            hosts.add(h);
            size += 1 + h.length + 4;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < world; r++) {
            b.put((byte) hosts.get(r).length).put(hosts.get(r)).putInt(ports[r]);
        }
        return b.flip();
    }

    private static List<InetSocketAddress> parsePeerTable(ByteBuffer b, int world) throws Frame.FrameException {
        List<InetSocketAddress> peers = new ArrayList<>(world);
        for (int r = 0; r < world; r++) {
            if (b.remaining() < 1) {
                throw new Frame.FrameException("malformed PEERS from rank 0: " + r + " of " + world + " addresses");
            }
            int len = Byte.toUnsignedInt(b.get());
            if (b.remaining() < len + 4) {
                throw new Frame.FrameException("malformed PEERS from rank 0: address " + r + " is cut short");
            }
            byte[] host = new byte[len];
            b.get(host);
            int port = b.getInt();
            if (port < 0 || port > 0xFFFF) {
                throw new Frame.FrameException("malformed PEERS from rank 0: port " + port + " for rank " + r);
            }
            peers.add(InetSocketAddress.createUnresolved(new String(host, StandardCharsets.UTF_8), port));
        }
        if (b.hasRemaining()) {
            throw new Frame.FrameException("malformed PEERS from rank 0: " + b.remaining() + " bytes after the table");
        }
        List<InetSocketAddress> resolved = new ArrayList<>(world);
        for (InetSocketAddress a : peers) {
            resolved.add(new InetSocketAddress(a.getHostString(), a.getPort()));
        }
        return resolved;
    }

    /** An authenticated connection from a higher rank. */
    private record Link(int rank, SocketChannel channel, Handshake.Hello hello, String remoteHost) {
    }

    /** Accepts and authenticates the expected ranks on virtual threads until all came or the deadline. */
    private static final class Acceptor implements AutoCloseable {
        private final Settings s;
        private final ServerSocketChannel listener;
        private final Set<Integer> expected;
        private final long deadline;
        private final AtomicLong sent;
        private final Map<Integer, Link> arrived = new HashMap<>();
        private boolean done;
        private boolean handedOver;

        Acceptor(Settings s, ServerSocketChannel listener, Set<Integer> expected, long deadline, AtomicLong sent)
                throws IOException {
            this.s = s;
            this.listener = listener;
            this.expected = expected;
            this.deadline = deadline;
            this.sent = sent;
            listener.configureBlocking(true);
            if (!expected.isEmpty()) {
                Thread.ofVirtual().name("mpt-accept-rank-" + s.rank()).start(this::acceptLoop);
            }
        }

        private void acceptLoop() {
            while (true) {
                SocketChannel ch;
                try {
                    ch = listener.accept();
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    LOG.warn("rank {}: accepting a connection failed: {}", s.rank(), e.toString());
                    continue;
                }
                Thread.ofVirtual().name("mpt-handshake-rank-" + s.rank()).start(() -> authenticate(ch));
            }
        }

        private void authenticate(SocketChannel ch) {
            String who = "connection from " + remote(ch);
            try (Selector sel = Selector.open()) {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                long opDeadline = Math.min(deadline, System.nanoTime() + s.timeout().toNanos());
                Handshake.Hello hello = Handshake.server(ch, sel, s.secret(), s.rank(), s.world(), opDeadline, who,
                        sent);
                synchronized (this) {
                    if (done || !expected.contains(hello.rank()) || arrived.containsKey(hello.rank())) {
                        throw new Handshake.AuthenticationException(who + " authenticated as rank " + hello.rank()
                                + ", which rank " + s.rank() + " does not expect (or already has)");
                    }
                    Handshake.accept(ch, sel, opDeadline, who, sent);
                    String remoteHost = ((InetSocketAddress) ch.getRemoteAddress()).getAddress().getHostAddress();
                    arrived.put(hello.rank(), new Link(hello.rank(), ch, hello, remoteHost));
                    notifyAll();
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("rank {} closed a connection that did not authenticate: {}", s.rank(), e.getMessage());
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the connection is dropped either way
                }
            }
        }

        synchronized Map<Integer, Link> await() {
            while (arrived.size() < expected.size()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    Set<Integer> missing = new TreeSet<>(expected);
                    missing.removeAll(arrived.keySet());
                    throw new CollectiveException(missing.size() == 1 ? missing.iterator().next() : -1,
                            "TcpCollective: rank " + s.rank() + " waited " + s.startupTimeout() + " for rank(s) "
                                    + missing + " to connect; did they start, with the same secret and world size?",
                            null);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CollectiveException(-1, "TcpCollective: rank " + s.rank() + " was interrupted while "
                            + "waiting for the other ranks to connect", e);
                }
            }
            done = true;
            handedOver = true;
            return Map.copyOf(arrived);
        }

        /** Stops accepting; connections that arrived but were not handed over (start-up failed) are closed. */
        @Override
        public void close() throws IOException {
            synchronized (this) {
                done = true;
                if (!handedOver) {
                    for (Link l : arrived.values()) {
                        l.channel().close();
                    }
                }
            }
            listener.close();
        }

        private static String remote(SocketChannel ch) {
            try {
                return String.valueOf(ch.getRemoteAddress());
            } catch (IOException e) {
                return "an unknown address";
            }
        }
    }
}
