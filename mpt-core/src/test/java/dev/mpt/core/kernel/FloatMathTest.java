package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link FloatMath} against {@link Math#exp}/{@link Math#tanh} in double within the bounds its
 * class doc derives, and every {@link ActivationKernel} against {@link FloatMath} bit for bit.
 *
 * <p>The bounds need the approximation errors of the two polynomials themselves, {@code d_e} and
 * {@code d_t}: they are measured here by evaluating the polynomials with their FP32 coefficients
 * in double on a fine grid of their intervals (double rounding adds about 2^-52, far below them),
 * and required to stay below the values the class doc states.
 */
class FloatMathTest {

    private static final double U = 0x1p-24;
    /** The stated ceilings of the polynomial errors (FloatMath's class doc). */
    private static final double D_E_MAX = 0x1p-26;
    private static final double D_T_MAX = 0x1p-26;

    private static final float[] SPECIAL = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f, 0.625f,
        -0.625f, Math.nextDown(0.625f), 87f, -87f, 88f, -88f, 89f, -104f, Float.MAX_VALUE, -Float.MAX_VALUE,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};

    /** Relative error of {@code 1 + r + r^2 P(r)} against e^r for |r| up to 0.35 (> ln2 / 2 + the reduction slack). */
    static double expPolynomialError() {
        double worst = 0;
        int n = 200_000;
        for (int i = -n; i <= n; i++) {
            double r = 0.35 * i / n;
            double p = ((((FloatMath.E0 * r + FloatMath.E1) * r + FloatMath.E2) * r + FloatMath.E3) * r
                    + FloatMath.E4) * r + FloatMath.E5;
            double e = Math.exp(r);
            worst = Math.max(worst, Math.abs(1 + r + r * r * p - e) / e);
        }
        return worst;
    }

    /** Relative error of {@code x + x z Q(z)} against tanh for 0 < x < 0.625. */
    static double tanhPolynomialError() {
        double worst = 0;
        int n = 200_000;
        for (int i = 1; i <= n; i++) {
            double x = FloatMath.TANH_SMALL * i / n;
            double z = x * x;
            double q = (((FloatMath.T0 * z + FloatMath.T1) * z + FloatMath.T2) * z + FloatMath.T3) * z + FloatMath.T4;
            double t = Math.tanh(x);
            worst = Math.max(worst, Math.abs(x + x * z * q - t) / t);
        }
        return worst;
    }

    /** Every 2^shift-th float between lo and hi (both finite), as a stream of values. */
    private interface FloatCheck {
        void check(float x);
    }

    private static void sweep(float lo, float hi, int stride, FloatCheck c) {
        for (float s : SPECIAL) {
            c.check(s);
        }
        // negative floats from lo up to -0, then positive ones up to hi, every stride-th bit pattern
        for (int b = Float.floatToRawIntBits(lo); b > Integer.MIN_VALUE && b < 0; b -= stride) {
            c.check(Float.intBitsToFloat(b));
        }
        for (int b = 0; b <= Float.floatToRawIntBits(hi); b += stride) {
            c.check(Float.intBitsToFloat(b));
        }
    }

    @Test
    void polynomialsAreAsAccurateAsStated() {
        double de = expPolynomialError();
        double dt = tanhPolynomialError();
        assertTrue(de < D_E_MAX, "d_e = " + de);
        assertTrue(dt < D_T_MAX, "d_t = " + dt);
    }

    @Test
    void expIsWithinItsBound() {
        double bound = expPolynomialError() + 3 * U;
        sweep(FloatMath.EXP_MIN, FloatMath.EXP_MAX, 613, x -> {
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(FloatMath.exp(x)));
                return;
            }
            double v = Math.min(Math.max(x, FloatMath.EXP_MIN), FloatMath.EXP_MAX);
            double want = Math.exp(v);
            float got = FloatMath.exp(x);
            assertTrue(Math.abs(got - want) <= bound * want, () -> "exp(" + x + ") = " + got + ", want " + want);
        });
    }

    @Test
    void sigmoidIsWithinItsBound() {
        double bound = expPolynomialError() + 5 * U;
        sweep(-110f, 110f, 613, x -> {
            float got = FloatMath.sigmoid(x);
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(got));
                return;
            }
            double want = 1 / (1 + Math.exp(-(double) x));
            assertTrue(Math.abs(got - want) <= bound * want + 0x1p-125,
                    () -> "sigmoid(" + x + ") = " + got + ", want " + want);
        });
        assertEquals(1f, FloatMath.sigmoid(Float.POSITIVE_INFINITY));
        assertEquals(0.5f, FloatMath.sigmoid(0f));
    }

    @Test
    void tanhIsWithinItsBound() {
        double bound = Math.max(expPolynomialError() + 6 * U, tanhPolynomialError() + 3 * U);
        sweep(-30f, 30f, 613, x -> {
            float got = FloatMath.tanh(x);
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(got));
                return;
            }
            double want = Math.tanh(x);
            assertTrue(Math.abs(got - want) <= bound * Math.abs(want),
                    () -> "tanh(" + x + ") = " + got + ", want " + want);
            assertEquals(Math.copySign(1f, x), Math.copySign(1f, got), "sign of tanh(" + x + ")");
        });
        assertEquals(1f, FloatMath.tanh(Float.POSITIVE_INFINITY));
        assertEquals(-1f, FloatMath.tanh(Float.NEGATIVE_INFINITY));
    }

    @Test
    void kernelsEqualFloatMath() {
        check(ActivationKernel.INSTANCE);
        check(new ActivationKernel.ScalarActivationKernel());
        if (Simd.VECTOR_ENABLED) {
            check(new VectorActivationKernel());
        }
    }

    /** A finite shift for expShifted: a typical row maximum, or one far from the scores. */
    private static float randomShift(SplittableRandom rng) {
        return rng.nextBoolean() ? (float) (4 * rng.nextGaussian()) : (float) (200 * rng.nextGaussian());
    }

    private static void check(ActivationKernel kernel) {
        SplittableRandom rng = new SplittableRandom(19);
        for (int n : new int[] {0, 1, 3, 7, 8, 13, 16, 31, 64, 100, 4097}) {
            int xo = rng.nextInt(5);
            int yo = rng.nextInt(5);
            float[] x = new float[xo + n];
            for (int i = 0; i < n; i++) {
                x[xo + i] = i % 5 == 0 ? SPECIAL[rng.nextInt(SPECIAL.length)] : (float) (4 * rng.nextGaussian());
            }
            float[] s = new float[yo + n];
            float[] t = new float[yo + n];
            kernel.sigmoid(x, xo, s, yo, n);
            kernel.tanh(x, xo, t, yo, n);
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                String where = kernel.getClass().getSimpleName() + " n=" + n + " x=" + v;
                assertEquals(Float.floatToIntBits(FloatMath.sigmoid(v)), Float.floatToIntBits(s[yo + i]), "sigmoid " + where);
                assertEquals(Float.floatToIntBits(FloatMath.tanh(v)), Float.floatToIntBits(t[yo + i]), "tanh " + where);
            }
            float shift = randomShift(rng);
            float[] e = new float[yo + n];
            kernel.expShifted(x, xo, shift, e, yo, n);
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                float want = v == Float.NEGATIVE_INFINITY ? 0f : FloatMath.exp(v - shift);
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(e[yo + i]),
                        "expShifted " + kernel.getClass().getSimpleName() + " n=" + n + " x=" + v + " shift=" + shift);
            }
            long seed = rng.nextLong();
            long index = rng.nextLong(1L << 40);
            for (double p : new double[] {0, 0.1, 0.5, 0x1p-53}) {
                long threshold = (long) Math.ceil(p * 0x1p53);
                float[] z = new float[yo + n];
                kernel.dropoutMask(seed, index, threshold, 1.25f, z, yo, n);
                for (int i = 0; i < n; i++) {
                    long h = ActivationKernel.dropoutHash(seed, index + i);
                    float want = (h >>> 11) * 0x1p-53 >= p ? 1.25f : 0f; // the uniform draw against p
                    assertEquals(want, z[yo + i], "dropoutMask " + kernel.getClass().getSimpleName() + " n=" + n
                            + " p=" + p + " i=" + i);
                }
            }
            // in place, as the LSTM calls it
            float[] inPlace = x.clone();
            kernel.tanh(inPlace, xo, inPlace, xo, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(t[yo + i]), Float.floatToIntBits(inPlace[xo + i]), "in place " + i);
            }
        }
    }
}
