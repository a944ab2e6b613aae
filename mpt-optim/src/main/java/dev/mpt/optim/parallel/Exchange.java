package dev.mpt.optim.parallel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The rounds of a {@link TcpCollective}: in each, this rank sends one DATA frame to every peer and
 * receives one from every peer, all at once, driven by one {@link Selector}, so no pair of ranks
 * can block each other on full socket buffers. Received frames are checked ({@link Frame}) before
 * their payload is read: the operation and call number must match this rank's, and the length
 * must be the one the call expects.
 *
 * <p>A round fails when no byte has moved to or from a peer it still needs for the timeout, when
 * a peer closes its connection, breaks the format, or sends an ABORT. The first failure marks the
 * exchange broken, sends every peer an ABORT frame naming the rank at fault (unless half a frame to
 * that peer is out), and closes every connection, so the others fail at once and name the same
 * rank.
 */
final class Exchange {

    /** {@link #round}'s {@code expect} for a variable length: up to {@link TcpCollective#MAX_DOUBLES} doubles. */
    static final int VARIABLE = -1;
    private static final int MAX_VARIABLE_BYTES = 8 * TcpCollective.MAX_DOUBLES;

    private final int rank;
    private final int world;
    private final long timeoutNanos;
    private final Duration timeout;
    private final SocketChannel[] links;
    private final Selector selector;
    private final SelectionKey[] keys;
    private long bytesSent;
    private int seq;
    private CollectiveException broken;

    // per-peer state of the current call, and buffers reused across calls
    private final ByteBuffer[] sendHeader;
    private final ByteBuffer[][] sendPair;
    private final ByteBuffer[] sendBuf;
    private final ByteBuffer[] recvHeader;
    private final ByteBuffer[] recvBuf;
    private final ByteBuffer[] recvBody;
    private final boolean[] recvAbort;
    private final boolean[] sendDone;
    private final boolean[] recvDone;
    private ByteBuffer gatherBuf = ByteBuffer.allocateDirect(0);

