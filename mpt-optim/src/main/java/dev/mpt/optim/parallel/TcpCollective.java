package dev.mpt.optim.parallel;

import dev.mpt.core.number.DType;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Collective} whose ranks are processes, on one host or many, joined by TCP over
 * {@code java.nio}. Results are bit-identical to {@link InProcessCollective}'s: the owner of each
 * shard receives every rank's slice and sums them itself, in rank order, in FP32.
 *
 * <p><b>Topology.</b> A full mesh, one connection per pair of ranks: in a reduce-scatter each
 * rank sends each owner only that owner's slice, and in an all-gather its own shard to every other
 * rank, so every rank sends {@code (N-1)/N} of the vector per call (2 bytes per element for 16-bit
 * data, plus a {@value Frame#HEADER_BYTES}-byte header per peer) and no rank is a hub. (A star
 * through rank 0 would make rank 0 send {@code N-1} times more than the others.) One thread drives
 * all connections of a rank through a {@link Selector}, writing to and reading from every peer at
 * once, so no pair can deadlock on full socket buffers. Meant for tens of ranks, not thousands.
 *
 * <p><b>Security.</b> Every connection is authenticated both ways by HMAC-SHA256
 * challenge-response with the job's {@link JobSecret} (which never crosses the wire); a
 * connection that fails is closed and logged, and the job goes on. Every frame has a type and a
 * checked length: DATA frames must have exactly the length the receiver's call expects, the others
 * a small fixed bound, so a peer cannot make a rank allocate more than the call needs. Nothing is
 * deserialized as a Java object. A rank listens only on the address it is given, and only until
 * every peer has connected. Authentication covers the setup of each connection; the frames after
 * it are neither encrypted nor signed (an HMAC over every gradient would cost more CPU than the
 * sums), so use it on a trusted network (a cluster's private network, or loopback).
 *
 * <p><b>Faults.</b> Every socket operation has a deadline: start-up (connect with retries,
 * authenticate, rendezvous) must finish within {@code startupTimeout}, and a call fails when no
 * byte has moved to or from a peer it still needs for {@code timeout} (default
 * {@value #DEFAULT_TIMEOUT_SECONDS} s; it must also exceed the longest a rank computes between
 * calls while the others wait). A peer that exits or crashes fails the call at once (its
 * connection closes); a peer that hangs fails it after {@code timeout}. The failing rank tells the
 * others which rank was at fault (an ABORT frame) and closes its connections, so every rank throws
 * a {@link CollectiveException} naming the same rank, within about {@code timeout}. After a failure
 * the collective is unusable; start a new job (from a checkpoint).
 *
 * <p>Made by {@link #builder()} (addresses given, or a rendezvous at rank 0) or by
 * {@link #fromEnvironment()} in a process started by {@link ProcessLauncher}. Each rank's collective
 * is used by one thread.
 */
public final class TcpCollective implements Collective {

    /** The default per-call timeout, in seconds. */
    public static final int DEFAULT_TIMEOUT_SECONDS = 30;
    /** The default per-call timeout: the longest a call waits without progress. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS);
    /** The default start-up timeout: connecting, authenticating and the rendezvous together. */
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(60);
    /**
     * The most values one rank may pass to {@link #allGather(double[])} (1 MiB): the call carries a
     * few partial sums, so a larger frame means a broken or hostile peer.
     */
    public static final int MAX_DOUBLES = 1 << 17;

    /** The environment variables {@link #fromEnvironment()} reads. */
    public static final String ENV_RANK = "MPT_RANK";
    public static final String ENV_WORLD_SIZE = "MPT_WORLD_SIZE";
    public static final String ENV_MASTER_ADDR = "MPT_MASTER_ADDR";
    public static final String ENV_MASTER_PORT = "MPT_MASTER_PORT";
    public static final String ENV_SECRET = "MPT_SECRET";
    public static final String ENV_BIND_ADDR = "MPT_BIND_ADDR";
    public static final String ENV_TIMEOUT = "MPT_TIMEOUT_SECONDS";

    private static final byte OP_REDUCE_SCATTER_16 = 1;
    private static final byte OP_REDUCE_SCATTER_32 = 2;
    private static final byte OP_ALL_GATHER_16 = 3;
    private static final byte OP_ALL_GATHER_32 = 4;
    private static final byte OP_ANY_TRUE = 5;
    private static final byte OP_ALL_GATHER_64 = 6;

    private final int rank;
    private final int world;
    private final Duration timeout;
    private final Exchange wire;
    private boolean closed;
    private short[] shortScratch = new short[0];
    private float[] floatScratch = new float[0];

    private TcpCollective(int rank, int world, Duration timeout, SocketChannel[] links, long setupBytes)
            throws IOException {
        this.rank = rank;
        this.world = world;
        this.timeout = timeout;
        this.wire = new Exchange(rank, world, timeout, links, setupBytes);
    }

    /** A builder for one rank's collective. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The collective of a process started by {@link ProcessLauncher} (or any launcher that sets
     * the same variables): {@value #ENV_RANK}, {@value #ENV_WORLD_SIZE}, {@value #ENV_MASTER_ADDR},
     * {@value #ENV_MASTER_PORT}, {@value #ENV_SECRET} (hex) and optionally {@value #ENV_BIND_ADDR}
     * (the address this rank listens on; default: the address of this host's interface that
     * reaches the master) and {@value #ENV_TIMEOUT}. Rank 0 listens at the master
     * address; the others meet there (see {@link Builder#master}).
     *
     * @throws IllegalStateException if a variable is missing or malformed (the message names it)
     * @throws CollectiveException   if the ranks cannot connect within the start-up timeout
     */
    public static TcpCollective fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    static TcpCollective fromEnvironment(Map<String, String> env) {
        Builder b = builder()
                .rank(intVar(env, ENV_RANK))
                .worldSize(intVar(env, ENV_WORLD_SIZE));
        String secret = var(env, ENV_SECRET);
        try {
            b.secret(JobSecret.fromHex(secret));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("TcpCollective.fromEnvironment: " + ENV_SECRET + " is malformed: "
                    + e.getMessage());
        }
        InetSocketAddress master = new InetSocketAddress(var(env, ENV_MASTER_ADDR), intVar(env, ENV_MASTER_PORT));
        if (master.isUnresolved()) {
            throw new IllegalStateException("TcpCollective.fromEnvironment: " + ENV_MASTER_ADDR + "="
                    + env.get(ENV_MASTER_ADDR) + " does not resolve");
        }
        b.master(master);
        String bind = env.get(ENV_BIND_ADDR);
        try {
            if (bind != null && !bind.isBlank()) {
                b.bindAddress(InetAddress.getByName(bind.strip()));
            }
        } catch (IOException e) {
            throw new IllegalStateException("TcpCollective.fromEnvironment: " + ENV_BIND_ADDR + "=" + bind
                    + " does not resolve", e);
        }
        String t = env.get(ENV_TIMEOUT);
        if (t != null && !t.isBlank()) {
            try {
                b.timeout(Duration.ofMillis(Math.round(Double.parseDouble(t.strip()) * 1000)));
            } catch (NumberFormatException e) {
                throw new IllegalStateException("TcpCollective.fromEnvironment: " + ENV_TIMEOUT + "=" + t
                        + " is not a number of seconds");
            }
        }
        return b.connect();
    }

    private static String var(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException("TcpCollective.fromEnvironment: " + name + " is not set; start this "
                    + "program with dev.mpt.optim.parallel.ProcessLauncher (or set " + ENV_RANK + ", "
                    + ENV_WORLD_SIZE + ", " + ENV_MASTER_ADDR + ", " + ENV_MASTER_PORT + " and " + ENV_SECRET + ")");
        }
        return v.strip();
    }

    private static int intVar(Map<String, String> env, String name) {
        String v = var(env, name);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("TcpCollective.fromEnvironment: " + name + "=" + v + " is not an integer");
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    private void checkShards(String op, Shards shards, int fullLength, int partLength) {
        CollectiveArgs.checkShards("TcpCollective", "job", world, rank, op, shards, fullLength, partLength);
    }

    /** The per-call timeout. */
    public Duration timeout() {
        return timeout;
    }

    @Override
    public void reduceScatter(short[] grads, DType dtype, Shards shards, float[] out) {
        CollectiveArgs.checkHalfWidth("TcpCollective", dtype);
        checkShards("reduceScatter", shards, grads.length, out.length);
        int len = shards.length(rank);
        ByteBuffer[] payload = new ByteBuffer[world];
        int[] expect = new int[world];
        for (int p = 0; p < world; p++) {
            if (p != rank) {
                payload[p] = wire.sendBuffer(p, 2 * shards.length(p));
                payload[p].asShortBuffer().put(grads, shards.start(p), shards.length(p));
                expect[p] = 2 * len;
            }
        }
        call(OP_REDUCE_SCATTER_16, "reduceScatter", payload, expect);
        if (shortScratch.length < len) {
            shortScratch = new short[len];
            floatScratch = new float[len];
        }
        // s = g_0; s += g_1; ...; s += g_{N-1}, each widened exactly and each sum rounded to FP32,
        // as InProcessCollective does
        for (int q = 0; q < world; q++) {
            float[] dst = q == 0 ? out : floatScratch;
            if (q == rank) {
                CollectiveArgs.widen(grads, dtype, shards.start(rank), dst, len);
            } else {
                wire.received(q).asShortBuffer().get(shortScratch, 0, len);
                CollectiveArgs.widen(shortScratch, dtype, 0, dst, len);
            }
            if (q > 0) {
                for (int i = 0; i < len; i++) {
                    out[i] += floatScratch[i];
                }
            }
        }
    }

    @Override
    public void reduceScatter(float[] grads, Shards shards, float[] out) {
        checkShards("reduceScatter", shards, grads.length, out.length);
        int len = shards.length(rank);
        ByteBuffer[] payload = new ByteBuffer[world];
        int[] expect = new int[world];
        for (int p = 0; p < world; p++) {
            if (p != rank) {
                payload[p] = wire.sendBuffer(p, 4 * shards.length(p));
                payload[p].asFloatBuffer().put(grads, shards.start(p), shards.length(p));
                expect[p] = 4 * len;
            }
        }
        call(OP_REDUCE_SCATTER_32, "reduceScatter", payload, expect);
        if (floatScratch.length < len) {
            shortScratch = new short[len];
            floatScratch = new float[len];
        }
        for (int q = 0; q < world; q++) {
            float[] dst = q == 0 ? out : floatScratch;
            if (q == rank) {
                System.arraycopy(grads, shards.start(rank), dst, 0, len);
            } else {
                wire.received(q).asFloatBuffer().get(dst, 0, len);
            }
            if (q > 0) {
                for (int i = 0; i < len; i++) {
                    out[i] += floatScratch[i];
                }
            }
        }
    }

    @Override
    public void allGather(short[] shard, Shards shards, short[] full) {
        checkShards("allGather", shards, full.length, shard.length);
        int len = shards.length(rank);
        ByteBuffer mine = wire.gatherBuffer(2 * len);
        mine.asShortBuffer().put(shard, 0, len);
        int[] expect = new int[world];
        for (int p = 0; p < world; p++) {
            expect[p] = 2 * shards.length(p);
        }
        call(OP_ALL_GATHER_16, "allGather", wire.shared(mine), expect);
        for (int p = 0; p < world; p++) {
            if (p == rank) {
                System.arraycopy(shard, 0, full, shards.start(p), len);
            } else {
                wire.received(p).asShortBuffer().get(full, shards.start(p), shards.length(p));
            }
        }
    }

    @Override
    public void allGather(float[] shard, Shards shards, float[] full) {
        checkShards("allGather", shards, full.length, shard.length);
        int len = shards.length(rank);
        ByteBuffer mine = wire.gatherBuffer(4 * len);
        mine.asFloatBuffer().put(shard, 0, len);
        int[] expect = new int[world];
        for (int p = 0; p < world; p++) {
            expect[p] = 4 * shards.length(p);
        }
        call(OP_ALL_GATHER_32, "allGather", wire.shared(mine), expect);
        for (int p = 0; p < world; p++) {
            if (p == rank) {
                System.arraycopy(shard, 0, full, shards.start(p), len);
            } else {
                wire.received(p).asFloatBuffer().get(full, shards.start(p), shards.length(p));
            }
        }
    }

    @Override
    public boolean anyTrue(boolean flag) {
        ByteBuffer mine = wire.gatherBuffer(1);
        mine.put(0, (byte) (flag ? 1 : 0));
        int[] expect = new int[world];
        Arrays.fill(expect, 1);
        call(OP_ANY_TRUE, "anyTrue", wire.shared(mine), expect);
        boolean any = flag;
        for (int p = 0; p < world; p++) {
            if (p != rank) {
                byte b = wire.received(p).get(0);
                if (b != 0 && b != 1) {
                    throw wire.fail(p, "TcpCollective.anyTrue #" + wire.seq() + ": rank " + rank
                            + " received the flag byte " + b
                            + " from rank " + p + ", not 0 or 1 (a broken peer)", null);
                }
                any |= b == 1;
            }
        }
        return any;
    }

    @Override
    public double[] allGather(double[] values) {
        Objects.requireNonNull(values, "TcpCollective.allGather: values is null");
        if (values.length > MAX_DOUBLES) {
            throw new IllegalArgumentException("TcpCollective.allGather: " + values.length + " doubles, at most "
                    + MAX_DOUBLES + " (MAX_DOUBLES) per rank");
        }
        ByteBuffer mine = wire.gatherBuffer(8 * values.length);
        mine.asDoubleBuffer().put(values);
        int[] expect = new int[world];
        Arrays.fill(expect, Exchange.VARIABLE);
        call(OP_ALL_GATHER_64, "allGather", wire.shared(mine), expect);
        int n = 0;
        for (int p = 0; p < world; p++) {
            n += p == rank ? values.length : wire.received(p).remaining() / 8;
        }
        double[] all = new double[n];
        int at = 0;
        for (int p = 0; p < world; p++) {
            if (p == rank) {
                System.arraycopy(values, 0, all, at, values.length);
                at += values.length;
            } else {
                int k = wire.received(p).remaining() / 8;
                wire.received(p).asDoubleBuffer().get(all, at, k);
                at += k;
            }
        }
        return all;
    }

    /** Every byte this rank has written to its peers: the start-up handshake and each frame, headers included. */
    @Override
    public long bytesSent() {
        return wire.bytesSent();
    }

    /** Closes every connection; peers still in a call fail at once, naming this rank. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        wire.close();
    }

    @Override
    public String toString() {
        return "TcpCollective[rank " + rank + " of " + world + ", timeout " + timeout + "]";
    }


    private void call(byte op, String name, ByteBuffer[] payload, int[] expect) {
        if (closed) {
            throw new IllegalStateException("TcpCollective." + name + ": rank " + rank + " is closed");
        }
        wire.round(op, name, payload, expect);
    }



    /**
     * Settings of one rank's {@link TcpCollective}. Required: {@link #rank}, {@link #worldSize},
     * {@link #secret}, and the addresses: either {@link #peers} (every rank's listening address)
     * or {@link #master} (rank 0's, for a rendezvous).
     */
    public static final class Builder {
        private int rank = -1;
        private int world = -1;
        private JobSecret secret;
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
        private List<InetSocketAddress> peers;
        private ServerSocketChannel listener;
        private InetSocketAddress master;
        private InetAddress bindAddress;

        private Builder() {
        }

        /** This rank, in {@code [0, worldSize)}. */
        public Builder rank(int rank) {
            this.rank = rank;
            return this;
        }

        /** The number of ranks. */
        public Builder worldSize(int world) {
            this.world = world;
            return this;
        }

        /** The job's secret, the same on every rank (there is no default). */
        public Builder secret(JobSecret secret) {
            this.secret = Objects.requireNonNull(secret, "TcpCollective.Builder.secret: secret is null");
            return this;
        }

        /** The longest a call waits without progress (default {@value #DEFAULT_TIMEOUT_SECONDS} s). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "TcpCollective.Builder.timeout: timeout is null");
            return this;
        }

        /** The longest start-up may take: connecting with retries, authenticating, the rendezvous (default 60 s). */
        public Builder startupTimeout(Duration startupTimeout) {
            this.startupTimeout = Objects.requireNonNull(startupTimeout,
                    "TcpCollective.Builder.startupTimeout: startupTimeout is null");
            return this;
        }

        /**
         * Every rank's listening address, indexed by rank. This rank listens on its own entry unless
         * a {@link #listener} is given.
         */
        public Builder peers(List<InetSocketAddress> peers) {
            this.peers = List.copyOf(peers);
            return this;
        }

        /**
         * A listening socket this rank has already bound (its address is this rank's entry in
         * {@link #peers}, or is sent to rank 0 in a rendezvous): for launchers that exchange
         * addresses before the collective is built (Spark). The collective closes it once every
         * peer has connected.
         */
        public Builder listener(ServerSocketChannel listener) {
            this.listener = Objects.requireNonNull(listener, "TcpCollective.Builder.listener: listener is null");
            return this;
        }

        /**
         * Rendezvous at rank 0: rank 0 listens at {@code master}; every other rank listens on an
         * ephemeral port of its {@link #bindAddress}, connects to rank 0 and tells it that port, and
         * learns the others' addresses from rank 0.
         */
        public Builder master(InetSocketAddress master) {
            this.master = Objects.requireNonNull(master, "TcpCollective.Builder.master: master is null");
            return this;
        }

        /**
         * In a rendezvous, the address ranks other than 0 listen on (default: the address of this
         * host's interface that reaches the master, as the routing table says).
         */
        public Builder bindAddress(InetAddress bindAddress) {
            this.bindAddress = Objects.requireNonNull(bindAddress,
                    "TcpCollective.Builder.bindAddress: bindAddress is null");
            return this;
        }

        /**
         * Connects to every other rank and authenticates; returns when all are connected.
         *
         * @throws IllegalArgumentException if a setting is missing or out of range (the message names it)
         * @throws CollectiveException      if the ranks cannot connect within the start-up timeout, or
         *                                  a peer fails authentication
         */
        public TcpCollective connect() {
            if (world < 1 || world > Frame.MAX_WORLD) {
                throw new IllegalArgumentException("TcpCollective.Builder: worldSize must be in [1, " + Frame.MAX_WORLD
                        + "], got " + world);
            }
            if (rank < 0 || rank >= world) {
                throw new IllegalArgumentException("TcpCollective.Builder: rank must be in [0, " + world + "), got "
                        + rank);
            }
            if (secret == null) {
                throw new IllegalArgumentException("TcpCollective.Builder: no secret; the launcher makes one per job "
                        + "with JobSecret.random() and hands it to every rank");
            }
            for (Duration d : new Duration[] {timeout, startupTimeout}) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("TcpCollective.Builder: timeouts must be positive, got " + d);
                }
            }
            if ((peers == null) == (master == null)) {
                throw new IllegalArgumentException("TcpCollective.Builder: give either peers(...) or master(...), "
                        + (peers == null ? "neither was given" : "not both"));
            }
            if (peers != null && peers.size() != world) {
                throw new IllegalArgumentException("TcpCollective.Builder: " + peers.size() + " peer addresses for "
                        + world + " ranks");
            }
            Mesh.Settings s = new Mesh.Settings(rank, world, secret, timeout, startupTimeout);
            AtomicLong sent = new AtomicLong();
            SocketChannel[] links = new SocketChannel[world];
            ServerSocketChannel l = listener;
            try {
                if (world > 1) {
                    if (l == null) {
                        l = ServerSocketChannel.open().bind(listenAddress(), Math.max(64, world));
                    }
                    links = peers != null ? Mesh.connect(s, l, peers, sent) : Mesh.rendezvous(s, l, master, sent);
                }
                return new TcpCollective(rank, world, timeout, links, sent.get());
            } catch (IOException e) {
                Mesh.closeAll(links);
                throw new CollectiveException(-1, "TcpCollective: rank " + rank + " could not start: " + e, e);
            } finally {
                if (l != null) {
                    try {
                        l.close();
                    } catch (IOException ignored) {
                        // the listener is not needed once the mesh stands
                    }
                }
            }
        }

        private InetSocketAddress listenAddress() {
            if (peers != null) {
                return peers.get(rank);
            }
            if (rank == 0) {
                return master;
            }
            if (bindAddress != null) {
                return new InetSocketAddress(bindAddress, 0);
            }
            // the address of the interface that reaches the master: a connected UDP socket learns it
            // from the routing table without sending anything
            try (DatagramSocket probe = new DatagramSocket()) {
                probe.connect(master);
                return new InetSocketAddress(probe.getLocalAddress(), 0);
            } catch (IOException e) {
                throw new CollectiveException(-1, "TcpCollective: rank " + rank + " found no interface that "
                        + "reaches the master " + master + "; set bindAddress (" + ENV_BIND_ADDR + ")", e);
            }
        }
    }
}
