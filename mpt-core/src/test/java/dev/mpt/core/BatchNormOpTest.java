package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The fused {@link Tensor#batchNorm} against double references.
 *
 * <p>Forward bound, per output: the statistics are accumulated in double and rounded once to FP32
 * (u relative each); {@code x - mean}, {@code var + eps}, the square root, the division, the
 * scale and the shift round once each in FP32 (u). Each error is at most u times the magnitude it
 * scales, so {@code 8 u (|x| + |mean|) / sigma |gamma| + 4 u |y|} covers them; a 16-bit output
 * adds one rounding, {@code u_t (|y| + that)}.
 *
 * <p>Backward bound for {@code dx = gamma / sigma (g - mean(g) - xhat mean(g xhat))}: the two
 * means are double sums rounded once (u), {@code xhat} carries the forward's {@code 4 u (|x| +
 * |mean|) / sigma}, the three subtractions and two products round once each:
 * {@code |gamma| / sigma (8 u (|g| + |mean g| + |xhat| |mean g xhat|) + 4 u (|x| + |mean|) / sigma
 * |mean g xhat|) + 4 u |dx|}.
 */
class BatchNormOpTest {

    private static final double U = 0x1p-24;
    private static final double EPS = 1e-5;

    /** Per-channel mean and biased variance in double of a row-major {@code [n, c, inner]}. */
    private static double[][] stats(float[] x, int n, int c, int inner) {
        double[] mean = new double[c];
        double[] var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < inner; i++) {
                    s += x[(b * c + ch) * inner + i];
                }
            }
            mean[ch] = s / ((double) n * inner);
            double q = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < inner; i++) {
                    double d = x[(b * c + ch) * inner + i] - mean[ch];
                    q += d * d;
                }
            }
            var[ch] = q / ((double) n * inner);
        }
        return new double[][] {mean, var};
    }

    private static double forwardBound(double x, double mean, double var, double gamma, double y) {
        return 8 * U * (Math.abs(x) + Math.abs(mean)) / Math.sqrt(var + EPS) * Math.abs(gamma) + 4 * U * Math.abs(y);
    }

    /**
     * Large enough (2 x 24 x 40 x 40 = 76,800 elements) that the op splits its channels over
     * threads; values offset from zero so that the mean matters.
     */
    @ParameterizedTest
    @EnumSource(DType.class)
    void trainingForwardAndRunningStatisticsMatchDouble(DType dt) {
        var rng = new SplittableRandom(11);
        int n = 2;
        int c = 24;
        int inner = 1600;
        Tensor x = Tensor.randn(rng, DType.FP32, n, c, 40, 40).mul(3f).add(5f).to(dt);
        Tensor gamma = Tensor.randn(rng, DType.FP32, c);
        Tensor beta = Tensor.randn(rng, DType.FP32, c);
        Tensor rm = Tensor.randn(rng, DType.FP32, c);
        Tensor rv = Tensor.rand(rng, DType.FP32, c).add(0.5f);
        float[] rm0 = rm.toFloatArray();
        float[] rv0 = rv.toFloatArray();
        Tensor y = x.batchNorm(rm, rv, gamma, beta, true, 0.25, EPS);
        assertEquals(dt, y.dtype());
        float[] xs = x.toFloatArray();
        float[] ys = y.toFloatArray();
        float[] g = gamma.toFloatArray();
        float[] b = beta.toFloatArray();
        double[][] st = stats(xs, n, c, inner);
        double u = Ref.unitRoundoff(dt);
        for (int k = 0; k < xs.length; k++) {
            int ch = (k / inner) % c;
            double ref = (xs[k] - st[0][ch]) / Math.sqrt(st[1][ch] + EPS) * g[ch] + b[ch];
            double tol = forwardBound(xs[k], st[0][ch], st[1][ch], g[ch], ref);
            if (dt != DType.FP32) {
                tol += u * (Math.abs(ref) + tol);
            }
            assertEquals(ref, ys[k], tol, dt + " element " + k);
        }
        float[] rmNew = rm.toFloatArray();
        float[] rvNew = rv.toFloatArray();
        double m = (double) n * inner;
        for (int ch = 0; ch < c; ch++) {
            // 0.75 running + 0.25 stat: the stat's rounding, two products and the sum (u each)
            double refMean = 0.75 * rm0[ch] + 0.25 * st[0][ch];
            double refVar = 0.75 * rv0[ch] + 0.25 * st[1][ch] * m / (m - 1);
            assertEquals(refMean, rmNew[ch], 4 * U * (Math.abs(rm0[ch]) + Math.abs(st[0][ch])), "running mean");
            assertEquals(refVar, rvNew[ch], 6 * U * (rv0[ch] + st[1][ch]), "running var");
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void evaluationUsesRunningStatisticsAndLeavesThem(DType dt) {
        var rng = new SplittableRandom(12);
        Tensor x = Tensor.randn(rng, DType.FP32, 3, 4, 5).to(dt);
        Tensor rm = Tensor.randn(rng, DType.FP32, 4);
        Tensor rv = Tensor.rand(rng, DType.FP32, 4).add(0.1f);
        float[] rms = rm.toFloatArray();
        float[] rvs = rv.toFloatArray();
        float[] ys = x.batchNorm(rm, rv, null, null, false, 0.1, EPS).toFloatArray();
        float[] xs = x.toFloatArray();
        for (int k = 0; k < xs.length; k++) {
            int ch = (k / 5) % 4;
            double ref = (xs[k] - rms[ch]) / Math.sqrt(rvs[ch] + EPS);
            // running statistics are exact inputs here: x - mean, var + eps, sqrt, division (u each)
            double tol = 4 * U * (Math.abs(xs[k]) + Math.abs(rms[ch])) / Math.sqrt(rvs[ch] + EPS) + 2 * U * Math.abs(ref);
            if (dt != DType.FP32) {
                tol += Ref.unitRoundoff(dt) * (Math.abs(ref) + tol);
            }
            assertEquals(ref, ys[k], tol);
        }
        assertArrayEquals(rms, rm.toFloatArray());
        assertArrayEquals(rvs, rv.toFloatArray());
    }

    /** The analytic training gradient of the input against its double formula, on the parallel path. */
    @Test
    void trainingInputGradientMatchesDoubleFormula() {
        var rng = new SplittableRandom(13);
        int n = 4;
        int c = 16;
        int inner = 36 * 36;
        Tensor x = Tensor.randn(rng, DType.FP32, n, c, 36, 36).mul(2f).add(1f).requiresGrad(true);
        Tensor gamma = Tensor.randn(rng, DType.FP32, c).requiresGrad(true);
        Tensor beta = Tensor.randn(rng, DType.FP32, c).requiresGrad(true);
        Tensor seed = Tensor.randn(rng, DType.FP32, n, c, 36, 36);
        x.batchNorm(null, null, gamma, beta, true, 0.1, EPS).backward(seed);
        float[] xs = x.toFloatArray();
        float[] gs = seed.toFloatArray();
        float[] gm = gamma.toFloatArray();
        float[] dx = x.grad().toFloatArray();
        float[] dGamma = gamma.grad().toFloatArray();
        float[] dBeta = beta.grad().toFloatArray();
        double[][] st = stats(xs, n, c, inner);
        double count = (double) n * inner;
        for (int ch = 0; ch < c; ch++) {
            double sigma = Math.sqrt(st[1][ch] + EPS);
            double sumG = 0;
            double sumGX = 0;
            double absG = 0;
            double absGX = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < inner; i++) {
                    int k = (b * c + ch) * inner + i;
                    double xhat = (xs[k] - st[0][ch]) / sigma;
                    sumG += gs[k];
                    sumGX += gs[k] * xhat;
                    absG += Math.abs(gs[k]);
                    absGX += Math.abs(gs[k] * xhat);
                }
            }
            // double sums of FP32 products rounded once; each xhat carries its forward error
            assertEquals(sumG, dBeta[ch], U * Math.abs(sumG) + count * 0x1p-52 * absG, "dbeta " + ch);
            assertEquals(sumGX, dGamma[ch], U * Math.abs(sumGX) + 6 * U * absGX, "dgamma " + ch);
            double k1 = sumG / count;
            double k2 = sumGX / count;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < inner; i++) {
                    int k = (b * c + ch) * inner + i;
                    double xhat = (xs[k] - st[0][ch]) / sigma;
                    double ref = gm[ch] / sigma * (gs[k] - k1 - xhat * k2);
                    double tol = Math.abs(gm[ch]) / sigma
                            * (8 * U * (Math.abs(gs[k]) + Math.abs(k1) + Math.abs(xhat * k2))
                            + 4 * U * (Math.abs(xs[k]) + Math.abs(st[0][ch])) / sigma * Math.abs(k2))
                            + 4 * U * Math.abs(ref);
                    assertEquals(ref, dx[k], tol, "dx " + k);
                }
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        var rng = new SplittableRandom(14);
        GradCheck.assertGradients(in -> in[0].batchNorm(null, null, in[1], in[2], true, 0.1, EPS),
                Tensor.randn(rng, DType.FP32, 3, 2, 4), Tensor.randn(rng, DType.FP32, 2), Tensor.randn(rng, DType.FP32, 2));
        GradCheck.assertGradients(in -> in[0].batchNorm(null, null, null, null, true, 0.1, EPS),
                Tensor.randn(rng, DType.FP32, 5, 3));
        Tensor rm = Tensor.randn(rng, DType.FP32, 3);
        Tensor rv = Tensor.rand(rng, DType.FP32, 3).add(0.5f);
        GradCheck.assertGradients(in -> in[0].batchNorm(rm, rv, in[1], in[2], false, 0.1, EPS),
                Tensor.randn(rng, DType.FP32, 2, 3, 2, 2), Tensor.randn(rng, DType.FP32, 3), Tensor.randn(rng, DType.FP32, 3));
    }

    @Test
    void halfInputGetsHalfGradientAndFp32ParameterGradients() {
        var rng = new SplittableRandom(15);
        Tensor x = Tensor.randn(rng, DType.FP32, 4, 3, 2).to(DType.FP16).requiresGrad(true);
        Tensor gamma = Tensor.ones(3).requiresGrad(true);
        x.batchNorm(null, null, gamma, null, true, 0.1, EPS).to(DType.FP32).mul(x.to(DType.FP32).detach()).sum().backward();
        assertEquals(DType.FP16, x.grad().dtype());
        assertEquals(DType.FP32, gamma.grad().dtype());
        // the FP32 op on the widened input gives the same gradient before the final rounding
        Tensor x32 = x.detach().to(DType.FP32).requiresGrad(true);
        x32.batchNorm(null, null, Tensor.ones(3), null, true, 0.1, EPS).to(DType.FP16).to(DType.FP32)
                .mul(x32.detach()).sum().backward();
        assertArrayEquals(x32.grad().to(DType.FP16).toFloatArray(), x.grad().toFloatArray());
    }

    /** A strided view gives the same bits as its copy, and thread count does not change them. */
    @Test
    void layoutAndThreadCountIndependent() {
        var rng = new SplittableRandom(16);
        Tensor base = Tensor.randn(rng, DType.FP32, 8, 6, 40, 40).to(DType.FP16);
        Tensor view = base.transpose(0, 1);
        Tensor copy = view.contiguous();
        float[] a = view.batchNorm(null, null, null, null, true, 0.1, EPS).toFloatArray();
        float[] b = copy.batchNorm(null, null, null, null, true, 0.1, EPS).toFloatArray();
        assertArrayEquals(b, a);
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] one = copy.batchNorm(null, null, null, null, true, 0.1, EPS).toFloatArray();
            Parallel.setThreads(3);
            float[] three = copy.batchNorm(null, null, null, null, true, 0.1, EPS).toFloatArray();
            assertArrayEquals(one, three);
            assertArrayEquals(one, b);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void noGradRecordsNothing() {
        Tensor x = Tensor.randn(new SplittableRandom(17), DType.FP32, 4, 2).requiresGrad(true);
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor y = x.batchNorm(null, null, null, null, true, 0.1, EPS);
            assertTrue(!y.requiresGrad());
        }
        assertNull(x.grad());
    }

    @Test
    void badArgumentsNameTheProblem() {
        Tensor x = Tensor.ones(4, 3, 2);
        Tensor c3 = Tensor.ones(3);
        assertMessage("shape [N, C, ...]", () -> Tensor.ones(3).batchNorm(null, null, null, null, true, 0.1, EPS));
        assertMessage("weight must have shape [3]", () -> x.batchNorm(null, null, Tensor.ones(4), null, true, 0.1, EPS));
        assertMessage("both runningMean and runningVar", () -> x.batchNorm(c3, null, null, null, true, 0.1, EPS));
        assertMessage("evaluation mode needs", () -> x.batchNorm(null, null, null, null, false, 0.1, EPS));
        assertMessage("contiguous FP32", () -> x.batchNorm(c3.to(DType.FP16), Tensor.ones(3), null, null, true, 0.1, EPS));
        assertMessage("must not require grad",
                () -> x.batchNorm(Tensor.zeros(3).requiresGrad(true), Tensor.ones(3), null, null, true, 0.1, EPS));
        assertMessage("eps", () -> x.batchNorm(null, null, null, null, true, 0.1, 0));
        assertMessage("momentum", () -> x.batchNorm(null, null, null, null, true, 1.5, EPS));
        assertMessage("more than one value", () -> Tensor.ones(1, 3).batchNorm(null, null, null, null, true, 0.1, EPS));
        assertThrows(NullPointerException.class, () -> BatchNormOp.batchNorm(null, null, null, null, null, true, 0.1, EPS));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        var e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertTrue(e.getMessage().startsWith("batchNorm: "), e.getMessage());
    }
}