    Exchange(int rank, int world, Duration timeout, SocketChannel[] links, long setupBytes)
            throws IOException {
        this.rank = rank;
        this.world = world;
        this.timeout = timeout;
        this.timeoutNanos = timeout.toNanos();
        this.links = links;
        this.bytesSent = setupBytes;
        this.selector = Selector.open();
        this.keys = new SelectionKey[world];
        this.sendHeader = new ByteBuffer[world];
        this.sendPair = new ByteBuffer[world][];
        this.sendBuf = new ByteBuffer[world];
        this.recvHeader = new ByteBuffer[world];
        this.recvBuf = new ByteBuffer[world];
        this.recvBody = new ByteBuffer[world];
        this.recvAbort = new boolean[world];
        this.sendDone = new boolean[world];
        this.recvDone = new boolean[world];
        for (int p = 0; p < world; p++) {
            if (p == rank) {
                continue;
            }
            links[p].configureBlocking(false);
            keys[p] = links[p].register(selector, 0, p);
            sendHeader[p] = ByteBuffer.allocateDirect(Frame.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            recvHeader[p] = ByteBuffer.allocateDirect(Frame.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            sendBuf[p] = ByteBuffer.allocateDirect(0);
            recvBuf[p] = ByteBuffer.allocateDirect(0);
        }
    }

    /** The payload peer {@code p} sent in the last round, flipped and little-endian. */
    ByteBuffer received(int p) {
        return recvBody[p];
    }

    /** The number of the last round (1 for the first). */
    int seq() {
        return seq;
    }

    /** Every byte written to the peers, the start-up handshake's included. */
    long bytesSent() {
        return bytesSent;
    }

    /**
     * Sends {@code payload[p]} to every peer {@code p} and receives one frame from each, of exactly
     * {@code expect[p]} bytes ({@link #VARIABLE}: a multiple of 8 up to {@link TcpCollective#MAX_DOUBLES} x 8),
     * into {@link #received}{@code (p)}, flipped and little-endian. {@code op} and {@code name} say
     * which call this is; every rank must make the same calls in the same order.
     */
    void round(byte op, String name, ByteBuffer[] payload, int[] expect) {
        if (broken != null) {
            throw new CollectiveException(broken.rank(), "TcpCollective." + name + ": rank " + rank
                    + " cannot go on after an earlier failure: " + broken.getMessage(), broken);
        }
        int s = ++seq;
        int pending = 0;
        for (int p = 0; p < world; p++) {
            if (p == rank) {
                continue;
            }
            sendHeader[p].clear();
            Frame.putHeader(sendHeader[p], Frame.DATA, op, s, payload[p].remaining());
            sendHeader[p].flip();
            sendPair[p] = new ByteBuffer[] {sendHeader[p], payload[p]};
            recvHeader[p].clear();
            recvBody[p] = null;
            recvAbort[p] = false;
            sendDone[p] = false;
            recvDone[p] = false;
            keys[p].interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            pending += 2;
        }
        String call = "TcpCollective." + name + " #" + s;
        long lastProgress = System.nanoTime();
        int p = -1;
        try {
            while (pending > 0) {
                long left = timeoutNanos - (System.nanoTime() - lastProgress);
                if (left <= 0) {
                    throw timedOut(call);
                }
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                if (Thread.currentThread().isInterrupted()) {
                    throw fail(rank, call + ": rank " + rank + " was interrupted (its task was cancelled)", null);
                }
                boolean progress = false;
                for (SelectionKey k : selector.selectedKeys()) {
                    p = (Integer) k.attachment();
                    if (!sendDone[p] && k.isWritable()) {
                        long n = links[p].write(sendPair[p]);
                        bytesSent += n;
                        progress |= n > 0;
                        if (!sendPair[p][1].hasRemaining() && !sendHeader[p].hasRemaining()) {
                            sendDone[p] = true;
                            pending--;
                            k.interestOps(k.interestOps() & ~SelectionKey.OP_WRITE);
                        }
                    }
                    if (!recvDone[p] && k.isReadable()) {
                        progress |= receive(p, op, s, expect[p], call);
                        if (recvDone[p]) {
                            pending--;
                            k.interestOps(k.interestOps() & ~SelectionKey.OP_READ);
                        }
                    }
                }
                selector.selectedKeys().clear();
                if (progress) {
                    lastProgress = System.nanoTime();
                }
            }
        } catch (Frame.FrameException e) {
            throw fail(p, call + ": rank " + rank + " got a " + e.getMessage(), e);
        } catch (IOException e) {
            throw fail(p, call + ": rank " + rank + " lost its connection to rank " + p + " (" + e.getMessage()
                    + "): rank " + p + " exited, crashed or closed its collective", e);
        }
    }

    /** Reads what is there from peer {@code p}; returns whether any byte came. */
    private boolean receive(int p, byte op, int s, int expect, String call) throws IOException {
        boolean progress = false;
        while (true) {
            ByteBuffer into = recvBody[p] == null ? recvHeader[p] : recvBody[p];
            int n = links[p].read(into);
            if (n < 0) {
                throw fail(p, call + ": rank " + p + " closed its connection to rank " + rank + " mid-call: it "
                        + "exited, crashed or closed its collective", null);
            }
            progress |= n > 0;
            if (into.hasRemaining()) {
                return progress;
            }
            if (into == recvHeader[p]) {
                recvHeader[p].flip();
                Frame.Header h = Frame.parse(recvHeader[p], "rank " + p);
                int length = h.length();
                if (h.type() == Frame.ABORT) {
                    if (length < 4) {
                        throw new Frame.FrameException("malformed ABORT from rank " + p + ": " + length + " bytes");
                    }
                    recvAbort[p] = true;
                } else if (h.type() != Frame.DATA) {
                    throw new Frame.FrameException("malformed frame from rank " + p + ": " + Frame.typeName(h.type())
                            + " in the middle of the job");
                } else if (h.op() != op || h.seq() != s) {
                    throw fail(p, call + ": rank " + p + " sent operation " + h.op() + " #" + h.seq() + " while rank "
                            + rank + " is in operation " + op + " #" + s + ": the ranks called different "
                            + "operations (every rank must make the same calls in the same order)", null);
                } else if (expect == VARIABLE ? length % 8 != 0 || length > MAX_VARIABLE_BYTES : length != expect) {
                    throw new Frame.FrameException("over-size or malformed frame from rank " + p + ": " + length
                            + " bytes where " + (expect == VARIABLE ? "a multiple of 8 up to " + MAX_VARIABLE_BYTES
                                    : String.valueOf(expect)) + " belong");
                }
                recvBody[p] = receiveBuffer(p, length);
                if (length > 0) {
                    continue;
                }
            }
            recvBody[p].flip();
            if (recvAbort[p]) {
                int culprit = recvBody[p].getInt();
                String why = StandardCharsets.UTF_8.decode(recvBody[p]).toString();
                throw fail(culprit, call + ": rank " + rank + " stops because rank " + p + " gave up: " + why, null);
            }
            recvDone[p] = true;
            return true;
        }
    }

    private CollectiveException timedOut(String call) {
        List<Integer> silent = new ArrayList<>();
        List<Integer> stuck = new ArrayList<>();
        for (int p = 0; p < world; p++) {
            if (p != rank && !recvDone[p]) {
                silent.add(p);
            } else if (p != rank && !sendDone[p]) {
                stuck.add(p);
            }
        }
        List<Integer> blamed = silent.isEmpty() ? stuck : silent;
        String what = silent.isEmpty() ? " did not read what rank " + rank + " sent" : " sent nothing";
        return fail(blamed.size() == 1 ? blamed.get(0) : -1, call + ": rank(s) " + blamed + what + " for " + timeout
                + " (dead, hung, or slower than the timeout; or it skipped a call)", null);
    }

    /** Marks this collective broken, tells the peers who was at fault, closes, and returns the error to throw. */
    CollectiveException fail(int culprit, String message, Throwable cause) {
        CollectiveException e = new CollectiveException(culprit, message, cause);
        if (broken != null) {
            return e;
        }
        broken = e;
        byte[] why = message.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(why.length, Frame.MAX_ABORT_BYTES);
        ByteBuffer abort = ByteBuffer.allocate(Frame.HEADER_BYTES + 4 + n).order(ByteOrder.LITTLE_ENDIAN);
        Frame.putHeader(abort, Frame.ABORT, (byte) 0, seq, 4 + n);
        abort.putInt(culprit).put(why, 0, n).flip();
        for (int p = 0; p < world; p++) {
            // a peer with half a frame from us would misread the ABORT: it sees the close instead
            boolean midFrame = sendPair[p] != null && !sendDone[p] && sendHeader[p].position() > 0;
            if (p != rank && !midFrame && links[p].isOpen()) {
                try {
                    links[p].write(abort.duplicate());
                } catch (IOException ignored) {
                    // best effort: the peer sees the connection close
                }
            }
        }
        close();
        return e;
    }

    void close() {
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
        for (int p = 0; p < world; p++) {
            if (p != rank) {
                try {
                    links[p].close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }

    ByteBuffer sendBuffer(int p, int bytes) {
        if (sendBuf[p].capacity() < bytes) {
            sendBuf[p] = ByteBuffer.allocateDirect(bytes);
        }
        return sendBuf[p].clear().limit(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private ByteBuffer receiveBuffer(int p, int bytes) {
        if (recvBuf[p].capacity() < bytes) {
            recvBuf[p] = ByteBuffer.allocateDirect(bytes);
        }
        return recvBuf[p].clear().limit(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    ByteBuffer gatherBuffer(int bytes) {
        if (gatherBuf.capacity() < bytes) {
            gatherBuf = ByteBuffer.allocateDirect(bytes);
        }
        return gatherBuf.clear().limit(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** One view of {@code b} per peer, each with its own position. */
    ByteBuffer[] shared(ByteBuffer b) {
        ByteBuffer[] views = new ByteBuffer[world];
        for (int p = 0; p < world; p++) {
            if (p != rank) {
                views[p] = b.duplicate();
            }
        }
        return views;
    }
}
