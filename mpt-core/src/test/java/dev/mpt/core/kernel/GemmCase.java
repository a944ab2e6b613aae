package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Random;

/**
 * One random GEMM problem for the tests: stored A, B and C (FP32, FP16 or BF16 inputs; FP32 or
 * 16-bit output) with offsets and leading dimensions larger than the rows, the gaps filled with NaN
 * (so a kernel reading outside a matrix poisons its result) and, in C, a sentinel that must survive.
 *
 * <p>Error bound, derived from the arithmetic. The exact value of an element is
 * {@code t = sum_p a_ip b_pj + beta c}; the kernels form the k products and the beta term in FP32
 * and add them one by one (with or without a fused multiply-add), which is an inner product of
 * {@code n = k} terms (or {@code k + 1} with the beta term, counting {@code fl(beta c)} as a product).
 * The classical bound for any such evaluation (Higham, Accuracy and Stability, eq. 3.5) is
 * {@code |fl(t) - t| <= gamma_n * (sum_p |a_ip b_pj| + |beta c|)}, {@code gamma_n = n u / (1 - n u)},
 * {@code u = 2^-24}. The reference here sums exact products (a float times a float is exact in a
 * double) in double, itself within {@code gamma_n(2^-53) * S} of t; that is added to the bound. A
 * 16-bit output is the FP32 value v rounded once more: {@code |r - v| <= u16 |v| + eta} with
 * {@code u16 = 2^-11}, {@code eta = 2^-25} (half the smallest FP16 subnormal) for FP16 and
 * {@code u16 = 2^-8}, {@code eta = 2^-134} for BF16, and {@code |v| <= |t| + E32}.
 */
final class GemmCase {

    private static final double U = 0x1p-24;
    private static final double U_DOUBLE = 0x1p-53;
    private static final float C_SENTINEL = 12345.5f;

    final DType in;
    final DType out;
    final boolean transA;
    final boolean transB;
    final int m;
    final int n;
    final int k;
    final float beta;
    final int aOff;
    final int lda;
    final int bOff;
    final int ldb;
    final int cOff;
    final int ldc;
    /** Stored inputs: float[] when in == FP32, else short[] bit patterns. */
    final Object a;
    final Object b;
    /** Stored initial C: float[] when out == FP32, else short[]. */
    private final Object c0;
    /** Values of op(A), op(B) and the initial C, widened exactly. */
    private final double[] av;
    private final double[] bv;
    private final double[] cv;

    GemmCase(Random rnd, DType in, DType out, boolean transA, boolean transB, int m, int n, int k, float beta) {
        this.in = in;
        this.out = out;
        this.transA = transA;
        this.transB = transB;
        this.m = m;
        this.n = n;
        this.k = k;
        this.beta = beta;
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        aOff = rnd.nextInt(4);
        lda = aCols + rnd.nextInt(3);
        bOff = rnd.nextInt(4);
        ldb = bCols + rnd.nextInt(3);
        cOff = rnd.nextInt(4);
        ldc = n + rnd.nextInt(3);
        av = new double[m * k];
        bv = new double[k * n];
        cv = new double[m * n];
        a = stored(rnd, in, aOff, lda, aRows, aCols, av, k, transA);
        b = stored(rnd, in, bOff, ldb, bRows, bCols, bv, n, transB);
        c0 = storedC(rnd);
    }

