package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Reduce#sumRun} (four interleaved double accumulators) against the exact sum in
 * BigDecimal, over awkward lengths and offsets. Each term reaches the result through at most
 * {@code n/4 + 3} double additions, so {@code |err| <= (n/4 + 3) 2^-53 sum|x_i|} (first order);
 * the test allows {@code (n + 3) 2^-53 sum|x_i|}, the bound of the plain sequential loop it replaced.
 */
class SumRunTest {

    @Test
    void matchesTheExactSum() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int n : new int[] {0, 1, 2, 3, 4, 5, 7, 13, 64, 4097, 100_003}) {
            int off = n % 3;
            float[] x = new float[off + n];
            for (int i = 0; i < x.length; i++) {
                // mixed magnitudes and signs, so cancellation and rounding both occur
                x[i] = (float) (rng.nextGaussian() * Math.pow(2, rng.nextInt(-20, 20)));
            }
            BigDecimal exact = BigDecimal.ZERO;
            double abs = 0;
            for (int i = off; i < off + n; i++) {
                exact = exact.add(new BigDecimal(x[i]));
                abs += Math.abs(x[i]);
            }
            double got = Reduce.sumRun(x, off, n);
            double err = Math.abs(new BigDecimal(got).subtract(exact).doubleValue());
            double tol = (n + 3) * 0x1p-53 * abs;
            assertTrue(err <= tol, "n=" + n + ": err " + err + " > " + tol);
        }
    }
}
