package dev.mpt.optim;

import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;

/**
 * Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, with
 * PyTorch's semantics, applied in FP32 to master parameters:
 * <pre>
 *   d   = g + weightDecay * p
 *   buf = d                                          (first step)
 *   buf = momentum * buf + (1 - dampening) * d       (later steps)
 *   d   = nesterov ? d + momentum * buf : buf        (when momentum != 0)
 *   p   = p - lr * d
 * </pre>
 * Every operation is one FP32 operation rounded to nearest (no fused multiply-add); the
 * hyper-parameters are rounded to FP32 once.
 *
 * @param momentum    {@code >= 0}, finite; 0 turns momentum off (no buffer needed)
 * @param dampening   in [0, 1]
 * @param weightDecay L2 penalty added to the gradient, {@code >= 0}, finite
 * @param nesterov    Nesterov momentum; needs {@code momentum > 0} and {@code dampening == 0}
 */
public record SgdRule(double momentum, double dampening, double weightDecay, boolean nesterov) {

    /** Validates the hyper-parameters. */
    public SgdRule {
        RuleChecks.nonNegativeFinite("SgdRule", "momentum", momentum);
        RuleChecks.nonNegativeFinite("SgdRule", "weightDecay", weightDecay);
        if (!(dampening >= 0 && dampening <= 1)) {
            throw new IllegalArgumentException("SgdRule: dampening must be in [0, 1], got " + dampening);
        }
        if (nesterov && (momentum == 0 || dampening != 0)) {
            throw new IllegalArgumentException("SgdRule: nesterov needs momentum > 0 and dampening 0, got momentum "
                    + momentum + ", dampening " + dampening);
        }
    }

    /** Plain SGD with momentum and no weight decay. */
    public static SgdRule of(double momentum) {
        return new SgdRule(momentum, 0, 0, false);
    }

    /**
     * Applies one step to {@code param[off, off+len)}; modifies {@code param} and
     * {@code momentumBuffer}, reads {@code grad}.
     *
     * @param lr             learning rate, finite and {@code >= 0}
     * @param step           1 for the first step (it initialises the momentum buffer), then 2, 3, ...
     * @param momentumBuffer FP32 state of the same length; ignored (may be null) when momentum is 0
     * @throws IllegalArgumentException  if {@code lr} or {@code step} is out of range
     * @throws NullPointerException      if a needed array is null
     * @throws IndexOutOfBoundsException if the range falls outside an array
     */
    public void apply(double lr, long step, float[] param, float[] grad, float[] momentumBuffer, int off, int len) {
        RuleChecks.learningRate("SgdRule.apply", lr);
        RuleChecks.step("SgdRule.apply", step);
        RuleChecks.range("SgdRule.apply", "param", param, off, len);
        RuleChecks.range("SgdRule.apply", "grad", grad, off, len);
        if (momentum != 0) {
            RuleChecks.range("SgdRule.apply", "momentumBuffer", momentumBuffer, off, len);
        }
        float lrf = (float) lr;
        boolean first = step == 1;
        if (len <= Grain.ELEMENTWISE) {
            kernel(lrf, first, param, grad, momentumBuffer, off, len);
        } else {
            Parallel.forRange(len, Grain.ELEMENTWISE,
                    (from, to) -> kernel(lrf, first, param, grad, momentumBuffer, off + from, to - from));
        }
    }

    private void kernel(float lr, boolean first, float[] p, float[] g, float[] buf, int off, int len) {
        float wd = (float) weightDecay;
        float mu = (float) momentum;
        float keep = (float) (1 - dampening);
        int end = off + len;
        if (mu == 0) {
            for (int i = off; i < end; i++) {
                float d = wd != 0 ? g[i] + wd * p[i] : g[i];
                p[i] = p[i] - lr * d;
            }
        } else if (first) {
            for (int i = off; i < end; i++) {
                float d = wd != 0 ? g[i] + wd * p[i] : g[i];
                buf[i] = d;
                p[i] = p[i] - lr * (nesterov ? d + mu * d : d);
            }
        } else {
            for (int i = off; i < end; i++) {
                float d = wd != 0 ? g[i] + wd * p[i] : g[i];
                float b = mu * buf[i] + keep * d;
                buf[i] = b;
                p[i] = p[i] - lr * (nesterov ? d + mu * b : b);
            }
        }
    }
}
