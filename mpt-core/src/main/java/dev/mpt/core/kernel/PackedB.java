package dev.mpt.core.kernel;

import dev.mpt.core.number.DType;

/**
 * The right operand {@code op(B)} ({@code k x n}) of a {@link Gemm} product packed once, widened to
 * FP32, into the slivers the micro-kernel of this JVM reads, so that many products with the same B
 * skip packing it again: a recurrent network's hidden-to-hidden weight, multiplied at every time
 * step ({@code h_{t-1} W_hh^T} forward, {@code dGates_t W_hh} backward). Made by
 * {@link Gemm#packB} or {@link Gemm#packB16}, used by {@link Gemm#sgemm(boolean, int, float[], int,
 * int, PackedB, float, float[], int, int)} and {@link Gemm#gemm16(DType, boolean, int, short[], int,
 * int, PackedB, float, float[], int, int)}, whose results are bit for bit those of the unpacked
 * calls with the same B.
 *
 * <p>The packed copy is a snapshot, and a native backend ({@link dev.mpt.core.kernel.backend.Backends})
 * that takes a product reads the source array instead: the source must not change while the packed
 * copy is in use. Immutable otherwise; safe to share between threads.
 */
public final class PackedB {

    final DType dtype;
    final int k;
    final int n;
    /** The source as given, for a native backend and for the argument checks. */
    final Object source;
    final int off;
    final int ld;
    final boolean trans;
    /** The kernel whose sliver width {@link #panel} was packed for. */
    final GemmKernel kernel;
    /** Sliver {@code s} (columns {@code [s*nr, s*nr + nr)} of op(B)) at {@code s*k*nr}, element (p, j) at {@code p*nr + j}. */
    final float[] panel;

    PackedB(DType dtype, int k, int n, Object source, int off, int ld, boolean trans, GemmKernel kernel,
            float[] panel) {
        this.dtype = dtype;
        this.k = k;
        this.n = n;
        this.source = source;
        this.off = off;
        this.ld = ld;
        this.trans = trans;
        this.kernel = kernel;
        this.panel = panel;
    }

    /** The element type of the source: FP32, FP16 or BF16. */
    public DType dtype() {
        return dtype;
    }

    /** Rows of {@code op(B)}: the depth of the products. */
    public int k() {
        return k;
    }

    /** Columns of {@code op(B)}: the columns of the products. */
    public int n() {
        return n;
    }

    @Override
    public String toString() {
        return "PackedB(" + dtype + ", k=" + k + ", n=" + n + ", trans=" + trans + ", " + kernel + ")";
    }
}
