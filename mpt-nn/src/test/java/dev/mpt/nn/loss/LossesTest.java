package dev.mpt.nn.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LossesTest {

    private static final double U = 0x1p-24;
    private static final int N = 6;
    private static final int C = 5;
    private static final int[] LABELS = {0, 4, 2, 2, 1, 3};

    private static Tensor logits(long seed) {
        return Tensor.randn(new SplittableRandom(seed), DType.FP32, N, C).mul(3f);
    }

    /** Reference loss and gradient (softmax - q) / N in double, q = (1 - eps) onehot + eps / C. */
    private static double[] reference(float[] z, double eps, double[] grad) {
        double loss = 0;
        for (int i = 0; i < N; i++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < C; c++) {
                m = Math.max(m, z[i * C + c]);
            }
            double s = 0;
            for (int c = 0; c < C; c++) {
                s += Math.exp(z[i * C + c] - m);
            }
            for (int c = 0; c < C; c++) {
                double logp = z[i * C + c] - m - Math.log(s);
                double q = (c == LABELS[i] ? 1 - eps : 0) + eps / C;
                loss -= q * logp / N;
                grad[i * C + c] = (Math.exp(logp) - q) / N;
            }
        }
        return new double[] {loss};
    }

    /**
     * Cross-entropy against the double reference. FP32 path: log-softmax per element within a few
     * ulps of max(|z|, log C) (softmax sums in double, then ~4 FP32 roundings), products and the sum
     * add one rounding each per term: |err| <= 8 u sum_ic q_ic (|logp_ic| + |z_i|max) / N. Gradient
     * (softmax - q)/N: softmax within 4u relative, the subtraction and division one rounding each.
     */
    @Test
    void crossEntropyAndSmoothingMatchDoubleReference() {
        for (double eps : new double[] {0, 0.1, 1}) {
            Tensor z = logits(1).requiresGrad(true);
            Tensor loss = Losses.crossEntropy(z, LABELS, eps);
            assertEquals(DType.FP32, loss.dtype());
            assertEquals(0, loss.dim());
            loss.backward();
            float[] zs = z.toFloatArray();
            double[] g = new double[N * C];
            double ref = reference(zs, eps, g)[0];
            double scale = 0;
            for (float v : zs) {
                scale = Math.max(scale, Math.abs(v));
            }
            assertEquals(ref, loss.item(), 8 * U * (Math.abs(ref) + 2 * scale + Math.log(C)), "eps " + eps);
            float[] ga = z.grad().toFloatArray();
            for (int j = 0; j < g.length; j++) {
                assertEquals(g[j], ga[j], 8 * U * (1.0 / N), "grad " + j + " eps " + eps);
            }
        }
        GradCheck.assertGradients(in -> Losses.crossEntropy(in[0], LABELS, 0.2), logits(2));
        GradCheck.assertGradients(in -> Losses.nll(in[0].logSoftmax(1), LABELS), logits(3));
    }

    @Test
    void smoothingFormulaForUniformLogits() {
        // all logits equal: log p = -log C for every class, so L = log C whatever eps
        Tensor z = Tensor.zeros(N, C);
        assertEquals(Math.log(C), Losses.crossEntropy(z, LABELS, 0.3).item(), 4 * U * Math.log(C));
        // a confident correct prediction: L(eps) = (1 - eps + eps/C) (-log p_y) + (eps/C) sum_{c != y} (-log p_c)
        float[] v = new float[C];
        v[0] = 10;
        Tensor one = Tensor.of(v, 1, C);
        double lse = Math.log(Math.exp(10) + (C - 1));
        double eps = 0.1;
        double ref = (1 - eps + eps / C) * (lse - 10) + eps / C * (C - 1) * lse;
        assertEquals(ref, Losses.crossEntropy(one, new int[] {0}, eps).item(), 8 * U * (lse + 10));
    }

    @Test
    void halfLogitsGiveFp32LossAndHalfGradient() {
        Tensor z32 = logits(4);
        Tensor z16 = z32.to(DType.FP16).detach().requiresGrad(true);
        Tensor loss = Losses.crossEntropy(z16, LABELS);
        assertEquals(DType.FP32, loss.dtype());
        loss.backward();
        assertEquals(DType.FP16, z16.grad().dtype());
        double[] g = new double[N * C];
        double ref = reference(z16.toFloatArray(), 0, g)[0];
        assertEquals(ref, loss.item(), 8 * U * (Math.abs(ref) + 30));
        float[] ga = z16.grad().toFloatArray();
        for (int j = 0; j < g.length; j++) {
            // FP32 gradient error as above, then one FP16 rounding (2^-11 relative, subnormals 2^-25 absolute)
            assertEquals(g[j], ga[j], 0x1p-11 * Math.abs(g[j]) + 8 * U / N + 0x1p-25, "grad " + j);
        }
    }

    @Test
    void mseAndBceAgainstDoubleReference() {
        var rng = new SplittableRandom(5);
        Tensor o = Tensor.randn(rng, DType.FP32, 3, 4);
        Tensor t = Tensor.rand(rng, DType.FP32, 3, 4);
        float[] os = o.toFloatArray();
        float[] ts = t.toFloatArray();
        double mse = 0;
        double bce = 0;
        double sq = 0;
        for (int j = 0; j < os.length; j++) {
            double d = (double) os[j] - ts[j];
            mse += d * d / os.length;
            sq += (Math.abs(os[j]) + ts[j]) * (Math.abs(os[j]) + ts[j]) / os.length;
            double x = os[j];
            bce += (Math.max(x, 0) - x * ts[j] + Math.log1p(Math.exp(-Math.abs(x)))) / os.length;
        }
        // subtraction, square and sum: 3 roundings relative to (|o| + |t|)^2
        assertEquals(mse, Losses.mse(o, t).item(), 4 * U * sq);
        assertEquals(bce, Losses.bceWithLogits(o, t).item(), 16 * U * (sq + 1));
        GradCheck.assertGradients(in -> Losses.mse(in[0], in[1]), o, t);
        GradCheck.assertGradients(in -> Losses.bceWithLogits(in[0], t), o);
        // stable for huge logits: no overflow, loss ~ |x| where the sign is wrong
        Tensor big = Tensor.of(new float[] {1000f, -1000f}, 2);
        assertEquals(500, Losses.bceWithLogits(big, Tensor.of(new float[] {0, 0}, 2)).item(), 1e-3);
        // gradient sigmoid(x) - t also at x = 0
        Tensor zero = Tensor.zeros(1).requiresGrad(true);
        Losses.bceWithLogits(zero, Tensor.zeros(1)).backward();
        assertEquals(0.5f, zero.grad().item());
        assertEquals(DType.FP32, Losses.mse(o.to(DType.FP16), t).dtype());
    }

    @Test
    void badInputsNameTheLossAndValues() {
        Tensor z = logits(6);
        var e = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, new int[] {0, 1, 2, 3, 4, 5}));
        assertTrue(e.getMessage().contains("crossEntropy") && e.getMessage().contains("label 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, new int[] {0, -1, 2, 3, 4, 1}));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Losses.nll(z, new int[] {0, 1}));
        assertTrue(e.getMessage().contains("nll") && e.getMessage().contains("2 labels"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, null));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z.reshape(30), LABELS));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, LABELS, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, LABELS, Double.NaN));
        assertThrows(NullPointerException.class, () -> Losses.crossEntropy(null, LABELS));
        e = assertThrows(IllegalArgumentException.class, () -> Losses.mse(z, Tensor.zeros(5, 6)));
        assertTrue(e.getMessage().contains("mse") && e.getMessage().contains("[6, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Losses.mse(z, null));
        e = assertThrows(IllegalArgumentException.class, () -> Losses.bceWithLogits(z, Tensor.full(2f, N, C)));
        assertTrue(e.getMessage().contains("bceWithLogits") && e.getMessage().contains("2.0"), e.getMessage());
        // non-finite logits are not rejected: the loss scaler must see the overflow
        Tensor inf = Tensor.full(Float.POSITIVE_INFINITY, N, C);
        assertFalse(Float.isFinite(Losses.crossEntropy(inf, LABELS).item()));
    }

    @Test
    void lossInterfaceTakesMethodReferences() {
        Loss<int[]> ce = Losses::crossEntropy;
        Loss<int[]> smoothed = (out, labels) -> Losses.crossEntropy(out, labels, 0.1);
        Loss<Tensor> mse = Losses::mse;
        Tensor z = logits(7);
        assertEquals(Losses.crossEntropy(z, LABELS).item(), ce.apply(z, LABELS).item());
        assertEquals(Losses.crossEntropy(z, LABELS, 0.1).item(), smoothed.apply(z, LABELS).item());
        assertEquals(0f, mse.apply(z, z).item());
    }
}
