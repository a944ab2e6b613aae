package dev.mpt.core.kernel;

import dev.mpt.core.kernel.backend.Backends;
import dev.mpt.core.kernel.backend.GemmBackend;
import dev.mpt.core.number.DType;
import java.util.Objects;

/**
 * General matrix multiply with FP32 accumulation: {@code C = op(A) * op(B) + beta * C}, where
 * {@code op(X)} is X or its transpose. Matrices are row-major slices of arrays: element (i, j) of a
 * stored matrix X is {@code x[xOff + i * ldx + j]}. {@code op(A)} is m x k, {@code op(B)} is k x n,
 * C is m x n; only C is modified. When {@code beta == 0} the old contents of C are ignored (NaN in C
 * does not leak).
 *
 * <p>FP16 and BF16 inputs are widened exactly to FP32, products and sums are formed in FP32, and a
 * 16-bit C is rounded once, to nearest even, when written (the paper's FP16 arithmetic with FP32
 * accumulation, Micikevicius et al. 2018, section 3.2). Each element is summed over {@code p} in
 * increasing order on one thread, so results are bit-identical for every thread count
 * ({@link Parallel}). The error of an element is at most {@code gamma_k * sum_p |a_ip b_pj|} with
 * {@code gamma_k = k u / (1 - k u)}, {@code u = 2^-24}, before the beta term and the final rounding.
 *
 * <p>Large problems are packed into FP32 panels, cache-blocked and computed by a register-blocked
 * micro-kernel (Vector API with fused multiply-add when {@link Simd#VECTOR_ENABLED}, else scalar),
 * in parallel over blocks of C; small ones run plain loops on the calling thread. A B multiplied
 * many times (a recurrent weight) can be packed once ({@link #packB}, {@link PackedB}) and passed to
 * the {@code PackedB} overloads, which give the same bits without repacking it.
 *
 * <p>Each product is first offered to the native backend chosen at start-up ({@link Backends},
 * {@code -Dmpt.backend=java|onednn|auto}); when it declines, or is the Java one, the Java kernels
 * above compute it. A native backend keeps FP32 accumulation and the error bound above but sums in
 * its own order, so bit-identical results across thread counts hold under {@code -Dmpt.backend=java}.
 * A native backend writes FP32 only; a 16-bit C is formed from that FP32 product here, with the
 * Java kernels' expression and rounding, so under every backend a 16-bit C holds exactly the
 * rounding of the FP32 C computed from the same operands.
 */
public final class Gemm {

    /** FP32 products of a native backend before they are rounded into a 16-bit C: product, widened C. */
    private static final ThreadScratch NATIVE = new ThreadScratch(2);
    private static final int PRODUCT = 0;
    private static final int OLD_C = 1;

    /**
     * Elements per task when rounding a native product into a 16-bit C: tens of microseconds of
     * SIMD conversion, well above the fork/join cost of a few microseconds (as Grain.CONVERT's estimate).
     */
    private static final int ROUND_GRAIN = 1 << 16;

    private Gemm() {
    }

