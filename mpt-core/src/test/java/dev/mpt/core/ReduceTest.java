package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Reductions against double references.
 *
 * <p>Sums accumulate in double and round once to FP32: |out - ref| <= u_32 |ref| + n 2^-53 sum|x|
 * (Higham's bound for recursive summation of n terms in double, then one FP32 rounding). The
 * reference sums the same (exact) FP32 values of the input in double.
 */
class ReduceTest {

    private final SplittableRandom rng = new SplittableRandom(5);

    /** Reference sum over the dims marked in {@code red} of a row-major {@code x} of {@code shape}. */
    private static double[][] refSum(float[] x, int[] shape, boolean[] red) {
        int[] keep = shape.clone();
        for (int d = 0; d < shape.length; d++) {
            if (red[d]) {
                keep[d] = 1;
            }
        }
        int nOut = 1;
        for (int s : keep) {
            nOut *= s;
        }
        double[] sum = new double[nOut];
        double[] abs = new double[nOut];
        int[] cnt = new int[nOut];
        for (int i = 0; i < x.length; i++) {
            int[] idx = Ref.unravel(i, shape);
            int o = Ref.broadcastOffset(idx, keep);
            sum[o] += x[i];
            abs[o] += Math.abs(x[i]);
            cnt[o]++;
        }
        double[] n = new double[nOut];
        for (int i = 0; i < nOut; i++) {
            n[i] = cnt[i];
        }
        return new double[][] {sum, abs, n};
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void sumAndMeanOverDims(DType dt) {
        int[] shape = {3, 4, 5, 6};
        Tensor x = Tensor.randn(rng, DType.FP32, shape).to(dt);
        float[] xs = x.toFloatArray();
        int[][] dimSets = {{0}, {1}, {3}, {1, 2}, {0, 2}, {0, 3}, {0, 1, 2, 3}, {-1, -3}};
        for (int[] dims : dimSets) {
            boolean[] red = new boolean[4];
            for (int d : dims) {
                red[d < 0 ? d + 4 : d] = true;
            }
            double[][] ref = refSum(xs, shape, red);
            for (boolean keepDim : new boolean[] {false, true}) {
                Tensor s = x.sum(dims, keepDim);
                Tensor m = x.mean(dims, keepDim);
                assertEquals(DType.FP32, s.dtype());
                assertEquals(DType.FP32, m.dtype());
                float[] sv = s.toFloatArray();
                float[] mv = m.toFloatArray();
                for (int i = 0; i < sv.length; i++) {
                    double n = ref[2][i];
                    double tolSum = Ref.U32 * Math.abs(ref[0][i]) + n * 0x1p-53 * ref[1][i];
                    assertEquals(ref[0][i], sv[i], tolSum);
                    assertEquals(ref[0][i] / n, mv[i], tolSum / n + Ref.U32 * Math.abs(ref[0][i] / n));
                }
                int expectedRank = keepDim ? 4 : 4 - dims.length;
                assertEquals(expectedRank, s.dim());
            }
        }
    }

    @Test
    void sumOfAllAndParallelPathAgree() {
        Tensor x = Tensor.randn(rng, DType.FP16, 512, 300);
        float[] xs = x.toFloatArray();
        double ref = 0;
        double abs = 0;
        for (float v : xs) {
            ref += v;
            abs += Math.abs(v);
        }
        double tol = Ref.U32 * Math.abs(ref) + xs.length * 0x1p-53 * abs;
        assertEquals(ref, x.sum().item(), tol);
        assertEquals(0, x.sum().dim());
        // rows summed in parallel tasks: each row as the reference
        float[] rows = x.sum(1).toFloatArray();
        for (int r = 0; r < 512; r += 37) {
            double s = 0;
            for (int c = 0; c < 300; c++) {
                s += xs[r * 300 + c];
            }
            assertEquals((float) s, rows[r], "each row is summed in double and rounded once");
        }
    }

    @Test
    void varianceTwoPass() {
        // large offset: a one-pass E[x^2]-E[x]^2 would lose everything in FP32
        Tensor x = Tensor.randn(rng, DType.FP32, 6, 40).add(1000f);
        float[] xs = x.toFloatArray();
        float[] vu = x.variance(new int[] {1}, true, false).toFloatArray();
        float[] vb = x.variance(new int[] {1}, false, true).toFloatArray();
        for (int r = 0; r < 6; r++) {
            double m = 0;
            for (int c = 0; c < 40; c++) {
                m += xs[r * 40 + c];
            }
            m /= 40;
            double ss = 0;
            for (int c = 0; c < 40; c++) {
                ss += (xs[r * 40 + c] - m) * (xs[r * 40 + c] - m);
            }
            // double two-pass error ~ n 2^-53 (|x| |x - m|) terms, negligible next to one FP32 rounding
            double slack = 40 * 0x1p-50 * 1000 * 40;
            assertEquals(ss / 39, vu[r], Ref.U32 * ss / 39 + slack);
            assertEquals(ss / 40, vb[r], Ref.U32 * ss / 40 + slack);
        }
        assertArrayEquals(new int[] {6, 1}, x.variance(new int[] {1}, false, true).shape());
        assertThrows(IllegalArgumentException.class, () -> Tensor.ones(3, 1).variance(new int[] {1}, true, false));
    }

    @Test
    void maxAndArgmax() {
        Tensor x = Tensor.of(new float[] {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8}, 3, 4).to(DType.FP16);
        assertEquals(DType.FP16, x.max().dtype());
        assertEquals(9f, x.max().item());
        assertArrayEquals(new float[] {4, 9, 8}, x.max(1, false).toFloatArray());
        assertArrayEquals(new float[] {5, 9, 5, 8}, x.max(0, false).toFloatArray());
        assertArrayEquals(new float[] {2, 1, 3}, x.argmax(1, false).toFloatArray());
        assertArrayEquals(new int[] {3, 1}, x.argmax(-1, true).shape());
        assertArrayEquals(new float[] {1, 1, 2, 2}, x.argmax(0, false).toFloatArray());
        // ties: first index; NaN counts as largest
        Tensor t = Tensor.of(new float[] {2, 7, 7, Float.NaN, 1, 0}, 2, 3);
        assertArrayEquals(new float[] {1, 0}, t.argmax(1, false).toFloatArray());
        assertTrue(Float.isNaN(t.max(1, false).toFloatArray()[1]));
        assertArrayEquals(new float[] {9}, x.max(new int[] {0, 1}, true).toFloatArray());
    }

    @Test
    void softmaxAndLogSoftmaxAgainstDouble() {
        Tensor x = Tensor.randn(rng, DType.FP32, 4, 7, 3).mul(5f).to(DType.FP16);
        float[] xs = x.toFloatArray();
        for (int dim : new int[] {0, 1, 2}) {
            Tensor sm = x.softmax(dim);
            Tensor lsm = x.logSoftmax(dim);
            assertEquals(DType.FP32, sm.dtype());
            float[] s = sm.toFloatArray();
            float[] l = lsm.toFloatArray();
            int[] shape = x.shape();
            for (int i = 0; i < xs.length; i++) {
                int[] idx = Ref.unravel(i, shape);
                double sum = 0;
                for (int k = 0; k < shape[dim]; k++) {
                    idx[dim] = k;
                    sum += Math.exp(xs[Ref.broadcastOffset(idx, shape)]);
                }
                double ref = Math.exp(xs[i]) / sum;
                double logRef = xs[i] - Math.log(sum);
                // one FP32 rounding of a double result computed with a few ulps of double error
                assertEquals(ref, s[i], Ref.U32 * ref + 0x1p-45);
                assertEquals(logRef, l[i], Ref.U32 * Math.abs(logRef) + 0x1p-45 * (Math.abs(xs[i]) + Math.log(sum)));
            }
        }
        // stable for large inputs
        float[] big = Tensor.of(new float[] {1000f, 1000f}, 2).softmax(0).toFloatArray();
        assertArrayEquals(new float[] {0.5f, 0.5f}, big);
    }

    @Test
    void nonContiguousInput() {
        Tensor base = Tensor.randn(rng, DType.FP32, 5, 4);
        Tensor t = base.t();
        assertArrayEquals(base.sum(0).toFloatArray(), t.sum(1).toFloatArray());
        assertArrayEquals(base.contiguous().softmax(0).t().contiguous().toFloatArray(),
                t.softmax(1).toFloatArray());
    }

    @Test
    void badDimsAreReported() {
        Tensor x = Tensor.ones(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.sum(2));
        assertTrue(e.getMessage().contains("sum") && e.getMessage().contains("dim 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.mean(new int[] {0, 0}, false));
        assertTrue(e.getMessage().contains("repeated"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.softmax(-3));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 0).argmax(1, false));
    }
}
