package dev.mpt.core.kernel.backend;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One thread's off-heap working set for native GEMMs: a buffer holding the staged A, B, C and the
 * primitive's scratchpad (64-byte aligned regions, grown on demand and reused across calls, so a
 * steady training step allocates nothing), a slot for out-parameters and the execute-argument
 * array. Native code reads the buffer while the JVM runs on: heap arrays are never handed to a
 * long native call. Everything here is memory the garbage collector frees with the thread; the
 * oneDNN streams, which it cannot free, are pooled by {@link OneDnnGemm} instead.
 */
final class Staging {

    private static final long ALIGN = 64;

    /** Floats widened per chunk when converting FP16 to FP32 on the way in or out. */
    static final int CHUNK = 4096;

    private final Arena small = Arena.ofAuto();
    private MemorySegment buffer = MemorySegment.NULL;
    final MemorySegment slot = small.allocate(ADDRESS);
    final MemorySegment args = small.allocate(4 * Dnnl.EXEC_ARG_BYTES, 8);
    final float[] chunk = new float[CHUNK];

    MemorySegment a;
    MemorySegment b;
    MemorySegment c;
    MemorySegment scratch;

    /** Lays out regions of the given byte sizes, growing the buffer when it is too small. */
    void reserve(long aBytes, long bBytes, long cBytes, long scratchBytes) {
        long aAt = 0;
        long bAt = align(aAt + aBytes);
        long cAt = align(bAt + bBytes);
        long sAt = align(cAt + cBytes);
        long total = align(sAt + Math.max(scratchBytes, 1));
        if (buffer.byteSize() < total) {
            // a fresh automatic arena per buffer: the old buffer is freed once unreachable
            buffer = Arena.ofAuto().allocate(Math.max(total, buffer.byteSize() * 3 / 2), ALIGN);
        }
        a = buffer.asSlice(aAt, aBytes);
        b = buffer.asSlice(bAt, bBytes);
        c = buffer.asSlice(cAt, cBytes);
        scratch = buffer.asSlice(sAt, scratchBytes);
    }

    private static long align(long x) {
        return (x + ALIGN - 1) & -ALIGN;
    }
}
