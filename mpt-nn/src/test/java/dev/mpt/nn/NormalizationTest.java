package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NormalizationTest {

    private static final double U = 0x1p-24;
    private static final double U16 = 0x1p-11;

    /** Mean and biased variance of the values {@code v[off + k*stride]}, k < n, in double. */
    private static double[] stats(float[] v, int[] idx) {
        double m = 0;
        for (int i : idx) {
            m += v[i];
        }
        m /= idx.length;
        double s = 0;
        for (int i : idx) {
            s += (v[i] - m) * (v[i] - m);
        }
        return new double[] {m, s / idx.length};
    }

    /**
     * Bound for one normalized, affine output computed in FP32 from FP32 statistics: the mean and
     * variance are accumulated in double and rounded once (u relative each); x - mean, var + eps,
     * sqrt, the division, the scale and the shift round once each (u). Propagated to the output,
     * each contributes at most u times the magnitude it scales: 8 u (|x| + |mean|) / sigma |gamma|
     * + 4 u |y| covers them with room.
     */
    private static double bound(double x, double mean, double var, double eps, double gamma, double y) {
        return 8 * U * (Math.abs(x) + Math.abs(mean)) / Math.sqrt(var + eps) * Math.abs(gamma) + 4 * U * Math.abs(y);
    }

    @Test
    void layerNormMatchesDoubleReferenceInFp32AndFp16() {
        var rng = new SplittableRandom(1);
        var ln = new LayerNorm(8);
        ln.weight().set(Tensor.randn(rng, DType.FP32, 8));
        ln.bias().set(Tensor.randn(rng, DType.FP32, 8));
        float[] g = ln.weight().value().toFloatArray();
        float[] b = ln.bias().value().toFloatArray();
        Tensor x = Tensor.randn(rng, DType.FP32, 3, 8).mul(4f).add(2f);
        for (DType dt : new DType[] {DType.FP32, DType.FP16}) {
            Tensor xin = x.to(dt);
            ln.to(dt); // LayerNorm's parameters stay FP32
            assertEquals(DType.FP32, ln.weight().dtype());
            Tensor y = ln.forward(xin);
            assertEquals(dt, y.dtype());
            float[] xs = xin.toFloatArray();
            float[] ys = y.toFloatArray();
            for (int r = 0; r < 3; r++) {
                int[] idx = new int[8];
                for (int j = 0; j < 8; j++) {
                    idx[j] = r * 8 + j;
                }
                double[] st = stats(xs, idx);
                for (int j = 0; j < 8; j++) {
                    double xv = xs[r * 8 + j];
                    double ref = (xv - st[0]) / Math.sqrt(st[1] + 1e-5) * g[j] + b[j];
                    double tol = bound(xv, st[0], st[1], 1e-5, g[j], ref);
                    if (dt == DType.FP16) {
                        tol += U16 * (Math.abs(ref) + tol); // one rounding of the output to FP16
                    }
                    assertEquals(ref, ys[r * 8 + j], tol, dt + " [" + r + "," + j + "]");
                }
            }
        }
    }

    @Test
    void layerNormGradients() {
        var rng = new SplittableRandom(2);
        var ln = new LayerNorm(new int[] {2, 3}, 1e-5, true);
        GradCheck.assertGradients(in -> {
            ln.weight().set(in[1]);
            ln.bias().set(in[2]);
            return ln.forward(in[0]);
        }, Tensor.randn(rng, DType.FP32, 2, 2, 3), Tensor.randn(rng, DType.FP32, 2, 3), Tensor.randn(rng, DType.FP32, 2, 3));
        var plain = new LayerNorm(new int[] {4}, 1e-3, false);
        assertTrue(plain.namedParameters().isEmpty());
        GradCheck.assertGradients(in -> plain.forward(in[0]), Tensor.randn(rng, DType.FP32, 3, 4));
    }

    @Test
    void batchNorm2dTrainingStatisticsRunningUpdateAndEval() {
        var rng = new SplittableRandom(3);
        int n = 4;
        int c = 3;
        int hw = 5;
        var bn = new BatchNorm2d(c, 1e-5, 0.1);
        Tensor x = Tensor.randn(rng, DType.FP32, n, c, hw, 1).mul(3f).add(1f);
        float[] xs = x.toFloatArray();
        float[] y = bn.forward(x).toFloatArray();
        float[] rm = bn.runningMean().value().toFloatArray();
        float[] rv = bn.runningVar().value().toFloatArray();
        double[][] st = new double[c][];
        for (int ch = 0; ch < c; ch++) {
            int[] idx = new int[n * hw];
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < hw; p++) {
                    idx[i * hw + p] = (i * c + ch) * hw + p;
                }
            }
            st[ch] = stats(xs, idx);
            for (int k : idx) {
                double ref = (xs[k] - st[ch][0]) / Math.sqrt(st[ch][1] + 1e-5);
                assertEquals(ref, y[k], bound(xs[k], st[ch][0], st[ch][1], 1e-5, 1, ref), "train y");
            }
            int m = n * hw;
            // running = 0.9 running + 0.1 stat (unbiased variance), a few FP32 roundings each
            double refMean = 0.1 * st[ch][0];
            double refVar = 0.9 + 0.1 * st[ch][1] * m / (m - 1);
            assertEquals(refMean, rm[ch], 8 * U * Math.abs(st[ch][0]));
            assertEquals(refVar, rv[ch], 8 * U * refVar);
        }
        bn.eval();
        float[] ye = bn.forward(x).toFloatArray();
        for (int k = 0; k < xs.length; k++) {
            int ch = (k / hw) % c;
            double ref = (xs[k] - rm[ch]) / Math.sqrt(rv[ch] + 1e-5);
            assertEquals(ref, ye[k], bound(xs[k], rm[ch], rv[ch], 1e-5, 1, ref), "eval y");
        }
        assertArrayEquals(rm, bn.runningMean().value().toFloatArray(), "eval leaves the running mean alone");
    }

    /** Training installs new running-statistics tensors; one handed out before never changes. */
    @Test
    void trainingReplacesRunningStatisticsInsteadOfMutatingThem() {
        var bn = new BatchNorm2d(2);
        Tensor meanBefore = bn.runningMean().value();
        Tensor varBefore = bn.runningVar().value();
        bn.forward(Tensor.randn(new SplittableRandom(6), DType.FP32, 3, 2, 2, 2).add(4f));
        assertArrayEquals(new float[] {0f, 0f}, meanBefore.toFloatArray());
        assertArrayEquals(new float[] {1f, 1f}, varBefore.toFloatArray());
        assertTrue(bn.runningMean().value().toFloatArray()[0] > 0.1f, "the new running mean moved toward 4");
    }

    @Test
    void batchNormWithHalfInputKeepsFp32State() {
        var bn = new BatchNorm1d(4);
        var model = new Sequential(new Linear(3, 4, 1L), bn).to(DType.FP16);
        assertEquals(DType.FP16, model.namedParameters().get("0.weight").dtype());
        assertEquals(DType.FP32, bn.weight().dtype());
        assertEquals(DType.FP32, bn.runningMean().value().dtype());
        Tensor x = Tensor.randn(new SplittableRandom(4), DType.FP16, 8, 3);
        Tensor y = model.forward(x);
        assertEquals(DType.FP16, y.dtype());
        y.to(DType.FP32).sum().backward();
        assertEquals(DType.FP32, bn.weight().grad().dtype());
        assertEquals(DType.FP16, model.namedParameters().get("0.weight").grad().dtype());
    }

    @Test
    void batchNormGradients() {
        var rng = new SplittableRandom(5);
        var bn = new BatchNorm1d(3);
        GradCheck.assertGradients(in -> {
            bn.weight().set(in[1]);
            bn.bias().set(in[2]);
            return bn.forward(in[0]);
        }, Tensor.randn(rng, DType.FP32, 4, 3, 2), Tensor.randn(rng, DType.FP32, 3), Tensor.randn(rng, DType.FP32, 3));
        bn.eval();
        GradCheck.assertGradients(in -> bn.forward(in[0]), Tensor.randn(rng, DType.FP32, 4, 3));
    }

    @Test
    void badInputs() {
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(3).forward(Tensor.ones(2, 3)));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(3).forward(Tensor.ones(2, 4)));
        var e = assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(3).forward(Tensor.ones(1, 3)));
        assertTrue(e.getMessage().contains("more than one value"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(0));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(3, 0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(3, 1e-5, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(4).forward(Tensor.ones(2, 5)));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(new int[0], 1e-5, true));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(new int[] {3}, -1, true));
        assertThrows(NullPointerException.class, () -> new LayerNorm(3).forward(null));
    }
}
