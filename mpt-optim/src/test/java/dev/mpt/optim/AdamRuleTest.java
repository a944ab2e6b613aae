package dev.mpt.optim;

import static dev.mpt.optim.SgdRuleTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Adam and AdamW against a double reference of PyTorch's formulas, with bounds from {@link Fp32Bound}. */
class AdamRuleTest {

    private static final int N = 257;

    private static float[] gaussian(Random rnd, int n, double sigma) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return a;
    }

    private static void checkSteps(AdamRule rule, double lr) {
        var rnd = new Random(9);
        float[] p = gaussian(rnd, N, 1);
        float[] m = new float[N];
        float[] v = new float[N];
        for (long t = 1; t <= 6; t++) {
            float[] g = gaussian(rnd, N, 0.01);
            g[0] = 0; // a zero gradient exercises eps
            float[] p0 = p.clone();
            float[] m0 = m.clone();
            float[] v0 = v.clone();
            rule.apply(lr, t, p, g, m, v, 0, N);
            var decay = Fp32Bound.rounded(rule.decoupled() ? 1 - lr * rule.weightDecay() : 1);
            var l2 = Fp32Bound.rounded(rule.weightDecay());
            var b1 = Fp32Bound.rounded(rule.beta1());
            var omb1 = Fp32Bound.rounded(1 - rule.beta1());
            var b2 = Fp32Bound.rounded(rule.beta2());
            var omb2 = Fp32Bound.rounded(1 - rule.beta2());
            var stepSize = Fp32Bound.rounded(lr / (1 - Math.pow(rule.beta1(), t)));
            var sqrtBc2 = Fp32Bound.rounded(Math.sqrt(1 - Math.pow(rule.beta2(), t)));
            var eps = Fp32Bound.rounded(rule.eps());
            for (int i = 0; i < N; i++) {
                var pi = Fp32Bound.exact(p0[i]);
                if (rule.decoupled() && rule.weightDecay() != 0) {
                    pi = pi.times(decay);
                }
                var gi = Fp32Bound.exact(g[i]);
                if (!rule.decoupled() && rule.weightDecay() != 0) {
                    gi = gi.plus(l2.times(pi));
                }
                var mi = b1.times(Fp32Bound.exact(m0[i])).plus(omb1.times(gi));
                var vi = b2.times(Fp32Bound.exact(v0[i])).plus(omb2.times(gi.times(gi)));
                String at = rule + " step " + t + " [" + i + "]";
                mi.check(m[i], at + " m");
                vi.check(v[i], at + " v");
                var denom = vi.sqrt().div(sqrtBc2).plus(eps);
                pi.minus(stepSize.times(mi.div(denom))).check(p[i], at + " p");
            }
        }
    }

    @Test
    void adamDefaults() {
        checkSteps(AdamRule.adam(), 1e-3);
    }

    @Test
    void adamWithL2WeightDecay() {
        checkSteps(new AdamRule(0.8, 0.99, 1e-6, 0.05, false), 1e-2);
    }

    @Test
    void adamWDecoupledDecay() {
        checkSteps(AdamRule.adamW(), 3e-3);
    }

    @Test
    void firstStepMovesBySignOfGradient() {
        // At t = 1, m_hat = g and sqrt(v_hat) = |g|: p moves by lr * g / (|g| + eps).
        var rule = AdamRule.adam();
        float[] p = {1, 1, 1};
        float[] g = {0.5f, -2f, 0};
        rule.apply(0.01, 1, p, g, new float[3], new float[3], 0, 3);
        assertEquals(1 - 0.01 * 0.5 / (0.5 + 1e-8), p[0], 1e-7);
        assertEquals(1 + 0.01 * 2 / (2 + 1e-8), p[1], 1e-7);
        assertEquals(1f, p[2]);
    }

    @Test
    void adamWDecaysWithoutGradientWhileAdamL2MovesBySign() {
        float[] pw = {2};
        new AdamRule(0.9, 0.999, 1e-8, 0.1, true).apply(0.01, 1, pw, new float[1], new float[1], new float[1], 0, 1);
        assertEquals(2 * (1 - 0.01 * 0.1), pw[0], 1e-6, "AdamW: p * (1 - lr * wd)");
        float[] pa = {2};
        new AdamRule(0.9, 0.999, 1e-8, 0.1, false).apply(0.01, 1, pa, new float[1], new float[1], new float[1], 0, 1);
        assertEquals(2 - 0.01, pa[0], 1e-6, "Adam L2: normalised step of lr");
    }

    @Test
    void parallelPathIsBitIdenticalToChunks() {
        int n = 3 * AdamRule.PARALLEL_GRAIN + 7;
        var rnd = new Random(1);
        float[] p = gaussian(rnd, n, 1);
        float[] pa = p.clone();
        float[] pb = p.clone();
        float[] ma = new float[n];
        float[] mb = new float[n];
        float[] va = new float[n];
        float[] vb = new float[n];
        var rule = AdamRule.adamW();
        for (long t = 1; t <= 2; t++) {
            float[] g = gaussian(rnd, n, 0.1);
            rule.apply(1e-3, t, pa, g, ma, va, 0, n);
            for (int off = 0; off < n; off += 999) {
                rule.apply(1e-3, t, pb, g, mb, vb, off, Math.min(999, n - off));
            }
        }
        assertArrayEquals(pb, pa);
        assertArrayEquals(mb, ma);
        assertArrayEquals(vb, va);
    }

    @Test
    void rejectsBadHyperParameters() {
        assertMessage("beta1", () -> new AdamRule(1, 0.999, 1e-8, 0, false));
        assertMessage("beta1", () -> new AdamRule(-0.1, 0.999, 1e-8, 0, false));
        assertMessage("beta2", () -> new AdamRule(0.9, 1, 1e-8, 0, false));
        assertMessage("beta2", () -> new AdamRule(0.9, Double.NaN, 1e-8, 0, false));
        assertMessage("eps", () -> new AdamRule(0.9, 0.999, 0, 0, false));
        assertMessage("eps", () -> new AdamRule(0.9, 0.999, Double.POSITIVE_INFINITY, 0, false));
        assertMessage("weightDecay", () -> new AdamRule(0.9, 0.999, 1e-8, -0.01, true));
        var rule = AdamRule.adam();
        float[] a = new float[2];
        assertMessage("learning rate", () -> rule.apply(Double.NaN, 1, a, a, a, a, 0, 2));
        assertMessage("step", () -> rule.apply(0.1, 0, a, a, a, a, 0, 2));
        var oob = assertThrows(IndexOutOfBoundsException.class, () -> rule.apply(0.1, 1, a, a, new float[1], a, 0, 2));
        assertTrue(oob.getMessage().contains("m"), oob.getMessage());
        assertThrows(NullPointerException.class, () -> rule.apply(0.1, 1, a, a, a, null, 0, 2));
        assertFalse(AdamRule.adam().decoupled());
        assertEquals(0.01, AdamRule.adamW().weightDecay());
    }
}