    /** Fills a stored matrix with values in [-1, 1) exact in {@code type}; gaps are NaN. */
    private static Object stored(Random rnd, DType type, int off, int ld, int rows, int cols,
                                 double[] opValues, int opCols, boolean trans) {
        // opCols: columns of op(X) (k for A, n for B)
        int len = off + rows * ld + 2;
        float[] f = new float[len];
        Arrays.fill(f, Float.NaN);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = exact(type, rnd.nextFloat() * 2f - 1f);
                f[off + r * ld + c] = v;
                // stored (r, c) is op(X)(c, r) when transposed
                opValues[trans ? c * opCols + r : r * opCols + c] = v;
            }
        }
        return type == DType.FP32 ? f : bits(type, f);
    }

    private Object storedC(Random rnd) {
        int len = cOff + m * ldc + 2;
        float[] f = new float[len];
        Arrays.fill(f, C_SENTINEL);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float v = beta == 0f && rnd.nextInt(4) == 0 ? Float.NaN : exact(out, rnd.nextFloat() * 4f - 2f);
                f[cOff + i * ldc + j] = v;
                cv[i * n + j] = v;
            }
        }
        return out == DType.FP32 ? f : bits(out, f);
    }

    static float exact(DType type, float v) {
        return switch (type) {
            case FP32 -> v;
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> Float.intBitsToFloat(BFloat16.fromFloat(v) << 16);
        };
    }

    static short[] bits(DType type, float[] f) {
        short[] s = new short[f.length];
        if (type == DType.FP16) {
            Convert.floatToHalf(f, 0, s, 0, f.length);
        } else {
            Convert.floatToBFloat16(f, 0, s, 0, f.length);
        }
        return s;
    }

    /** A fresh copy of the initial C. */
    Object freshC() {
        return c0 instanceof float[] f ? f.clone() : ((short[]) c0).clone();
    }

    GemmOperand operandA() {
        return in == DType.FP32 ? GemmOperand.of((float[]) a, aOff, lda, transA)
                : GemmOperand.of16((short[]) a, in == DType.BF16, aOff, lda, transA);
    }

    GemmOperand operandB() {
        return in == DType.FP32 ? GemmOperand.of((float[]) b, bOff, ldb, transB)
                : GemmOperand.of16((short[]) b, in == DType.BF16, bOff, ldb, transB);
    }

    GemmOutput output(Object c) {
        return c instanceof float[] f ? GemmOutput.of(f, cOff, ldc, beta)
                : GemmOutput.of16((short[]) c, out == DType.BF16, cOff, ldc, beta);
    }

    /** Runs the public facade on a fresh C and returns it. */
    Object runPublic() {
        Object c = freshC();
        if (in == DType.FP32) {
            Gemm.sgemm(transA, transB, m, n, k, (float[]) a, aOff, lda, (float[]) b, bOff, ldb,
                    beta, (float[]) c, cOff, ldc);
        } else if (c instanceof float[] cf) {
            Gemm.gemm16(in, transA, transB, m, n, k, (short[]) a, aOff, lda, (short[]) b, bOff, ldb,
                    beta, cf, cOff, ldc);
        } else {
            Gemm.gemm16(in, transA, transB, m, n, k, (short[]) a, aOff, lda, (short[]) b, bOff, ldb,
                    beta, (short[]) c, cOff, ldc);
        }
        return c;
    }

    /** Runs the plain twin on a fresh C and returns it. */
    Object runReference() {
        Object c = freshC();
        if (in == DType.FP32) {
            GemmReference.sgemm(transA, transB, m, n, k, (float[]) a, aOff, lda, (float[]) b, bOff, ldb,
                    beta, (float[]) c, cOff, ldc);
        } else if (c instanceof float[] cf) {
            GemmReference.gemm16(in, transA, transB, m, n, k, (short[]) a, aOff, lda, (short[]) b, bOff, ldb,
                    beta, cf, cOff, ldc);
        } else {
            GemmReference.gemm16(in, transA, transB, m, n, k, (short[]) a, aOff, lda, (short[]) b, bOff, ldb,
                    beta, (short[]) c, cOff, ldc);
        }
        return c;
    }

    /** Runs the blocked path with the given kernel and thread count on a fresh C and returns it. */
    Object runBlocked(GemmKernel kernel, int threads) {
        Object c = freshC();
        BlockedGemm.blocked(kernel, threads, m, n, k, operandA(), operandB(), output(c));
        return c;
    }

    /** op(B) packed whole for {@code kernel}, as {@link Gemm#packB} packs it for the kernel of this JVM. */
    PackedB packedB(GemmKernel kernel) {
        return new PackedB(in, k, n, b, bOff, ldb, transB, kernel, BlockedGemm.packB(kernel, k, n, operandB()));
    }

    /** Runs the pre-packed path over {@code b} with the given thread count on a fresh C and returns it. */
    Object runPacked(PackedB b, int threads) {
        Object c = freshC();
        BlockedGemm.packed(threads, m, operandA(), b, output(c));
        return c;
    }

    /** Runs the small-problem loops on a fresh C and returns it. */
    Object runSimple() {
        Object c = freshC();
        BlockedGemm.simple(m, n, k, operandA(), operandB(), output(c));
        return c;
    }

    private double value(Object c, int idx) {
        if (c instanceof float[] f) {
            return f[idx];
        }
        short s = ((short[]) c)[idx];
        return out == DType.FP16 ? Float.float16ToFloat(s) : Float.intBitsToFloat(s << 16);
    }

    /** The exact value of element (i, j) and the derived bound on its error: {exact, bound}. */
    private double[] exactAndBound(int i, int j) {
        double exact = 0;
        double s = 0;
        for (int p = 0; p < k; p++) {
            double prod = av[i * k + p] * bv[p * n + j];
            exact += prod;
            s += Math.abs(prod);
        }
        int terms = k;
        if (beta != 0f) {
            double bc = (double) beta * cv[i * n + j];
            exact += bc;
            s += Math.abs(bc);
            terms++;
        }
        double bound = gamma(terms, U) * s + gamma(terms, U_DOUBLE) * s;
        if (out != DType.FP32) {
            double u16 = out == DType.FP16 ? 0x1p-11 : 0x1p-8;
            double eta = out == DType.FP16 ? 0x1p-25 : 0x1p-134;
            bound += u16 * (Math.abs(exact) + bound) + eta;
        }
        return new double[] {exact, bound};
    }

    /**
     * Asserts every element of {@code c} is within the derived bound of the exact value and that C
     * outside the m x n matrix is untouched.
     */
    void assertWithinBound(Object c, String what) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double[] eb = exactAndBound(i, j);
                double got = value(c, cOff + i * ldc + j);
                if (!(Math.abs(got - eb[0]) <= eb[1])) {
                    fail(what + " " + this + ": C[" + i + "][" + j + "] = " + got + ", exact " + eb[0]
                            + ", |error| " + Math.abs(got - eb[0]) + " > bound " + eb[1]);
                }
            }
        }
        assertOutsideUntouched(c, what);
    }

    private void assertOutsideUntouched(Object c, String what) {
        Object init = c0;
        int len = c instanceof float[] f ? f.length : ((short[]) c).length;
        for (int idx = 0; idx < len; idx++) {
            int r = idx - cOff;
            boolean inside = ldc > 0 && r >= 0 && r / ldc < m && r % ldc < n;
            if (!inside) {
                assertEquals(value(init, idx), value(c, idx), what + " " + this + ": wrote outside C at " + idx);
            }
        }
    }

    static double gamma(int n, double u) {
        return n * u / (1 - n * u);
    }

    /** Bit-exact comparison of two outputs (NaN payloads included). */
    static void assertSameBits(Object expected, Object actual, String what) {
        if (expected instanceof float[] e) {
            float[] a = (float[]) actual;
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
                    fail(what + ": element " + i + " differs: " + e[i] + " vs " + a[i]);
                }
            }
        } else {
            short[] e2 = (short[]) expected;
            short[] a2 = (short[]) actual;
            for (int i = 0; i < e2.length; i++) {
                if (e2[i] != a2[i]) {
                    fail(what + ": element " + i + " differs: 0x" + Integer.toHexString(e2[i] & 0xffff)
                            + " vs 0x" + Integer.toHexString(a2[i] & 0xffff));
                }
            }
        }
    }

    @Override
    public String toString() {
        return in + "->" + out + " transA=" + transA + " transB=" + transB + " m=" + m + " n=" + n + " k=" + k
                + " beta=" + beta + " aOff=" + aOff + " lda=" + lda + " bOff=" + bOff + " ldb=" + ldb
                + " cOff=" + cOff + " ldc=" + ldc;
    }
}
