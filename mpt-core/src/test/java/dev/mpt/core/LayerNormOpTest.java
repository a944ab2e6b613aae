package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LayerNormOpTest {

    private static final float EPS = 1e-5f;

    /** The chain of tensor ops LayerNormOp fuses (mpt-nn's LayerNorm before it). */
    private static Tensor chain(Tensor x, int[] dims, Tensor w, Tensor b) {
        Tensor xf = x.to(DType.FP32);
        Tensor y = xf.sub(xf.mean(dims, true)).div(xf.variance(dims, false, true).add(EPS).sqrt());
        if (w != null) {
            y = y.mul(w).add(b);
        }
        return y.to(x.dtype());
    }

    @Test
    void forwardIsBitForBitTheChainOfTensorOps() {
        var rng = new SplittableRandom(1);
        for (int n : new int[] {1, 7, 128}) {
            Tensor w = Tensor.randn(rng, DType.FP32, n);
            Tensor b = Tensor.randn(rng, DType.FP32, n);
            Tensor x32 = Tensor.randn(rng, DType.FP32, 3, 5, n).mul(4f).add(2f);
            for (DType dt : DType.values()) {
                Tensor x = x32.to(dt);
                for (boolean affine : new boolean[] {true, false}) {
                    Tensor want = chain(x, new int[] {2}, affine ? w : null, affine ? b : null);
                    Tensor got = LayerNormOp.forward(x, n, affine ? w : null, affine ? b : null, EPS);
                    assertEquals(dt, got.dtype());
                    assertArrayEquals(want.shape(), got.shape());
                    assertBits(want.toFloatArray(), got.toFloatArray(), dt + " n=" + n + " affine=" + affine);
                }
            }
        }
    }

    /**
     * The FP32 backward against the gradient of the exact (double) normalization of the same inputs.
     * Bounds, first order, u = 2^-24, per row (mu, sigma exact; xh = (x - mu) / sigma):
     * <pre>
     * xhat     E_k = u (4 |x_k| + 5 |mu|) / sigma   mean rounded (u |mu|), x - mean (u |x - mu|), sigma
     *                                               (var, var + eps, sqrt: 2u relative), the division
     *                                               (u |xh|); |xh| <= (|x| + |mu|) / sigma
     * dxhat    u |g gamma|                          the product
     * a        e_a = sum_k u |g gamma|              double sum of the rounded products
     * b        e_b = sum_k (u |xh| + E_k) |g gamma|
     * dx_k     (u |g gamma| + e_a / n + E_k |b| / n + |xh| e_b / n) / sigma + 3u |dx|   sigma 2u, the
     *                                               final rounding u
     * dgamma   sum_rows |g| E_k + u |dgamma|,   dbeta   (rows 2^-53 + u) sum_rows |g|
     * </pre>
     * The double arithmetic of the op's sums adds terms of order 2^-53, far below these; the test
     * allows twice the bound for the neglected second-order terms.
     */
    @Test
    void backwardMatchesTheDoubleReferenceWithinDerivedBounds() {
        var rng = new SplittableRandom(2);
        int rows = 150;
        int n = 48;
        Tensor x = Tensor.randn(rng, DType.FP32, rows, n).mul(3f).add(1.5f).requiresGrad(true);
        Tensor w = Tensor.randn(rng, DType.FP32, n).requiresGrad(true);
        Tensor b = Tensor.randn(rng, DType.FP32, n).requiresGrad(true);
        Tensor g = Tensor.randn(rng, DType.FP32, rows, n);
        LayerNormOp.forward(x, n, w, b, EPS).mul(g).sum().backward();
        double u = 0x1p-24;
        float[] xs = x.toFloatArray();
        float[] gs = g.toFloatArray();
        float[] gam = w.toFloatArray();
        float[] dx = x.grad().toFloatArray();
        double[] dGamma = new double[n];
        double[] dGammaErr = new double[n];
        double[] dBeta = new double[n];
        double[] absG = new double[n];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int k = 0; k < n; k++) {
                mu += xs[r * n + k];
            }
            mu /= n;
            double var = 0;
            for (int k = 0; k < n; k++) {
                var += (xs[r * n + k] - mu) * (xs[r * n + k] - mu);
            }
            double sigma = Math.sqrt(var / n + EPS);
            double[] xh = new double[n];
            double[] e = new double[n];
            double a = 0;
            double bb = 0;
            double ea = 0;
            double eb = 0;
            for (int k = 0; k < n; k++) {
                double xv = xs[r * n + k];
                xh[k] = (xv - mu) / sigma;
                e[k] = u * (4 * Math.abs(xv) + 5 * Math.abs(mu)) / sigma;
                double dh = (double) gs[r * n + k] * gam[k];
                a += dh;
                bb += dh * xh[k];
                ea += u * Math.abs(dh);
                eb += (u * Math.abs(xh[k]) + e[k]) * Math.abs(dh);
                dGamma[k] += gs[r * n + k] * xh[k];
                dGammaErr[k] += Math.abs(gs[r * n + k]) * e[k];
                dBeta[k] += gs[r * n + k];
                absG[k] += Math.abs(gs[r * n + k]);
            }
            for (int k = 0; k < n; k++) {
                double dh = (double) gs[r * n + k] * gam[k];
                double want = (dh - a / n - xh[k] * bb / n) / sigma;
                double bound = (u * Math.abs(dh) + ea / n + e[k] * Math.abs(bb) / n + Math.abs(xh[k]) * eb / n) / sigma
                        + 3 * u * Math.abs(want);
                within("dx[" + r + "," + k + "]", want, bound, dx[r * n + k]);
            }
        }
        float[] gotGamma = w.grad().toFloatArray();
        float[] gotBeta = b.grad().toFloatArray();
        for (int k = 0; k < n; k++) {
            within("dgamma[" + k + "]", dGamma[k], dGammaErr[k] + u * Math.abs(dGamma[k]), gotGamma[k]);
            within("dbeta[" + k + "]", dBeta[k], (rows * 0x1p-53 + u) * absG[k], gotBeta[k]);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        var rng = new SplittableRandom(3);
        GradCheck.assertGradients(in -> LayerNormOp.forward(in[0], 6, in[1], in[2], EPS),
                Tensor.randn(rng, DType.FP32, 2, 2, 2, 3), Tensor.randn(rng, DType.FP32, 2, 3),
                Tensor.randn(rng, DType.FP32, 2, 3));
        GradCheck.assertGradients(in -> LayerNormOp.forward(in[0], 4, null, null, 1e-3f),
                Tensor.randn(rng, DType.FP32, 3, 4));
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        int before = Parallel.threads();
        try {
            float[][] one = run(1);
            float[][] three = run(3);
            for (int i = 0; i < one.length; i++) {
                assertBits(one[i], three[i], "result " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Output and the three gradients over enough rows for several parameter-gradient chunks. */
    private static float[][] run(int threads) {
        Parallel.setThreads(threads);
        var rng = new SplittableRandom(4);
        int n = 128;
        int rows = 5 * LayerNormOp.chunkRows(n) + 3;
        Tensor x = Tensor.randn(rng, DType.FP32, rows, n).requiresGrad(true);
        Tensor w = Tensor.randn(rng, DType.FP32, n).requiresGrad(true);
        Tensor b = Tensor.randn(rng, DType.FP32, n).requiresGrad(true);
        Tensor y = LayerNormOp.forward(x, n, w, b, EPS);
        y.mul(Tensor.randn(rng, DType.FP32, rows, n)).sum().backward();
        return new float[][] {y.toFloatArray(), x.grad().toFloatArray(), w.grad().toFloatArray(),
                b.grad().toFloatArray()};
    }

    @Test
    void badInputsAreRefusedWithMessages() {
        Tensor x = Tensor.ones(2, 4);
        Tensor w = Tensor.ones(4);
        message(NullPointerException.class, "'x' is null", () -> LayerNormOp.forward(null, 4, w, w, EPS));
        message(IllegalArgumentException.class, "'n' must be >= 1 and divide the input's 8 elements (shape [2, 4]), got 3",
                () -> LayerNormOp.forward(x, 3, null, null, EPS));
        message(IllegalArgumentException.class, "'weight' and 'bias' must both be given or both be null",
                () -> LayerNormOp.forward(x, 4, w, null, EPS));
        message(IllegalArgumentException.class, "'bias' must be FP32 with 4 elements, got FP32 [3]",
                () -> LayerNormOp.forward(x, 4, w, Tensor.ones(3), EPS));
        message(IllegalArgumentException.class, "'weight' must be FP32 with 4 elements, got FP16 [4]",
                () -> LayerNormOp.forward(x, 4, w.to(DType.FP16), w, EPS));
        message(IllegalArgumentException.class, "'eps' must be finite and > 0, got 0.0",
                () -> LayerNormOp.forward(x, 4, w, w, 0f));
    }

    private static void message(Class<? extends RuntimeException> type, String part, Runnable r) {
        RuntimeException e = assertThrows(type, r::run);
        assertTrue(e.getMessage().startsWith("layerNorm: ") && e.getMessage().contains(part), e.getMessage());
    }

    private static void assertBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), what + " [" + i + "]: want "
                    + want[i] + ", got " + got[i]);
        }
    }

    /** |got - want| <= 2 * bound; the factor covers the neglected second-order terms. */
    private static void within(String what, double want, double bound, float got) {
        double err = Math.abs(got - want);
        if (!(err <= 2 * bound)) {
            throw new AssertionError(what + ": got " + got + ", want " + want + ", error " + err + " > 2 * " + bound);
        }
    }
}
