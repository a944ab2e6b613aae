package dev.mpt.nn.init;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Sequential;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class InitTest {

    @Test
    void fansFollowTheConvention() {
        assertEquals(20, Init.fanIn(10, 20));
        assertEquals(10, Init.fanOut(10, 20));
        assertEquals(3 * 9, Init.fanIn(16, 3, 3, 3));
        assertEquals(16 * 9, Init.fanOut(16, 3, 3, 3));
        assertEquals(7, Init.fanIn(7));
        assertEquals(1.0, Init.leakyReluGain(1.0), 1e-15);
    }

    @Test
    void sameSeedSameTensorsAndModels() {
        assertArrayEquals(Init.kaimingNormal(new SplittableRandom(9), Init.RELU_GAIN, 30, 40).toFloatArray(),
                Init.kaimingNormal(new SplittableRandom(9), Init.RELU_GAIN, 30, 40).toFloatArray());
        var a = new Sequential(new Linear(8, 4, new SplittableRandom(3)), new Linear(4, 2, new SplittableRandom(4)));
        var b = new Sequential(new Linear(8, 4, new SplittableRandom(3)), new Linear(4, 2, new SplittableRandom(4)));
        a.namedParameters().forEach((n, p) ->
                assertArrayEquals(p.value().toFloatArray(), b.namedParameters().get(n).value().toFloatArray(), n));
        assertTrue(Init.uniform(new SplittableRandom(1), -1, 1, 50).toFloatArray()[0]
                != Init.uniform(new SplittableRandom(2), -1, 1, 50).toFloatArray()[0]);
    }

    /**
     * The sample mean and variance of n = 100,000 draws against theory. For a distribution with
     * variance s^2 and fourth central moment m4, the sample mean has standard deviation s/sqrt(n)
     * and the sample variance sqrt((m4 - s^4)/n); both are checked within 5 standard deviations
     * (a false failure has probability below 1e-6 per check), and the seed is fixed. Normal:
     * m4 = 3 s^4; uniform on [-b, b]: s^2 = b^2/3, m4 = b^4/5.
     */
    @Test
    void momentsMatchTheory() {
        int out = 250;
        int in = 400;
        double fanIn = in;
        double fanSum = in + out;
        check(r -> Init.kaimingNormal(r, Init.RELU_GAIN, out, in), 2 / fanIn, false);
        check(r -> Init.kaimingUniform(r, Init.RELU_GAIN, out, in), 2 / fanIn, true);
        check(r -> Init.xavierNormal(r, Init.TANH_GAIN, out, in), Init.TANH_GAIN * Init.TANH_GAIN * 2 / fanSum, false);
        check(r -> Init.xavierUniform(r, 1.0, out, in), 2 / fanSum, true);
        check(r -> Init.normal(r, 0, 0.02, out, in), 0.02 * 0.02, false);
        check(r -> Init.uniform(r, -0.5, 0.5, out, in), 1.0 / 12, true);
        float[] u = Init.kaimingUniform(new SplittableRandom(5), Init.RELU_GAIN, out, in).toFloatArray();
        double bound = Math.sqrt(2) * Math.sqrt(3 / fanIn);
        for (float v : u) {
            assertTrue(Math.abs(v) <= bound * (1 + 0x1p-24), "uniform draw outside its bound");
        }
    }

    private static void check(Function<SplittableRandom, Tensor> init, double var, boolean uniform) {
        float[] v = init.apply(new SplittableRandom(77)).toFloatArray();
        int n = v.length;
        double mean = 0;
        for (float x : v) {
            mean += x;
        }
        mean /= n;
        double s2 = 0;
        for (float x : v) {
            s2 += (x - mean) * (x - mean);
        }
        s2 /= n - 1;
        double m4 = uniform ? 9.0 / 5 * var * var : 3 * var * var;
        assertEquals(0, mean, 5 * Math.sqrt(var / n), "mean");
        assertEquals(var, s2, 5 * Math.sqrt((m4 - var * var) / n), "variance");
    }

    @Test
    void constantsAndBadArguments() {
        assertArrayEquals(new float[] {1, 1}, Init.ones(2).toFloatArray());
        assertArrayEquals(new float[] {0, 0}, Init.zeros(2).toFloatArray());
        var rng = new SplittableRandom(1);
        assertThrows(NullPointerException.class, () -> Init.normal(null, 0, 1, 3));
        assertThrows(IllegalArgumentException.class, () -> Init.normal(rng, 0, -1, 3));
        assertThrows(IllegalArgumentException.class, () -> Init.uniform(rng, 1, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> Init.uniform(rng, Double.NaN, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> Init.kaimingNormal(rng, Double.NaN, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> Init.kaimingUniform(rng, 1, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> Init.fanIn());
        assertThrows(IllegalArgumentException.class, () -> Init.leakyReluGain(Double.POSITIVE_INFINITY));
    }
}
