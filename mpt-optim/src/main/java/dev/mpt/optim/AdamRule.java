package dev.mpt.optim;

import dev.mpt.core.kernel.Parallel;

import java.util.List;

/**
 * Adam and AdamW with PyTorch's semantics, applied in FP32 to master parameters (Kingma and Ba,
 * 2015; Loshchilov and Hutter, 2019, for the decoupled weight decay). At step {@code t >= 1}:
 * <pre>
 *   p  = p * (1 - lr * weightDecay)                     (AdamW: decoupled)
 *   g  = g + weightDecay * p                            (Adam: L2 added to the gradient)
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * (g * g)
 *   p  = p - (lr / (1 - beta1^t)) * (m / (sqrt(v) / sqrt(1 - beta2^t) + eps))
 * </pre>
 * The per-step scalars ({@code 1 - lr*wd}, {@code lr / (1 - beta1^t)}, {@code sqrt(1 - beta2^t)},
 * {@code 1 - beta1}, {@code 1 - beta2}) are computed in double and rounded to FP32 once; every
 * per-element operation is one FP32 operation rounded to nearest (no fused multiply-add; FP32
 * square root is correctly rounded).
 *
 * @param beta1       in [0, 1)
 * @param beta2       in [0, 1)
 * @param eps         finite and {@code > 0}
 * @param weightDecay finite and {@code >= 0}
 * @param decoupled   true for AdamW's decoupled decay, false for Adam's L2 decay
 */
public record AdamRule(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {

    /** The names of Adam's and AdamW's two state arrays (PyTorch's): first and second moment. */
    static final List<String> STATE_NAMES = List.of("exp_avg", "exp_avg_sq");

    /** Default beta1 of Adam and AdamW: 0.9. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** Default beta2 of Adam and AdamW: 0.999. */
    public static final double DEFAULT_BETA2 = 0.999;
    /** Default eps of Adam and AdamW: 1e-8. */
    public static final double DEFAULT_EPS = 1e-8;
    /** Default weight decay of AdamW: 0.01 (Adam's default is 0). */
    public static final double DEFAULT_ADAMW_WEIGHT_DECAY = 0.01;

    /** Elements per task when an update is split over threads (a few microseconds each). */
    static final int PARALLEL_GRAIN = 1 << 14;

    /** Validates the hyper-parameters. */
    public AdamRule {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("AdamRule: beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamRule: beta2 must be in [0, 1), got " + beta2);
        }
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("AdamRule: eps must be finite and > 0, got " + eps);
        }
        RuleChecks.nonNegativeFinite("AdamRule", "weightDecay", weightDecay);
    }

    /** Adam with the defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public static AdamRule adam() {
        return new AdamRule(DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, 0, false);
    }

    /** AdamW with the defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public static AdamRule adamW() {
        return new AdamRule(DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_ADAMW_WEIGHT_DECAY, true);
    }

    /**
     * Applies step {@code step} to {@code param[off, off+len)}; modifies {@code param},
     * {@code m} and {@code v}, reads {@code grad}.
     *
     * @param lr   learning rate, finite and {@code >= 0}
     * @param step 1 for the first step, then 2, 3, ... (drives the bias corrections)
     * @param m    first-moment FP32 state, zero before the first step
     * @param v    second-moment FP32 state, zero before the first step
     * @throws IllegalArgumentException  if {@code lr} or {@code step} is out of range
     * @throws NullPointerException      if an array is null
     * @throws IndexOutOfBoundsException if the range falls outside an array
     */
    public void apply(double lr, long step, float[] param, float[] grad, float[] m, float[] v, int off, int len) {
        RuleChecks.learningRate("AdamRule.apply", lr);
        RuleChecks.step("AdamRule.apply", step);
        RuleChecks.range("AdamRule.apply", "param", param, off, len);
        RuleChecks.range("AdamRule.apply", "grad", grad, off, len);
        RuleChecks.range("AdamRule.apply", "m", m, off, len);
        RuleChecks.range("AdamRule.apply", "v", v, off, len);
        var c = new Coefficients(
                decoupled ? (float) (1 - lr * weightDecay) : 1f,
                decoupled ? 0f : (float) weightDecay,
                (float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                (float) (lr / (1 - Math.pow(beta1, step))),
                (float) Math.sqrt(1 - Math.pow(beta2, step)),
                (float) eps);
        if (len <= PARALLEL_GRAIN) {
            kernel(c, param, grad, m, v, off, len);
        } else {
            Parallel.forRange(len, PARALLEL_GRAIN, (from, to) -> kernel(c, param, grad, m, v, off + from, to - from));
        }
    }

    /** The FP32 scalars of one step, each rounded once from its double value. */
    record Coefficients(float decay, float l2, float b1, float oneMinusB1, float b2, float oneMinusB2,
                        float stepSize, float sqrtBc2, float eps) {
    }

    static void kernel(Coefficients c, float[] p, float[] g, float[] m, float[] v, int off, int len) {
        float decay = c.decay;
        float l2 = c.l2;
        float b1 = c.b1;
        float omb1 = c.oneMinusB1;
        float b2 = c.b2;
        float omb2 = c.oneMinusB2;
        float sqrtBc2 = c.sqrtBc2;
        float eps = c.eps;
        float stepSize = c.stepSize;
        int end = off + len;
        for (int i = off; i < end; i++) {
            float pi = decay != 1f ? p[i] * decay : p[i];
            float gi = l2 != 0f ? g[i] + l2 * pi : g[i];
            float mi = b1 * m[i] + omb1 * gi;
            float vi = b2 * v[i] + omb2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            float denom = (float) Math.sqrt(vi) / sqrtBc2 + eps;
            p[i] = pi - stepSize * (mi / denom);
        }
    }
}
