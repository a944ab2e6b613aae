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
     * Error bound of the FP32 cross-entropy, counted from its roundings ({@code u = 2^-24}):
     * <ul>
     * <li>{@code logp = (float) (z - lse)} with {@code lse = m + log sum exp(z - m)} in double:
     *     one FP32 rounding, {@code u |logp|}, plus the double evaluation's error {@code eta <=
     *     2^-50 (C + 2 max|z| + log C)} (C exps and additions, one log, two subtractions, each within
     *     an ulp of double, relative to at most {@code C} and {@code |z| + lse});
     * <li>{@code q} rounded to FP32 ({@code u q}), the product {@code logp q} (u), the sum in double
     *     rounded once to FP32 (u), the division by N (u).
     * </ul>
     * Every term {@code q logp} has the same sign, so the relative errors add up over the sum without
     * cancellation: {@code |L - ref| <= 5u |ref| + 2 eta} to first order; {@code 2^-40 |ref|} covers
     * the second-order terms and the double sums of the kernel and the reference (at most
     * {@code NC 2^-53} relative), and {@code 2^-46 (C + 2 max|z| + log C)} covers {@code 2 eta} and
     * the reference's own log-sum-exp. (Was {@code 8u (|ref| + 2 max|z| + log C)} and, for FP16
     * logits, {@code 8u (|ref| + 30)}: neither counted.)
     */
    static double lossBound(double ref, double maxAbsLogit) {
        return (5 * U + 0x1p-40) * Math.abs(ref) + 0x1p-46 * (C + 2 * maxAbsLogit + Math.log(C));
    }

    /**
     * Error bound of one element of the FP32 gradient {@code (p - q) / N}, from autograd's chain:
     * the seed 1 divided by N (u), times the FP32 {@code q} (u, u): {@code gv = -(q/N)(1 + 3u)};
     * log-softmax's backward {@code (float) (gv - exp(logp) sum(gv))} in double, where
     * {@code sum(gv) = -(1/N)(1 + 3u)} (the real q sum to 1) and {@code exp(logp)} carries logp's
     * error {@code u |log p|} as {@code p u |log p| <= u / e}; then one rounding to FP32,
     * {@code u |g|}. In all {@code (u/N)(3q + 3p + 1/e) + u |g|}, with {@code 2^-20} of it for
     * second-order terms and {@code 2^-46 / N (C + 2 max|z|)} for the double evaluations. At most
     * {@code 6.4u / N} (p and q both near 1), {@code 0.37u / N} where both are near 0 (was
     * {@code 8u / N} for every element).
     */
    static double gradBound(double p, double q, double g, double maxAbsLogit) {
        return ((U / N) * (3 * q + 3 * p + 1 / Math.E) + U * Math.abs(g)) * (1 + 0x1p-20)
                + 0x1p-46 / N * (C + 2 * maxAbsLogit);
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    /** The smoothed target q of element {@code j} of the [N, C] logits. */
    private static double target(int j, double eps) {
        return (j % C == LABELS[j / C] ? 1 - eps : 0) + eps / C;
    }

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
            double scale = maxAbs(zs);
            assertEquals(ref, loss.item(), lossBound(ref, scale), "eps " + eps);
            float[] ga = z.grad().toFloatArray();
            for (int j = 0; j < g.length; j++) {
                double q = target(j, eps);
                double p = g[j] * N + q;
                assertEquals(g[j], ga[j], gradBound(p, q, g[j], scale), "grad " + j + " eps " + eps);
            }
        }
        GradCheck.assertGradients(in -> Losses.crossEntropy(in[0], LABELS, 0.2), logits(2));
        GradCheck.assertGradients(in -> Losses.nll(in[0].logSoftmax(1), LABELS), logits(3));
    }

    @Test
    void smoothingFormulaForUniformLogits() {
        // all logits equal: log p = -log C for every class, so L = log C whatever eps
        Tensor z = Tensor.zeros(N, C);
        assertEquals(Math.log(C), Losses.crossEntropy(z, LABELS, 0.3).item(), lossBound(Math.log(C), 0));
        // a confident correct prediction: L(eps) = (1 - eps + eps/C) (-log p_y) + (eps/C) sum_{c != y} (-log p_c)
        float[] v = new float[C];
        v[0] = 10;
        Tensor one = Tensor.of(v, 1, C);
        double lse = Math.log(Math.exp(10) + (C - 1));
        double eps = 0.1;
        double ref = (1 - eps + eps / C) * (lse - 10) + eps / C * (C - 1) * lse;
        assertEquals(ref, Losses.crossEntropy(one, new int[] {0}, eps).item(), lossBound(ref, 10));
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
        double scale = maxAbs(z16.toFloatArray());
        // the FP16 logits widen exactly to FP32: the FP32 bound holds as it is
        assertEquals(ref, loss.item(), lossBound(ref, scale));
        float[] ga = z16.grad().toFloatArray();
        for (int j = 0; j < g.length; j++) {
            // the FP32 gradient's bound e, then one rounding to FP16 of a value within e of g:
            // 2^-11 (|g| + e) relative, or 2^-25 absolute among the subnormals
            double q = target(j, 0);
            double e = gradBound(g[j] * N + q, q, g[j], scale);
            assertEquals(g[j], ga[j], e + 0x1p-11 * (Math.abs(g[j]) + e) + 0x1p-25, "grad " + j);
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
        double bceBound = 0;
        for (int j = 0; j < os.length; j++) {
            double d = (double) os[j] - ts[j];
            mse += d * d / os.length;
            double x = os[j];
            double l = Math.max(x, 0) - x * ts[j] + Math.log1p(Math.exp(-Math.abs(x)));
            bce += l / os.length;
            // per element: x t (u |x t|), relu(x) - x t (u |relu(x) - x t|), log(1 + exp(-|x|))
            // (exp rounded: u e; + 1 rounded: u (1 + e); so log's argument within 1.5u relative,
            // then log rounded: u log 2; in all 2.25u absolute), the final add (u l)
            bceBound += (Math.abs(x * ts[j]) + Math.abs(Math.max(x, 0) - x * ts[j]) + 2.25 + l) / os.length;
        }
        // MSE: the subtraction's rounding doubles in the square (2u relative to d^2), the square's own
        // (u), the mean in double rounded once (u): all terms positive, so 4u mse; 2^-40 mse for second-order
        // terms and the double sums (was 4u mean((|o| + |t|)^2), counted against a larger quantity)
        assertEquals(mse, Losses.mse(o, t).item(), (4 * U + 0x1p-40) * mse);
        // BCE: the per-element bounds above, averaged, plus the mean's rounding (u bce); 2^-20 of it
        // for second-order terms and double evaluations (was 16u (mean((|o| + |t|)^2) + 1), uncounted)
        assertEquals(bce, Losses.bceWithLogits(o, t).item(), U * (bceBound + bce) * (1 + 0x1p-20));
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
