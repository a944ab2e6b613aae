package dev.mpt.optim;

import static dev.mpt.optim.SgdRuleTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GradientClippingTest {

    /** The exact sum of squares (BigDecimal), then its square root to 40 digits. */
    private static double referenceNorm(List<float[]> grads) {
        BigDecimal sum = BigDecimal.ZERO;
        for (float[] g : grads) {
            for (float x : g) {
                BigDecimal b = new BigDecimal(x);
                sum = sum.add(b.multiply(b));
            }
        }
        return sum.sqrt(new MathContext(40)).doubleValue();
    }

    private static List<float[]> random(Random rnd, int... sizes) {
        List<float[]> out = new ArrayList<>();
        for (int n : sizes) {
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(20) - 10));
            }
            out.add(g);
        }
        return out;
    }

    @Test
    void globalNormMatchesExactReferenceWithinDerivedBound() {
        var rnd = new Random(17);
        var grads = random(rnd, 1, 3, 13, 4097, 3 * GradientClipping.BLOCK + 5);
        long n = grads.stream().mapToLong(g -> g.length).sum();
        double want = referenceNorm(grads);
        // Roundings one square meets on its way into the sum (all terms >= 0, so the sum's relative
        // error is at most gamma_d = d u / (1 - d u), u = 2^-53): inside its block of BLOCK elements
        // at most BLOCK/4 + 4 (see blockSum's twin test), then one per later block partial of its
        // array (the first addition, to 0, is exact) and one per later array. The square root
        // halves that relative error and adds at most u; the reference adds its own u.
        int blocks = grads.stream().mapToInt(g -> (g.length + GradientClipping.BLOCK - 1) / GradientClipping.BLOCK)
                .max().orElse(1);
        double d = GradientClipping.BLOCK / 4 + 4 + (blocks - 1) + (grads.size() - 1);
        double bound = (gamma(d) / 2 * (1 + gamma(d)) + 2 * 0x1p-53) * want;
        assertEquals(want, GradientClipping.globalNorm(grads), bound);
    }

    @Test
    void normOfTinyAndHugeValuesDoesNotUnderflowOrOverflow() {
        var grads = List.of(new float[] {Float.MIN_VALUE, Float.MIN_VALUE}, new float[] {3e38f, 3e38f});
        assertEquals(referenceNorm(grads), GradientClipping.globalNorm(grads), 1e-15 * referenceNorm(grads));
        assertEquals(0x1p-149 * Math.sqrt(2), GradientClipping.globalNorm(List.of(new float[] {Float.MIN_VALUE,
                Float.MIN_VALUE})), 1e-16 * 0x1p-149);
    }

    @Test
    void normDoesNotDependOnThreadCount() {
        var grads = random(new Random(2), 10 * GradientClipping.BLOCK + 3);
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(1);
            double one = GradientClipping.globalNorm(grads);
            Parallel.setThreads(2);
            assertEquals(one, GradientClipping.globalNorm(grads), 0.0);
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void clipCoefficientClosedForm() {
        assertEquals(1.0, GradientClipping.clipCoefficient(0, 1));
        assertEquals(1.0, GradientClipping.clipCoefficient(0.5, 1));
        assertEquals(1.0 / (2 + 1e-6), GradientClipping.clipCoefficient(2, 1));
        assertEquals(5.0 / (100 + 1e-6), GradientClipping.clipCoefficient(100, 5));
    }

    @Test
    void clipScalesToMaxNormAndLeavesSmallGradientsAlone() {
        float[] a = {3, 0};
        float[] b = {0, 4};
        double norm = GradientClipping.clipByGlobalNorm(List.of(a, b), 1);
        assertEquals(5, norm);
        float c = (float) (1 / (5 + 1e-6));
        assertEquals(3 * c, a[0]);
        assertEquals(4 * c, b[1]);
        assertEquals(1.0, GradientClipping.globalNorm(List.of(a, b)), 1e-6);
        float[] small = {0.3f, 0.4f};
        assertEquals(0.5, GradientClipping.clipByGlobalNorm(List.of(small), 1), 1e-7);
        assertEquals(0.3f, small[0]);
        assertEquals(0.4f, small[1]);
    }

    @Test
    void rejectsBadArguments() {
        assertMessage("maxNorm", () -> GradientClipping.clipCoefficient(1, 0));
        assertMessage("maxNorm", () -> GradientClipping.clipCoefficient(1, Double.NaN));
        assertMessage("inf/NaN", () -> GradientClipping.clipCoefficient(Double.NaN, 1));
        assertMessage("inf/NaN", () -> GradientClipping.clipCoefficient(-1, 1));
        assertMessage("inf/NaN", () -> GradientClipping.clipByGlobalNorm(List.of(new float[] {Float.POSITIVE_INFINITY}), 1));
        assertTrue(Double.isNaN(GradientClipping.globalNorm(List.of(new float[] {Float.NaN}))));
        var e = assertThrows(NullPointerException.class,
                () -> GradientClipping.globalNorm(java.util.Arrays.asList(new float[1], null)));
        assertTrue(e.getMessage().contains("grads[1]"), e.getMessage());
        assertThrows(NullPointerException.class, () -> GradientClipping.globalNorm(null));
        assertEquals(0.0, GradientClipping.globalNorm(List.of()), "empty list has norm 0");
    }
    /**
     * The four-accumulator block sum against its one-accumulator twin, over awkward lengths. The
     * terms are non-negative, so each sum's relative error is at most {@code gamma_d} for its most
     * roundings per term {@code d}: {@code n - 1} for the plain loop (the first addition is exact);
     * for {@code n = 4m + t}, {@code m - 1} in an accumulator chain, 2 in {@code (s0 + s1) + (s2 +
     * s3)} and {@code t} in the tail, at most {@code m + 4}, for the fast one. They differ by at most
     * the sum of the two bounds.
     */
    /** {@code d u / (1 - d u)} with {@code u = 2^-53}: the relative error of d roundings (Higham 3.1). */
    private static double gamma(double d) {
        return d * 0x1p-53 / (1 - d * 0x1p-53);
    }

    @Test
    void blockSumAgreesWithItsPlainTwin() {
        Random rnd = new Random(17);
        for (int n : new int[] {0, 1, 3, 4, 5, 13, 4097}) {
            float[] g = random(rnd, n).get(0);
            double plain = GradientClipping.blockSumPlain(g, 0, n);
            double fast = GradientClipping.blockSum(g, 0, n);
            double tol = (gamma(Math.max(n - 1, 0)) + gamma(n / 4 + 4)) * plain;
            assertEquals(plain, fast, tol, "n=" + n);
        }
        float[] g = {3f, 4f, 12f};
        assertEquals(169.0, GradientClipping.blockSum(g, 0, 3));
    }
}
