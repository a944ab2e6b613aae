package dev.mpt.core.kernel;

/**
 * One input of a GEMM as stored: an FP32, FP16 or BF16 array slice, row-major with leading
 * dimension {@code ld}, read transposed when {@code trans}. It knows how to pack blocks of itself
 * into the FP32 sliver layout the micro-kernels read, widening 16-bit values exactly on the way.
 */
final class GemmOperand {

    /** Per-thread scratch for widened 16-bit runs; grows to the longest run asked for. */
    private static final ThreadScratch SCRATCH = new ThreadScratch(1);

    private final float[] f;
    private final short[] h;
    private final boolean bf16;
    private final int off;
    private final int ld;
    private final boolean trans;

    private GemmOperand(float[] f, short[] h, boolean bf16, int off, int ld, boolean trans) {
        this.f = f;
        this.h = h;
        this.bf16 = bf16;
        this.off = off;
        this.ld = ld;
        this.trans = trans;
    }

    /** An FP32 operand. */
    static GemmOperand of(float[] x, int off, int ld, boolean trans) {
        return new GemmOperand(x, null, false, off, ld, trans);
    }

    /** A 16-bit operand: BF16 bit patterns when {@code bf16}, else FP16. */
    static GemmOperand of16(short[] x, boolean bf16, int off, int ld, boolean trans) {
        return new GemmOperand(null, x, bf16, off, ld, trans);
    }

    /** The same storage read with the transpose flag flipped: {@code op(X)^T}. */
    GemmOperand transposed() {
        return new GemmOperand(f, h, bf16, off, ld, !trans);
    }

    /**
     * Packs rows {@code [r0, r0+rows)} and columns {@code [c0, c0+cols)} of {@code op(X)} into slivers
     * of {@code w} rows: {@code dst[dOff + s*cols*w + p*w + i] = op(X)[r0 + s*w + i][c0 + p]}, with
     * zeros for rows past {@code r0 + rows} (the last sliver is padded to {@code w} rows).
     */
    void pack(int r0, int rows, int c0, int cols, int w, float[] dst, int dOff) {
        if (trans) {
            packColumns(r0, rows, c0, cols, 0, cols, w, dst, dOff);
            return;
        }
        for (int s = 0; s < rows; s += w) {
            packRows(r0 + s, Math.min(w, rows - s), c0, cols, w, dst, dOff + s * cols);
        }
        pad(rows, cols, 0, cols, w, dst, dOff);
    }

    /** Whether {@code op(X) = X^T}: a column of op(X) is a contiguous run of a storage row. */
    boolean transposedStorage() {
        return trans;
    }

    /**
     * Columns {@code [p0, p1)} of what {@link #pack}{@code (r0, rows, c0, cols, w, dst, dOff)} writes,
     * padding included, for a transposed operand only; so threads can pack one block side by side.
     */
    void packColumns(int r0, int rows, int c0, int cols, int p0, int p1, int w, float[] dst, int dOff) {
        // Sliver by sliver, so the stores run contiguously through dst: column p of sliver s is the
        // piece of storage row c0 + p from column r0 + s. Walking storage row by row instead and
        // dealing each row out to all slivers (stores cols * w floats apart) packed the LSTM's
        // dGates^T (2048 storage rows of 512) 2x slower in FP32 and 4x slower in FP16, and rows of
        // 1024 and 2048 floats 1.7x slower in FP32 (throwaway harness, thread CPU time, 2-core Zen 5
        // VM shared with other builds).
        for (int s = 0; s < rows; s += w) {
            int n = Math.min(w, rows - s);
            int d = dOff + s * cols + p0 * w;
            int src = off + (c0 + p0) * ld + r0 + s;
            for (int p = p0; p < p1; p++, d += w, src += ld) {
                if (f != null) {
                    piece(f, src, n, dst, d);
                } else if (bf16) {
                    pieceBf16(h, src, n, dst, d);
                } else {
                    pieceHalf(h, src, n, dst, d);
                }
            }
        }
        pad(rows, cols, p0, p1, w, dst, dOff);
    }

    /** {@code dst[d + i] = x[src + i]} for {@code i < n}; 8 (the AVX-512 kernel's height) unrolled. */
    private static void piece(float[] x, int src, int n, float[] dst, int d) {
        if (n == 8) {
            dst[d] = x[src];
            dst[d + 1] = x[src + 1];
            dst[d + 2] = x[src + 2];
            dst[d + 3] = x[src + 3];
            dst[d + 4] = x[src + 4];
            dst[d + 5] = x[src + 5];
            dst[d + 6] = x[src + 6];
            dst[d + 7] = x[src + 7];
        } else {
            System.arraycopy(x, src, dst, d, n);
        }
    }

