package dev.mpt.core.kernel;

/**
 * {@code exp}, the logistic sigmoid and {@code tanh} in FP32 arithmetic: the plain twin of
 * {@link ActivationKernel}'s vector path, which evaluates the same operations lane-wise (every
 * operation below is an IEEE operation or a fused multiply-add, correctly rounded in both paths,
 * so the two agree bit for bit). They replace {@code (float) Math.exp(double)} and
 * {@code Math.tanh} where a kernel evaluates millions of them per step (the LSTM gates).
 *
 * <p>Method (Cephes {@code expf}/{@code tanhf}, S. L. Moshier): {@code exp(x) = 2^k e^r} with
 * {@code k = rint(x log2 e)} (rounded by adding and subtracting 1.5 * 2^23),
 * {@code r = x - k ln 2} in two fused steps (Cody and Waite), {@code e^r = 1 + r + r^2 P(r)} with a
 * degree-5 P on {@code |r| <= ln2 / 2}, and {@code 2^k} built from its exponent bits; x is first
 * clamped to [{@link #EXP_MIN}, {@link #EXP_MAX}], so the result is always a normal float.
 * {@code sigmoid(x) = 1 / (1 + exp(-x))}. {@code tanh(x)} is {@code x + x z Q(z)}, {@code z = x^2},
 * with a degree-4 Q for {@code |x| < 0.625}, else {@code sign(x) (1 - 2 / (exp(2|x|) + 1))}.
 *
 * <p>Error bounds (u = 2^-24; d_e and d_t the relative errors of the two polynomials with their
 * FP32 coefficients on their intervals, evaluated exactly: both below 2^-26,
 * {@code FloatMathTest} computes them), first order:
 * <ul>
 * <li>exp, for x in the clamp range: {@code (d_e + 3u) e^x}. The reduction errs by at most u|r|
 *     per step (0.7u in e^r), the Horner steps of P move {@code r^2 P} (at most 0.07) by 9u of
 *     itself, the last fused step and the final {@code + 1} round once each (0.41u, u).
 * <li>sigmoid: {@code (d_e + 5u) s + 2^-125}: {@code 1 + e} and the division round once each, and
 *     an error of e moves s by at most {@code (1 - s)} times it relatively; the absolute term
 *     covers x below -87, where the clamp returns about e^-87 < 2^-125 instead of a smaller value.
 * <li>tanh: {@code (max(d_e + 6u, d_t + 3u)) |t|}. For |x| >= 0.625, {@code q = 2/(e + 1)} errs by
 *     {@code d_e + 5u} relatively and is at most 0.446 while {@code t >= 0.554}, so
 *     {@code t = 1 - q} errs by {@code 0.81 (d_e + 5u) + u}; below 0.625, {@code z} and the Horner
 *     steps of Q (5.5u, the terms alternate) and the product {@code z Q} move {@code x z Q} (at
 *     most 0.133 |x|) by 7.5u of itself, the final fused step rounds once, and |t| >= 0.88 |x|.
 * </ul>
 * NaN gives NaN; infinities give the limits (0 or 1, -1 or 1; exp clamps).
 */
public final class FloatMath {

    /** Lower clamp of {@link #exp}: e^-87 ~ 1.6e-38 is still a normal float (k >= -126). */
    public static final float EXP_MIN = -87f;
    /** Upper clamp of {@link #exp}: e^88 ~ 1.65e38 < Float.MAX_VALUE (k <= 127). */
    public static final float EXP_MAX = 88f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float below 2^22 in magnitude to an integer. */
    static final float ROUND = 0x1.8p23f;
    /** log2(e) rounded to FP32. */
    static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split as Cody and Waite do: 355/512 (9 bits, so k times it is exact) plus the rest. */
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    /** Cephes expf: e^r ~ 1 + r + r^2 (((((E0 r + E1) r + E2) r + E3) r + E4) r + E5). */
    static final float E0 = 1.9875691500e-4f;
    static final float E1 = 1.3981999507e-3f;
    static final float E2 = 8.3334519073e-3f;
    static final float E3 = 4.1665795894e-2f;
    static final float E4 = 1.6666665459e-1f;
    static final float E5 = 5.0000001201e-1f;
    /** Below this |x|, tanh uses its odd polynomial (Cephes tanhf). */
    static final float TANH_SMALL = 0.625f;
    /** Cephes tanhf: tanh(x) ~ x + x z ((((T0 z + T1) z + T2) z + T3) z + T4), z = x^2. */
    static final float T0 = -5.70498872745e-3f;
    static final float T1 = 2.06390887954e-2f;
    static final float T2 = -5.37397155531e-2f;
    static final float T3 = 1.33314422036e-1f;
    static final float T4 = -3.33332819422e-1f;

    private FloatMath() {
    }

    /** e^x, x clamped to [{@link #EXP_MIN}, {@link #EXP_MAX}]; relative error {@code d_e + 3u}. */
    public static float exp(float x) {
        float v = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float kf = Math.fma(v, LOG2E, ROUND) - ROUND;
        float r = Math.fma(kf, -LN2_HI, v);
        r = Math.fma(kf, -LN2_LO, r);
        float p = Math.fma(E0, r, E1);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E5);
        float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat(((int) kf + 127) << 23);
    }

    /** {@code 1 / (1 + e^-x)}; error {@code (d_e + 5u) s + 2^-125}. */
    public static float sigmoid(float x) {
        return 1f / (1f + exp(-x));
    }

    /** tanh(x); relative error {@code max(d_e + 6u, d_t + 3u)}. */
    public static float tanh(float x) {
        float a = Math.abs(x);
        float t;
        if (a < TANH_SMALL) {
            float z = x * x;
            float q = Math.fma(T0, z, T1);
            q = Math.fma(q, z, T2);
            q = Math.fma(q, z, T3);
            q = Math.fma(q, z, T4);
            t = Math.fma(q * z, x, x);
        } else {
            t = 1f - 2f / (exp(a + a) + 1f);
        }
        // x's sign bit OR-ed in, as the vector path does: the sign of the large branch (t >= 0),
        // and -0 for -0 (the small branch has x's sign except that it gives +0 there)
        return Float.intBitsToFloat(Float.floatToRawIntBits(t) | (Float.floatToRawIntBits(x) & 0x8000_0000));
    }
}