    /**
     * FP32 inputs, FP32 output: {@code C = op(A) op(B) + beta C}.
     *
     * @throws NullPointerException if an array is null
     * @throws IllegalArgumentException if a size, offset or leading dimension is negative, a leading
     *         dimension is smaller than its stored row, an array is too short, or C overlaps A or B
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        check("sgemm", transA, transB, m, n, k, a, aOff, lda, a == null ? 0 : a.length,
                b, bOff, ldb, b == null ? 0 : b.length, c, cOff, ldc, c == null ? 0 : c.length);
        if (Backends.gemm().sgemm(Parallel.callerThreads(), transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
                beta, c, cOff, ldc)) {
            return;
        }
        BlockedGemm.multiply(m, n, k, GemmOperand.of(a, aOff, lda, transA),
                GemmOperand.of(b, bOff, ldb, transB), GemmOutput.of(c, cOff, ldc, beta));
    }

    /**
     * 16-bit inputs of type {@code in} (FP16 or BF16), FP32 output: {@code C = op(A) op(B) + beta C}.
     *
     * @throws NullPointerException if {@code in} or an array is null
     * @throws IllegalArgumentException if {@code in} is not FP16 or BF16, or as {@link #sgemm}
     */
    public static void gemm16(DType in, boolean transA, boolean transB, int m, int n, int k,
                              short[] a, int aOff, int lda,
                              short[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc) {
        boolean bf16 = checkType("gemm16", in);
        check("gemm16", transA, transB, m, n, k, a, aOff, lda, a == null ? 0 : a.length,
                b, bOff, ldb, b == null ? 0 : b.length, c, cOff, ldc, c == null ? 0 : c.length);
        if (Backends.gemm().gemm16(Parallel.callerThreads(), bf16, transA, transB, m, n, k, a, aOff, lda, b, bOff,
                ldb, beta, c, cOff, ldc)) {
            return;
        }
        BlockedGemm.multiply(m, n, k, GemmOperand.of16(a, bf16, aOff, lda, transA),
                GemmOperand.of16(b, bf16, bOff, ldb, transB), GemmOutput.of(c, cOff, ldc, beta));
    }

    /**
     * 16-bit inputs and output of type {@code in} (FP16 or BF16): {@code C = op(A) op(B) + beta C},
     * accumulated in FP32 and rounded once per element, to nearest even, when stored.
     *
     * @throws NullPointerException if {@code in} or an array is null
     * @throws IllegalArgumentException if {@code in} is not FP16 or BF16, or as {@link #sgemm}
     */
    public static void gemm16(DType in, boolean transA, boolean transB, int m, int n, int k,
                              short[] a, int aOff, int lda,
                              short[] b, int bOff, int ldb,
                              float beta, short[] c, int cOff, int ldc) {
        boolean bf16 = checkType("gemm16", in);
        check("gemm16", transA, transB, m, n, k, a, aOff, lda, a == null ? 0 : a.length,
                b, bOff, ldb, b == null ? 0 : b.length, c, cOff, ldc, c == null ? 0 : c.length);
        if (viaBackend16(Backends.gemm(), Parallel.callerThreads(), bf16, transA, transB, m, n, k, a, aOff, lda,
                b, bOff, ldb, beta, c, cOff, ldc, null, 0)) {
            return;
        }
        BlockedGemm.multiply(m, n, k, GemmOperand.of16(a, bf16, aOff, lda, transA),
                GemmOperand.of16(b, bf16, bOff, ldb, transB), GemmOutput.of16(c, bf16, cOff, ldc, beta));
    }

    /**
     * Packs FP32 {@code op(B)} ({@code k x n}) once for many products with it ({@link PackedB}).
     *
     * @throws NullPointerException if {@code b} is null
     * @throws IllegalArgumentException if a size, the offset or the leading dimension is negative,
     *         {@code ldb} is smaller than the stored row, or {@code b} is too short
     */
    public static PackedB packB(boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        checkB("packB", transB, k, n, b, bOff, ldb, b == null ? 0 : b.length);
        return new PackedB(DType.FP32, k, n, b, bOff, ldb, transB, BlockedGemm.KERNEL,
                BlockedGemm.packB(BlockedGemm.KERNEL, k, n, GemmOperand.of(b, bOff, ldb, transB)));
    }

    /**
     * Packs 16-bit {@code op(B)} of type {@code in} (FP16 or BF16, {@code k x n}), widened exactly,
     * once for many products with it ({@link PackedB}).
     *
     * @throws NullPointerException if {@code in} or {@code b} is null
     * @throws IllegalArgumentException if {@code in} is not FP16 or BF16, or as {@link #packB}
     */
    public static PackedB packB16(DType in, boolean transB, int k, int n, short[] b, int bOff, int ldb) {
        boolean bf16 = checkType("packB16", in);
        checkB("packB16", transB, k, n, b, bOff, ldb, b == null ? 0 : b.length);
        return new PackedB(in, k, n, b, bOff, ldb, transB, BlockedGemm.KERNEL,
                BlockedGemm.packB(BlockedGemm.KERNEL, k, n, GemmOperand.of16(b, bf16, bOff, ldb, transB)));
    }

    /**
     * {@link #sgemm} with a pre-packed FP32 B: {@code C = op(A) B + beta C}, {@code op(A)} m x
     * {@code b.k()}, C m x {@code b.n()}; the same bits as {@link #sgemm} with B's source.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code b} is not FP32, or as {@link #sgemm}
     */
    public static void sgemm(boolean transA, int m, float[] a, int aOff, int lda, PackedB b,
                             float beta, float[] c, int cOff, int ldc) {
        packedType("sgemm", b, DType.FP32);
        float[] bs = (float[]) b.source;
        check("sgemm", transA, b.trans, m, b.n, b.k, a, aOff, lda, a == null ? 0 : a.length,
                bs, b.off, b.ld, bs.length, c, cOff, ldc, c == null ? 0 : c.length);
        if (Backends.gemm().sgemm(Parallel.callerThreads(), transA, b.trans, m, b.n, b.k, a, aOff, lda, bs, b.off,
                b.ld, beta, c, cOff, ldc)) {
            return;
        }
        BlockedGemm.multiply(m, GemmOperand.of(a, aOff, lda, transA), b, GemmOutput.of(c, cOff, ldc, beta));
    }

    /**
     * {@link #gemm16(DType, boolean, boolean, int, int, int, short[], int, int, short[], int, int, float,
     * float[], int, int)} with a pre-packed B of type {@code in}, FP32 output: the same bits as that
     * call with B's source.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code in} is not FP16 or BF16, {@code b} is not of type
     *         {@code in}, or as {@link #sgemm}
     */
    public static void gemm16(DType in, boolean transA, int m, short[] a, int aOff, int lda, PackedB b,
                              float beta, float[] c, int cOff, int ldc) {
        boolean bf16 = checkType("gemm16", in);
        packedType("gemm16", b, in);
        short[] bs = (short[]) b.source;
        check("gemm16", transA, b.trans, m, b.n, b.k, a, aOff, lda, a == null ? 0 : a.length,
                bs, b.off, b.ld, bs.length, c, cOff, ldc, c == null ? 0 : c.length);
        if (Backends.gemm().gemm16(Parallel.callerThreads(), bf16, transA, b.trans, m, b.n, b.k, a, aOff, lda, bs,
                b.off, b.ld, beta, c, cOff, ldc)) {
            return;
        }
        BlockedGemm.multiply(m, GemmOperand.of16(a, bf16, aOff, lda, transA), b, GemmOutput.of(c, cOff, ldc, beta));
    }

    /**
     * FP32 inputs and output with a bias per column, the forward pass of a fully connected layer:
     * {@code C[i][j] = (op(A) op(B))[i][j] + bias[biasOff + j]}, the product rounded to FP32 and the
     * bias added in one more FP32 rounding, so the result is bit for bit {@link #sgemm} with
     * {@code beta = 0} followed by that add; the add runs while each block of C is in cache.
     *
     * @throws NullPointerException if an array is null
     * @throws IllegalArgumentException as {@link #sgemm}, or if {@code bias} has fewer than
     *         {@code biasOff + n} elements, or overlaps C
     */
    public static void sgemmBias(boolean transA, boolean transB, int m, int n, int k,
                                 float[] a, int aOff, int lda,
                                 float[] b, int bOff, int ldb,
                                 float[] bias, int biasOff, float[] c, int cOff, int ldc) {
        check("sgemmBias", transA, transB, m, n, k, a, aOff, lda, a == null ? 0 : a.length,
                b, bOff, ldb, b == null ? 0 : b.length, c, cOff, ldc, c == null ? 0 : c.length);
        checkBias("sgemmBias", n, bias, biasOff, c, cOff, ldc, m);
        GemmOutput out = GemmOutput.of(c, cOff, ldc, 0f).withBias(bias, biasOff);
        if (Backends.gemm().sgemm(Parallel.callerThreads(), transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
                0f, c, cOff, ldc)) {
            out.addBias(m, n);
            return;
        }
        BlockedGemm.multiply(m, n, k, GemmOperand.of(a, aOff, lda, transA),
                GemmOperand.of(b, bOff, ldb, transB), out);
    }

    /**
     * 16-bit inputs and output of type {@code in} (FP16 or BF16) with an FP32 bias per column:
     * {@code C[i][j] = r(r((op(A) op(B))[i][j]) + bias[biasOff + j])}, {@code r} rounding to
     * {@code in} to nearest even: bit for bit {@link #gemm16(DType, boolean, boolean, int, int, int,
     * short[], int, int, short[], int, int, float, short[], int, int)} with {@code beta = 0}
     * followed by adding the (exactly widened) bias in FP32 and rounding once more, as a separate
     * add of two 16-bit tensors does; the add runs while each block of C is in cache.
     *
     * @throws NullPointerException if {@code in} or an array is null
     * @throws IllegalArgumentException as {@link #gemm16}, or if {@code bias} has fewer than
     *         {@code biasOff + n} elements
     */
    public static void gemm16Bias(DType in, boolean transA, boolean transB, int m, int n, int k,
                                  short[] a, int aOff, int lda,
                                  short[] b, int bOff, int ldb,
                                  float[] bias, int biasOff, short[] c, int cOff, int ldc) {
        boolean bf16 = checkType("gemm16Bias", in);
        check("gemm16Bias", transA, transB, m, n, k, a, aOff, lda, a == null ? 0 : a.length,
                b, bOff, ldb, b == null ? 0 : b.length, c, cOff, ldc, c == null ? 0 : c.length);
        checkBias("gemm16Bias", n, bias, biasOff, null, 0, 0, 0);
        GemmOutput out = GemmOutput.of16(c, bf16, cOff, ldc, 0f).withBias(bias, biasOff);
        if (viaBackend16(Backends.gemm(), Parallel.callerThreads(), bf16, transA, transB, m, n, k, a, aOff, lda,
                b, bOff, ldb, 0f, c, cOff, ldc, bias, biasOff)) {
            return;
        }
        BlockedGemm.multiply(m, n, k, GemmOperand.of16(a, bf16, aOff, lda, transA),
                GemmOperand.of16(b, bf16, bOff, ldb, transB), out);
    }

    /**
     * A 16-bit C through {@code backend}: the FP32 product {@code P = op(A) op(B)} into this thread's
     * scratch, then {@code C = r(P + beta C)}, or {@code r(r(P + beta C) + bias[j])} with a bias,
     * {@code r} rounding to nearest even: the expression of the Java kernels' store
     * ({@link GemmOutput}), evaluated with the SIMD conversions. False, C untouched, when the
     * backend declines (arguments already checked).
     */
    static boolean viaBackend16(GemmBackend backend, int threads, boolean bf16, boolean transA, boolean transB,
                                int m, int n, int k, short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
                                float beta, short[] c, int cOff, int ldc, float[] bias, int biasOff) {
        if (m == 0 || n == 0 || !backend.computes16(bf16)) {
            return false;
        }
        float[] p = NATIVE.get(PRODUCT, m * n);
        if (!backend.gemm16(threads, bf16, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, 0f, p, 0, n)) {
            return false;
        }
        Parallel.forRange(m, Math.max(1, ROUND_GRAIN / n), (from, to) -> {
            float[] old = beta == 0f ? null : NATIVE.get(OLD_C, n);
            for (int i = from; i < to; i++) {
                int pr = i * n;
                int cr = cOff + i * ldc;
                if (old != null) {
                    widen(bf16, c, cr, old, 0, n);
                    for (int j = 0; j < n; j++) {
                        p[pr + j] = p[pr + j] + beta * old[j];
                    }
                }
                narrow(bf16, p, pr, c, cr, n);
                if (bias != null) {
                    widen(bf16, c, cr, p, pr, n);    // r(P + beta C), exactly
                    for (int j = 0; j < n; j++) {
                        p[pr + j] = p[pr + j] + bias[biasOff + j];
                    }
                    narrow(bf16, p, pr, c, cr, n);
                }
            }
        });
        return true;
    }

    private static void widen(boolean bf16, short[] src, int srcOff, float[] dst, int dstOff, int len) {
        if (bf16) {
            Convert.bfloat16ToFloat(src, srcOff, dst, dstOff, len);
        } else {
            Convert.halfToFloat(src, srcOff, dst, dstOff, len);
        }
    }

    private static void narrow(boolean bf16, float[] src, int srcOff, short[] dst, int dstOff, int len) {
        if (bf16) {
            Convert.floatToBFloat16(src, srcOff, dst, dstOff, len);
        } else {
            Convert.floatToHalf(src, srcOff, dst, dstOff, len);
        }
    }

    /** The bias checks: present, long enough for n columns, and not inside C (an FP32 C only). */
    private static void checkBias(String op, int n, float[] bias, int biasOff, float[] c, int cOff, int ldc, int m) {
        Objects.requireNonNull(bias, () -> "Gemm." + op + ": 'bias' is null");
        if (biasOff < 0 || (long) biasOff + n > bias.length) {
            throw new IllegalArgumentException("Gemm." + op + ": 'bias' needs " + n + " elements from biasOff="
                    + biasOff + " for n=" + n + ", has " + bias.length);
        }
        long cEnd = m == 0 || n == 0 ? cOff : cOff + (long) (m - 1) * ldc + n;
        if (bias == c && overlaps(biasOff, biasOff + (long) n, cOff, cEnd)) {
            throw new IllegalArgumentException("Gemm." + op + ": 'c' overlaps 'bias' in the same array: bias uses ["
                    + biasOff + ", " + (biasOff + n) + "), c uses [" + cOff + ", " + cEnd + ")");
        }
    }

    private static void packedType(String op, PackedB b, DType want) {
        Objects.requireNonNull(b, () -> "Gemm." + op + ": 'b' is null");
        if (b.dtype != want) {
            throw new IllegalArgumentException("Gemm." + op + ": packed 'b' must be " + want + ", got " + b.dtype);
        }
    }

    private static void checkB(String op, boolean transB, int k, int n, Object b, int bOff, int ldb, int bLen) {
        Objects.requireNonNull(b, () -> "Gemm." + op + ": 'b' is null");
        if (k < 0 || n < 0) {
            throw new IllegalArgumentException("Gemm." + op + ": sizes must be >= 0, got k=" + k + ", n=" + n);
        }
        extent(op, "b", "ldb", transB ? "n" : "k", transB ? n : k, transB ? "k" : "n", transB ? k : n,
                bOff, ldb, bLen, "k=" + k + ", n=" + n + ", transB=" + transB);
    }

    private static boolean checkType(String op, DType in) {
        Objects.requireNonNull(in, () -> "Gemm." + op + ": 'in' is null");
        if (!in.isHalfWidth()) {
            throw new IllegalArgumentException("Gemm." + op + ": 'in' must be FP16 or BF16, got " + in);
        }
        return in == DType.BF16;
    }

    private static void check(String op, boolean transA, boolean transB, int m, int n, int k,
                              Object a, int aOff, int lda, int aLen,
                              Object b, int bOff, int ldb, int bLen,
                              Object c, int cOff, int ldc, int cLen) {
        Objects.requireNonNull(a, () -> "Gemm." + op + ": 'a' is null");
        Objects.requireNonNull(b, () -> "Gemm." + op + ": 'b' is null");
        Objects.requireNonNull(c, () -> "Gemm." + op + ": 'c' is null");
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(
                    "Gemm." + op + ": sizes must be >= 0, got m=" + m + ", n=" + n + ", k=" + k);
        }
        long aEnd = extent(op, "a", "lda", transA ? "k" : "m", transA ? k : m, transA ? "m" : "k", transA ? m : k,
                aOff, lda, aLen, "m=" + m + ", k=" + k + ", transA=" + transA);
        long bEnd = extent(op, "b", "ldb", transB ? "n" : "k", transB ? n : k, transB ? "k" : "n", transB ? k : n,
                bOff, ldb, bLen, "k=" + k + ", n=" + n + ", transB=" + transB);
        long cEnd = extent(op, "c", "ldc", "m", m, "n", n, cOff, ldc, cLen, "m=" + m + ", n=" + n);
        if (c == a && overlaps(aOff, aEnd, cOff, cEnd)) {
            throw new IllegalArgumentException("Gemm." + op + ": 'c' overlaps 'a' in the same array: a uses ["
                    + aOff + ", " + aEnd + "), c uses [" + cOff + ", " + cEnd + ")");
        }
        if (c == b && overlaps(bOff, bEnd, cOff, cEnd)) {
            throw new IllegalArgumentException("Gemm." + op + ": 'c' overlaps 'b' in the same array: b uses ["
                    + bOff + ", " + bEnd + "), c uses [" + cOff + ", " + cEnd + ")");
        }
    }

