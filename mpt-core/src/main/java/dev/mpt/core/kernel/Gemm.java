package dev.mpt.core.kernel;

import dev.mpt.core.DType;

/**
 * General matrix multiply with FP32 accumulation: {@code C = op(A) * op(B) + beta * C}, where
 * {@code op(X)} is X or its transpose. Matrices are row-major slices of arrays: element (i, j) of a
 * stored matrix X is {@code x[xOff + i * ldx + j]}. {@code op(A)} is m x k, {@code op(B)} is k x n,
 * C is m x n. When {@code beta == 0} the old contents of C are ignored (NaN in C does not leak).
 *
 * <p>FP16 and BF16 inputs are widened exactly to FP32, products and sums are formed in FP32, and a
 * 16-bit C is rounded once, to nearest even, when written (the paper's FP16 arithmetic with FP32
 * accumulation).
 */
public final class Gemm {

    private Gemm() {
    }

    /** FP32 inputs, FP32 output. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int p = 0; p < k; p++) {
                    float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    acc += x * y;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? acc : acc + beta * c[ci];
            }
        }
    }

    /** 16-bit inputs of type {@code in} (FP16 or BF16), FP32 output. */
    public static void gemm16(DType in, boolean transA, boolean transB, int m, int n, int k,
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

    /** 16-bit inputs and output of type {@code in} (FP16 or BF16); C rounded once per element. */
    public static void gemm16(DType in, boolean transA, boolean transB, int m, int n, int k,
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
            acc += widen(in, x) * widen(in, y);
        }
        return acc;
    }

    private static float widen(DType in, short bits) {
        return in == DType.FP16 ? Float.float16ToFloat(bits) : Float.intBitsToFloat(bits << 16);
    }

    private static short narrow(DType in, float v) {
        if (in == DType.FP16) {
            return Float.floatToFloat16(v);
        }
        short[] out = new short[1];
        Convert.floatToBFloat16(new float[] {v}, 0, out, 0, 1);
        return out[0];
    }
}
