package dev.mpt.core.kernel;

import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;

/**
 * The specification of {@link Gemm}: plain triple loops, no validation, no blocking.
 *
 * <p>Each element is {@code acc = 0; for p in 0..k-1: acc = fma(op(A)[i][p], op(B)[p][j], acc)}
 * in FP32 (a fused multiply-add: each step rounds once to FP32), then
 * {@code C[i][j] = beta == 0 ? acc : acc + beta * C[i][j]}, rounded once more to the output type
 * when C is 16-bit. Every path of {@link Gemm} (small loops, scalar and Vector API micro-kernels,
 * any blocking, any thread count) sums each element in this order with fused multiply-adds, so
 * they all reproduce these loops bit for bit: an element of C does not depend on the problem's
 * size, its blocking or the SIMD path (a row computed in a batch of 1 equals the same row in a
 * batch of 1000).
 */
final class GemmReference {

    private GemmReference() {
    }

    /** FP32 inputs, FP32 output; arguments as {@link Gemm#sgemm}. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int p = 0; p < k; p++) {
                    float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    acc = Math.fma(x, y, acc);
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? acc : acc + beta * c[ci];
            }
        }
    }

    /** 16-bit inputs, FP32 output; arguments as {@link Gemm#gemm16(DType, boolean, boolean, int, int, int, short[], int, int, short[], int, int, float, float[], int, int)}. */
    static void gemm16(DType in, boolean transA, boolean transB, int m, int n, int k,
                       short[] a, int aOff, int lda,
                       short[] b, int bOff, int ldb,
                       float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = dot16(in, transA, transB, k, a, aOff, lda, b, bOff, ldb, i, j);
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? acc : acc + beta * c[ci];
            }
        }
    }

    /** 16-bit inputs and output; arguments as {@link Gemm#gemm16(DType, boolean, boolean, int, int, int, short[], int, int, short[], int, int, float, short[], int, int)}. */
    static void gemm16(DType in, boolean transA, boolean transB, int m, int n, int k,
                       short[] a, int aOff, int lda,
                       short[] b, int bOff, int ldb,
                       float beta, short[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = dot16(in, transA, transB, k, a, aOff, lda, b, bOff, ldb, i, j);
                int ci = cOff + i * ldc + j;
                float v = beta == 0f ? acc : acc + beta * widen(in, c[ci]);
                c[ci] = narrow(in, v);
            }
        }
    }

    private static float dot16(DType in, boolean transA, boolean transB, int k,
                               short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int i, int j) {
        float acc = 0f;
        for (int p = 0; p < k; p++) {
            short x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
            short y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
            acc = Math.fma(widen(in, x), widen(in, y), acc);
        }
        return acc;
    }

    static float widen(DType in, short bits) {
        return in == DType.FP16 ? Float.float16ToFloat(bits) : Float.intBitsToFloat(bits << 16);
    }

    static short narrow(DType in, float v) {
        if (in == DType.FP16) {
            return Float.floatToFloat16(v);
        }
        return BFloat16.fromFloat(v);
    }
}
