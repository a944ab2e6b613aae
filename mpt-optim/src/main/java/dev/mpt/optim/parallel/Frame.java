package dev.mpt.optim.parallel;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The wire format of {@link TcpCollective}: every message is one frame, a 16-byte header and a
 * payload, little-endian.
 *
 * <pre>
 * offset  0: int   magic 0x3154504D ("MPT1", the protocol version)
 * offset  4: byte  type (HELLO, CHALLENGE, AUTH, ACCEPT, PEERS, DATA, ABORT)
 * offset  5: byte  operation (DATA frames: which collective call; otherwise 0)
 * offset  6: short reserved, 0
 * offset  8: int   sequence number (DATA frames: the call's number on the sending rank)
 * offset 12: int   payload length in bytes
 * </pre>
 *
 * A receiver checks every field before it allocates or reads a payload: an unknown magic or type,
 * a non-zero reserved field or a length outside the type's bound ({@link #maxPayload}) ends the
 * connection with a {@link FrameException} naming the peer. DATA frames are further held to the
 * exact length the receiver expects. Payloads are plain numbers and bytes; nothing is ever
 * deserialized as a Java object.
 */
final class Frame {

    static final int HEADER_BYTES = 16;
    static final int MAGIC = 0x3154504D;

    static final byte HELLO = 1;
    static final byte CHALLENGE = 2;
    static final byte AUTH = 3;
    static final byte ACCEPT = 4;
    static final byte PEERS = 5;
    static final byte DATA = 6;
    static final byte ABORT = 7;

    /** The longest host name a rank may advertise (DNS names are at most 253 characters). */
    static final int MAX_HOST_BYTES = 255;
    /** The largest world size the rendezvous accepts. */
    static final int MAX_WORLD = 1 << 16;
    /** The longest reason an ABORT frame carries. */
    static final int MAX_ABORT_BYTES = 1024;

    private Frame() {
    }

    /** A frame header that does not follow the protocol; the message names the peer. */
    static final class FrameException extends IOException {
        FrameException(String message) {
            super(message);
        }
    }

    /** A parsed header. */
    record Header(byte type, byte op, int seq, int length) {
    }

    /** The bound on a payload of {@code type} (DATA frames are bounded by the receiver's call). */
    static int maxPayload(byte type) {
        return switch (type) {
            case HELLO -> 16 + Handshake.NONCE_BYTES + 1 + MAX_HOST_BYTES;
            case CHALLENGE -> Handshake.NONCE_BYTES + 4 + Handshake.MAC_BYTES;
            case AUTH -> Handshake.MAC_BYTES;
            case ACCEPT -> 0;
            case PEERS -> MAX_WORLD * (1 + MAX_HOST_BYTES + 4);
            case DATA -> Integer.MAX_VALUE;
            case ABORT -> 4 + MAX_ABORT_BYTES;
            default -> -1;
        };
    }

    static String typeName(byte type) {
        return switch (type) {
            case HELLO -> "HELLO";
            case CHALLENGE -> "CHALLENGE";
            case AUTH -> "AUTH";
            case ACCEPT -> "ACCEPT";
            case PEERS -> "PEERS";
            case DATA -> "DATA";
            case ABORT -> "ABORT";
            default -> "unknown type " + type;
        };
    }

    /** Writes a header at {@code b}'s position (which must be little-endian). */
    static void putHeader(ByteBuffer b, byte type, byte op, int seq, int length) {
        b.putInt(MAGIC).put(type).put(op).putShort((short) 0).putInt(seq).putInt(length);
    }

    /**
     * Parses and checks the 16 header bytes at {@code b}'s position.
     *
     * @throws FrameException if the magic, type, reserved field or length is not allowed
     */
    static Header parse(ByteBuffer b, String peer) throws FrameException {
        int magic = b.getInt();
        byte type = b.get();
        byte op = b.get();
        short reserved = b.getShort();
        int seq = b.getInt();
        int length = b.getInt();
        if (magic != MAGIC) {
            throw new FrameException("malformed frame from " + peer + ": magic 0x" + Integer.toHexString(magic)
                    + " is not mpt's 0x" + Integer.toHexString(MAGIC) + " (not an mpt rank, or another version)");
        }
        int max = maxPayload(type);
        if (max < 0) {
            throw new FrameException("malformed frame from " + peer + ": unknown frame type " + type);
        }
        if (reserved != 0) {
            throw new FrameException("malformed frame from " + peer + ": reserved header field is " + reserved);
        }
        if (length < 0 || length > max) {
            throw new FrameException("over-size frame from " + peer + ": a " + typeName(type) + " frame of "
                    + Integer.toUnsignedString(length) + " bytes, at most " + max + " allowed");
        }
        return new Header(type, op, seq, length);
    }

    /** A little-endian buffer holding one whole frame, flipped for writing. */
    static ByteBuffer frame(byte type, ByteBuffer payload) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + payload.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        putHeader(b, type, (byte) 0, 0, payload.remaining());
        b.put(payload.duplicate());
        return b.flip();
    }

    /**
     * Writes all of {@code b} to the non-blocking channel {@code ch} before {@code deadline} (a
     * {@link System#nanoTime()} value), counting the bytes in {@code sent}.
     */
    static void writeFully(SocketChannel ch, Selector sel, ByteBuffer b, long deadline, String peer, AtomicLong sent)
            throws IOException {
        while (b.hasRemaining()) {
            int n = ch.write(b);
            sent.addAndGet(n);
            if (n == 0) {
                awaitReady(ch, sel, SelectionKey.OP_WRITE, deadline, peer);
            }
        }
    }

    /** Reads one frame of type {@code type} from {@code ch} before {@code deadline}; returns its payload. */
    static ByteBuffer read(SocketChannel ch, Selector sel, byte type, long deadline, String peer)
            throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, sel, h, deadline, peer);
        Header header = parse(h.flip(), peer);
        if (header.type() != type) {
            throw new FrameException("unexpected frame from " + peer + ": " + typeName(header.type()) + " where "
                    + typeName(type) + " belongs");
        }
        ByteBuffer p = ByteBuffer.allocate(header.length()).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, sel, p, deadline, peer);
        return p.flip();
    }

    private static void readFully(SocketChannel ch, Selector sel, ByteBuffer b, long deadline, String peer)
            throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b);
            if (n < 0) {
                throw new EOFException(peer + " closed the connection");
            }
            if (n == 0) {
                awaitReady(ch, sel, SelectionKey.OP_READ, deadline, peer);
            }
        }
    }

    private static void awaitReady(SocketChannel ch, Selector sel, int ops, long deadline, String peer)
            throws IOException {
        SelectionKey key = ch.keyFor(sel);
        if (key == null) {
            key = ch.register(sel, ops);
        } else {
            key.interestOps(ops);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || sel.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) == 0
                && deadline - System.nanoTime() <= 0) {
            throw new SocketTimeoutException(peer + " sent nothing before the deadline");
        }
        sel.selectedKeys().clear();
    }
}
