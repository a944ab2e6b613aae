package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemm#sgemmBias} and {@link Gemm#gemm16Bias} are, bit for bit, their specification: the
 * plain product ({@link Gemm#sgemm} / {@link Gemm#gemm16} with {@code beta = 0}, which
 * {@code GemmTest} holds to a double reference) followed by {@code C[i][j] = r(C[i][j] + bias[j])}
 * in FP32, {@code r} rounding to C's type. Over the small-problem, blocked and parallel paths,
 * every transpose, edge tiles, k = 0, offsets and padded leading dimensions, on 1 and 3 threads.
 */
class GemmBiasTest {

    private static final int[][] MNK = {
        {1, 1, 1}, {3, 5, 0}, {7, 9, 4}, {13, 49, 7}, {33, 47, 130}, {130, 200, 100}, {9, 100, 300}};

    @Test
    void biasInTheStoreEqualsProductThenAdd() {
        SplittableRandom rng = new SplittableRandom(8);
        int threads = Parallel.threads();
        try {
            for (int t : new int[] {1, 3}) {
                Parallel.setThreads(t);
                for (int[] s : MNK) {
                    for (int trans = 0; trans < 4; trans++) {
                        for (DType dtype : new DType[] {DType.FP32, DType.FP16, DType.BF16}) {
                            check(rng, dtype, (trans & 1) != 0, (trans & 2) != 0, s[0], s[1], s[2],
                                    dtype + " " + java.util.Arrays.toString(s) + " trans " + trans + " threads " + t);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    private static void check(SplittableRandom rng, DType dtype, boolean transA, boolean transB, int m, int n, int k,
                              String what) {
        int lda = (transA ? m : k) + 2;
        int ldb = (transB ? k : n) + 1;
        int ldc = n + 3;
        int aOff = 1;
        int bOff = 2;
        int cOff = 3;
        int biasOff = 4;
        float[] a = random(rng, aOff + (transA ? k : m) * lda);
        float[] b = random(rng, bOff + (transB ? n : k) * ldb);
        float[] bias = random(rng, biasOff + n);
        if (n > 2) {
            bias[biasOff + 1] = Float.POSITIVE_INFINITY;   // overflow and NaN travel as in a plain add
            bias[biasOff + 2] = Float.NaN;
        }
        int cLen = cOff + m * ldc;
        if (dtype == DType.FP32) {
            float[] want = random(rng, cLen);
            float[] got = want.clone();
            Gemm.sgemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, 0f, want, cOff, ldc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    want[cOff + i * ldc + j] += bias[biasOff + j];
                }
            }
            Gemm.sgemmBias(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, bias, biasOff, got, cOff, ldc);
            for (int i = 0; i < cLen; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " at " + i);
            }
            return;
        }
        boolean bf16 = dtype == DType.BF16;
        short[] a16 = narrow(a, bf16);
        short[] b16 = narrow(b, bf16);
        short[] want = narrow(random(rng, cLen), bf16);
        short[] got = want.clone();
        Gemm.gemm16(dtype, transA, transB, m, n, k, a16, aOff, lda, b16, bOff, ldb, 0f, want, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int at = cOff + i * ldc + j;
                float sum = (bf16 ? BFloat16.toFloat(want[at]) : Float.float16ToFloat(want[at])) + bias[biasOff + j];
                want[at] = bf16 ? BFloat16.fromFloat(sum) : Float.floatToFloat16(sum);
            }
        }
        Gemm.gemm16Bias(dtype, transA, transB, m, n, k, a16, aOff, lda, b16, bOff, ldb, bias, biasOff, got, cOff, ldc);
        for (int i = 0; i < cLen; i++) {
            assertEquals(want[i], got[i], what + " at " + i);
        }
    }

    @Test
    void badBiasIsNamed() {
        float[] a = new float[6];
        float[] c = new float[4];
        var e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemmBias(false, false, 2, 2, 3, a, 0, 3, a, 0, 2, new float[3], 2, c, 0, 2));
        assertTrue(e.getMessage().contains("Gemm.sgemmBias: 'bias' needs 2 elements from biasOff=2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemmBias(false, false, 2, 2, 3, a, 0, 3, a, 0, 2, c, 1, c, 0, 2));
        assertTrue(e.getMessage().contains("'c' overlaps 'bias'"), e.getMessage());
        var n = assertThrows(NullPointerException.class, () -> Gemm.gemm16Bias(DType.FP16, false, false, 2, 2, 3,
                new short[6], 0, 3, new short[6], 0, 2, null, 0, new short[4], 0, 2));
        assertTrue(n.getMessage().contains("Gemm.gemm16Bias: 'bias' is null"), n.getMessage());
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return v;
    }

    private static short[] narrow(float[] x, boolean bf16) {
        short[] h = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            h[i] = bf16 ? BFloat16.fromFloat(x[i]) : Float.floatToFloat16(x[i]);
        }
        return h;
    }
}
