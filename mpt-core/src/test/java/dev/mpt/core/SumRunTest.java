package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Reduce#sumRun} (four interleaved double accumulators) against the exact sum in
 * BigDecimal, over awkward lengths and offsets. With {@code n = 4m + t} ({@code t < 4}), a term
 * is rounded at most {@code m - 1} times in its accumulator's chain (the chain's first addition,
 * to 0, is exact), twice in {@code (a0 + a1) + (a2 + a3)}, and {@code t} times by the tail loop:
 * {@code d <= m + 4} roundings. So {@code |err| <= gamma_d sum|x_i|} with
 * {@code gamma_d = d u / (1 - d u)}, {@code u = 2^-53} (Higham, Accuracy and Stability, 4.2), the
 * bound asserted; {@code sum|x_i|} is taken exactly.
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
            BigDecimal abs = BigDecimal.ZERO;
            for (int i = off; i < off + n; i++) {
                exact = exact.add(new BigDecimal(x[i]));
                abs = abs.add(new BigDecimal(Math.abs(x[i])));
            }
            double got = Reduce.sumRun(x, off, n);
            BigDecimal err = new BigDecimal(got).subtract(exact).abs();
            double d = n / 4 + 4;
            double gamma = d * 0x1p-53 / (1 - d * 0x1p-53);
            BigDecimal tol = abs.multiply(new BigDecimal(gamma));
            assertTrue(err.compareTo(tol) <= 0, "n=" + n + ": err " + err + " > " + tol);
        }
    }
}