    /**
     * Checks one stored matrix of {@code rows x cols} at {@code off} with leading dimension
     * {@code ld} and returns the end (exclusive) of the index range it uses.
     */
    private static long extent(String op, String name, String ldName, String rowsName, int rows,
                               String colsName, int cols, int off, int ld, int length, String dims) {
        if (off < 0) {
            throw new IllegalArgumentException(
                    "Gemm." + op + ": '" + name + "' offset must be >= 0, got " + name + "Off=" + off);
        }
        if (ld < cols) {
            throw new IllegalArgumentException("Gemm." + op + ": " + ldName + "=" + ld + " is smaller than the "
                    + cols + " columns of stored '" + name + "' (" + colsName + ") for " + dims);
        }
        long needed = rows == 0 || cols == 0 ? off : off + (long) (rows - 1) * ld + cols;
        if (needed > length) {
            throw new IllegalArgumentException("Gemm." + op + ": '" + name + "' is too short: needs " + needed
                    + " elements for " + dims + ", " + ldName + "=" + ld + ", " + name + "Off=" + off
                    + " (" + rowsName + "=" + rows + " stored rows), has " + length);
        }
        return needed;
    }

    private static boolean overlaps(long from1, long to1, long from2, long to2) {
        return from1 < to2 && from2 < to1;
    }
}