    /** {@link #piece} of FP16 storage, widened exactly. */
    private static void pieceHalf(short[] x, int src, int n, float[] dst, int d) {
        if (n == 8) {
            dst[d] = Float.float16ToFloat(x[src]);
            dst[d + 1] = Float.float16ToFloat(x[src + 1]);
            dst[d + 2] = Float.float16ToFloat(x[src + 2]);
            dst[d + 3] = Float.float16ToFloat(x[src + 3]);
            dst[d + 4] = Float.float16ToFloat(x[src + 4]);
            dst[d + 5] = Float.float16ToFloat(x[src + 5]);
            dst[d + 6] = Float.float16ToFloat(x[src + 6]);
            dst[d + 7] = Float.float16ToFloat(x[src + 7]);
        } else {
            for (int i = 0; i < n; i++) {
                dst[d + i] = Float.float16ToFloat(x[src + i]);
            }
        }
    }

    /** {@link #piece} of BF16 storage, widened exactly. */
    private static void pieceBf16(short[] x, int src, int n, float[] dst, int d) {
        if (n == 8) {
            dst[d] = Float.intBitsToFloat(x[src] << 16);
            dst[d + 1] = Float.intBitsToFloat(x[src + 1] << 16);
            dst[d + 2] = Float.intBitsToFloat(x[src + 2] << 16);
            dst[d + 3] = Float.intBitsToFloat(x[src + 3] << 16);
            dst[d + 4] = Float.intBitsToFloat(x[src + 4] << 16);
            dst[d + 5] = Float.intBitsToFloat(x[src + 5] << 16);
            dst[d + 6] = Float.intBitsToFloat(x[src + 6] << 16);
            dst[d + 7] = Float.intBitsToFloat(x[src + 7] << 16);
        } else {
            for (int i = 0; i < n; i++) {
                dst[d + i] = Float.intBitsToFloat(x[src + i] << 16);
            }
        }
    }

    /** Zeros for rows past {@code rows} in the last sliver, columns {@code [p0, p1)}. */
    private static void pad(int rows, int cols, int p0, int p1, int w, float[] dst, int dOff) {
        int h0 = rows % w;
        if (h0 != 0) {
            int base = dOff + (rows - h0) * cols;
            for (int p = p0; p < p1; p++) {
                for (int i = h0; i < w; i++) {
                    dst[base + p * w + i] = 0f;
                }
            }
        }
    }

    /** The transposing copy of this JVM, chosen once. */
    static final TransposeKernel TRANSPOSE = Simd.select(TransposeKernel.class,
            "dev.mpt.core.kernel.VectorTranspose", ScalarTranspose::new);

    /**
     * Columns of 16-bit storage widened per {@link #TRANSPOSE} call: a group of 16 rows of this
     * many columns is 16 KiB of FP32, so the widened rows are still in L1 when the transpose reads
     * them back. A multiple of 16 (the widest transpose block).
     */
    static final int WIDEN_COLUMNS = 256;

    /**
     * op(X) = X: row r of the sliver is contiguous in storage. Groups of {@code TRANSPOSE.rows(w)}
     * rows are transposed into the sliver by {@link #TRANSPOSE}, 16-bit rows widened first (in
     * runs of {@link #WIDEN_COLUMNS} columns, each element once, with the vectorized bulk
     * conversion); the rest row by row.
     */
    private void packRows(int r0, int h0, int c0, int cols, int w, float[] dst, int base) {
        int g = TRANSPOSE.rows(w);
        int i = 0;
        for (; i + g <= h0; i += g) {
            int src = off + (r0 + i) * ld + c0;
            int d = base + i;
            if (f != null) {
                TRANSPOSE.transpose(f, src, ld, cols, w, dst, d);
                continue;
            }
            float[] rows = widened(g * WIDEN_COLUMNS);
            for (int p = 0; p < cols; p += WIDEN_COLUMNS) {
                int n = Math.min(WIDEN_COLUMNS, cols - p);
                for (int r = 0; r < g; r++) {
                    widen(src + r * ld + p, rows, r * n, n);
                }
                TRANSPOSE.transpose(rows, 0, n, n, w, dst, d + p * w);
            }
        }
        float[] row = f != null || i == h0 ? f : widened(cols);
        for (; i < h0; i++) {
            int src = off + (r0 + i) * ld + c0;
            int from = src;
            if (f == null) {
                widen(src, row, 0, cols);
                from = 0;
            }
            int d = base + i;
            for (int p = 0; p < cols; p++) {
                dst[d + p * w] = row[from + p];
            }
        }
    }

    /** {@code out[o + i] = (float) h[src + i]} for {@code i < n}: exact widening of FP16 or BF16, vectorized. */
    private void widen(int src, float[] out, int o, int n) {
        if (bf16) {
            Convert.KERNEL.bfloat16ToFloat(h, src, out, o, n);
        } else {
            Convert.KERNEL.halfToFloat(h, src, out, o, n);
        }
    }

    /** This thread's scratch row of at least {@code n} floats for widened 16-bit runs. */
    private static float[] widened(int n) {
        return SCRATCH.get(0, n);
    }
}
