package dev.mpt.optim;

import dev.mpt.core.kernel.Parallel;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.mpt.optim.SgdRuleTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        // relative error <= (n/2 + 1) 2^-53 (see GradientClipping), plus the reference's own rounding
        double bound = ((n / 2.0 + 1) * 0x1p-53 + 0x1p-53) * want;
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
     * The four-accumulator block sum against its one-accumulator twin, over awkward lengths:
     * both are within {@code (n - 1) * 2^-53} (relative) of the exact sum, so within twice that
     * of each other.
     */
    @Test
    void blockSumAgreesWithItsPlainTwin() {
        Random rnd = new Random(17);
        for (int n : new int[] {0, 1, 3, 4, 5, 13, 4097}) {
            float[] g = random(rnd, n).get(0);
            double plain = GradientClipping.blockSumPlain(g, 0, n);
            double fast = GradientClipping.blockSum(g, 0, n);
            assertEquals(plain, fast, 2 * Math.max(n - 1, 0) * 0x1p-53 * plain, "n=" + n);
        }
        float[] g = {3f, 4f, 12f};
        assertEquals(169.0, GradientClipping.blockSum(g, 0, 3));
    }
}
