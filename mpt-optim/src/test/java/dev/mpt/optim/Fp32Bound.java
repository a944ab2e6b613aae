package dev.mpt.optim;

/**
 * A value of an FP32 computation, tracked in double together with a bound on how far the FP32
 * result may lie from it: each FP32 operation rounds to nearest (relative error at most
 * {@code u = 2^-24}, plus at most 2^-150 absolute where the result is subnormal), inexact
 * inputs carry their error through the operation (first-order-exact bounds below), and the
 * double evaluation of the reference itself adds at most {@code 2^-53} relative per operation.
 * An FP32 kernel agrees with its specification when {@code |fp32 - v| <= e}.
 */
record Fp32Bound(double v, double e) {

    private static final double U = 0x1p-24 + 0x1p-53;
    private static final double TINY = 0x1p-150;

    /** An FP32 input, exact. */
    static Fp32Bound exact(float x) {
        return new Fp32Bound(x, 0);
    }

    /** A real constant rounded once to FP32 (the kernels' hyper-parameters). */
    static Fp32Bound rounded(double x) {
        return new Fp32Bound(x, U * Math.abs(x) + TINY);
    }

    private static Fp32Bound round(double v, double propagated) {
        return new Fp32Bound(v, propagated + U * (Math.abs(v) + propagated) + TINY);
    }

    Fp32Bound plus(Fp32Bound b) {
        return round(v + b.v, e + b.e);
    }

    Fp32Bound minus(Fp32Bound b) {
        return round(v - b.v, e + b.e);
    }

    Fp32Bound times(Fp32Bound b) {
        return round(v * b.v, Math.abs(v) * b.e + Math.abs(b.v) * e + e * b.e);
    }

    /** |a'/b' - a/b| <= (|b| e_a + |a| e_b) / (|b| (|b| - e_b)), for |b| > e_b. */
    Fp32Bound div(Fp32Bound b) {
        double den = Math.abs(b.v) - b.e;
        if (!(den > 0)) {
            throw new IllegalStateException("divisor bound includes zero: " + b);
        }
        return round(v / b.v, (Math.abs(b.v) * e + Math.abs(v) * b.e) / (Math.abs(b.v) * den));
    }

    /** |sqrt(a') - sqrt(a)| <= min(sqrt(e), e / sqrt(a)). */
    Fp32Bound sqrt() {
        double prop = v > 0 ? Math.min(Math.sqrt(e), e / Math.sqrt(v)) : Math.sqrt(e);
        return round(Math.sqrt(v), prop);
    }

    void check(float fp32, String what) {
        double err = Math.abs(fp32 - v);
        if (!(err <= e)) {
            throw new AssertionError(what + ": fp32 " + fp32 + " differs from reference " + v + " by " + err
                    + " > derived bound " + e);
        }
    }
}
