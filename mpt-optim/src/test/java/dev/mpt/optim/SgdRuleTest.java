package dev.mpt.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Grain;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** SGD against a double reference of PyTorch's formulas, step by step, with bounds from {@link Fp32Bound}. */
class SgdRuleTest {

    private static final int N = 257;

    private static float[] gaussian(Random rnd, int n, double sigma) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return a;
    }

    private static void checkSteps(SgdRule rule, double lr) {
        var rnd = new Random(42);
        float[] p = gaussian(rnd, N, 1);
        float[] buf = new float[N];
        for (long step = 1; step <= 5; step++) {
            float[] g = gaussian(rnd, N, 0.1);
            float[] p0 = p.clone();
            float[] b0 = buf.clone();
            rule.apply(lr, step, p, g, rule.momentum() == 0 ? null : buf, 0, N);
            var lrB = Fp32Bound.rounded(lr);
            var wd = Fp32Bound.rounded(rule.weightDecay());
            var mu = Fp32Bound.rounded(rule.momentum());
            var keep = Fp32Bound.rounded(1 - rule.dampening());
            for (int i = 0; i < N; i++) {
                var pi = Fp32Bound.exact(p0[i]);
                var d = Fp32Bound.exact(g[i]);
                if (rule.weightDecay() != 0) {
                    d = d.plus(wd.times(pi));
                }
                var upd = d;
                if (rule.momentum() != 0) {
                    var b = step == 1 ? d : mu.times(Fp32Bound.exact(b0[i])).plus(keep.times(d));
                    b.check(buf[i], rule + " step " + step + " buf[" + i + "]");
                    upd = rule.nesterov() ? d.plus(mu.times(b)) : b;
                }
                pi.minus(lrB.times(upd)).check(p[i], rule + " step " + step + " p[" + i + "]");
            }
        }
    }

    @Test
    void plainSgd() {
        checkSteps(new SgdRule(0, 0, 0, false), 0.1);
    }

    @Test
    void momentumWithDampeningAndWeightDecay() {
        checkSteps(new SgdRule(0.9, 0.1, 1e-4, false), 0.05);
    }

    @Test
    void nesterovWithWeightDecay() {
        checkSteps(new SgdRule(0.9, 0, 5e-4, true), 0.01);
    }

    @Test
    void derivedBoundIsTightEnoughToCatchAnUpdateOffBy2ToTheMinus12() {
        var rnd = new Random(42);
        float[] p = gaussian(rnd, N, 1);
        float[] g = gaussian(rnd, N, 0.1);
        float[] p0 = p.clone();
        double lr = 0.1;
        SgdRule.of(0).apply(lr * (1 + 0x1p-12), 1, p, g, null, 0, N);
        var lrB = Fp32Bound.rounded(lr);
        int caught = 0;
        for (int i = 0; i < N; i++) {
            try {
                Fp32Bound.exact(p0[i]).minus(lrB.times(Fp32Bound.exact(g[i]))).check(p[i], "p[" + i + "]");
            } catch (AssertionError expected) {
                caught++;
            }
        }
        assertTrue(caught > N / 2, "only " + caught + " of " + N + " wrong updates caught");
    }

    @Test
    void momentumAccumulatesAsClosedForm() {
        // constant gradient 1, momentum 0.5, lr 1/8: buf = 1, 1.5, 1.75 (all exact in FP32)
        var rule = SgdRule.of(0.5);
        float[] p = {0};
        float[] buf = {0};
        float[] g = {1};
        rule.apply(0.125, 1, p, g, buf, 0, 1);
        rule.apply(0.125, 2, p, g, buf, 0, 1);
        rule.apply(0.125, 3, p, g, buf, 0, 1);
        assertEquals(1.75f, buf[0]);
        assertEquals(-(1 + 1.5 + 1.75) * 0.125, p[0], 0.0);
    }

    @Test
    void zeroLearningRateLeavesParamsButUpdatesBuffer() {
        var rule = SgdRule.of(0.9);
        float[] p = {1, 2};
        float[] buf = new float[2];
        rule.apply(0, 1, p, new float[] {3, 4}, buf, 0, 2);
        assertArrayEquals(new float[] {1, 2}, p);
        assertArrayEquals(new float[] {3, 4}, buf);
    }

    @Test
    void rangeOnlyTouchesItsElements() {
        var rule = new SgdRule(0.9, 0, 0.1, true);
        float[] p = {1, 1, 1, 1};
        float[] buf = new float[4];
        rule.apply(0.5, 1, p, new float[] {1, 1, 1, 1}, buf, 1, 2);
        assertEquals(1f, p[0]);
        assertEquals(1f, p[3]);
        assertEquals(0f, buf[0]);
        assertTrue(p[1] < 1 && p[2] < 1);
    }

    @Test
    void parallelPathIsBitIdenticalToChunks() {
        int n = 3 * Grain.ELEMENTWISE + 11;
        var rnd = new Random(5);
        float[] p = gaussian(rnd, n, 1);
        float[] g = gaussian(rnd, n, 1);
        float[] pa = p.clone();
        float[] pb = p.clone();
        float[] ba = new float[n];
        float[] bb = new float[n];
        var rule = new SgdRule(0.9, 0, 1e-3, true);
        for (long step = 1; step <= 2; step++) {
            rule.apply(0.01, step, pa, g, ba, 0, n);
            for (int off = 0; off < n; off += 1000) {
                rule.apply(0.01, step, pb, g, bb, off, Math.min(1000, n - off));
            }
        }
        assertArrayEquals(pb, pa);
        assertArrayEquals(bb, ba);
    }

    @Test
    void rejectsBadHyperParameters() {
        assertMessage("momentum", () -> new SgdRule(-0.1, 0, 0, false));
        assertMessage("momentum", () -> new SgdRule(Double.NaN, 0, 0, false));
        assertMessage("weightDecay", () -> new SgdRule(0, 0, -1, false));
        assertMessage("dampening", () -> new SgdRule(0.9, 1.5, 0, false));
        assertMessage("nesterov", () -> new SgdRule(0, 0, 0, true));
        assertMessage("nesterov", () -> new SgdRule(0.9, 0.1, 0, true));
        var rule = SgdRule.of(0.9);
        float[] a = new float[3];
        assertMessage("learning rate", () -> rule.apply(-1, 1, a, a.clone(), a.clone(), 0, 3));
        assertMessage("learning rate", () -> rule.apply(Double.POSITIVE_INFINITY, 1, a, a.clone(), a.clone(), 0, 3));
        assertMessage("step", () -> rule.apply(0.1, 0, a, a.clone(), a.clone(), 0, 3));
        assertThrows(NullPointerException.class, () -> rule.apply(0.1, 1, a, a.clone(), null, 0, 3));
        assertThrows(NullPointerException.class, () -> rule.apply(0.1, 1, null, a, a.clone(), 0, 3));
        var oob = assertThrows(IndexOutOfBoundsException.class, () -> rule.apply(0.1, 1, a, new float[2], a, 0, 3));
        assertTrue(oob.getMessage().contains("grad"), oob.getMessage());
        SgdRule.of(0).apply(0.1, 1, a, a.clone(), null, 0, 3); // no buffer needed without momentum
    }

    static void assertMessage(String part, Runnable r) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
