package dev.mpt.core;

import dev.mpt.core.number.DType;
import java.util.function.DoubleBinaryOperator;

/** Double-precision reference computations for tests, on row-major arrays. */
final class Ref {

    /** FP32 unit roundoff. */
    static final double U32 = 0x1p-24;
    /** FP16 unit roundoff. */
    static final double U16 = 0x1p-11;
    /** BF16 unit roundoff. */
    static final double UBF = 0x1p-8;
    /** Smallest FP16 subnormal spacing, half of it bounds the absolute rounding error there. */
    static final double FP16_SUB = 0x1p-25;

    private Ref() {
    }

    static double unitRoundoff(DType t) {
        return switch (t) {
            case FP32 -> U32;
            case FP16 -> U16;
            case BF16 -> UBF;
        };
    }

    /** Absolute error of one rounding to {@code t} near zero (half the subnormal spacing). */
    static double absFloor(DType t) {
        return switch (t) {
            case FP32 -> 0x1p-150;
            case FP16 -> FP16_SUB;
            case BF16 -> 0x1p-134;
        };
    }

    /**
     * Asserts {@code |got - ref| <= tol} for a sum of {@code terms} FP32 roundings of terms whose
     * magnitudes add up to {@code abs} (each rounding errs by at most {@code u_32} of the running
     * magnitude: {@code terms u_32 abs}), then, for a 16-bit {@code dt}, one rounding of the result:
     * {@code u_dt |ref|} plus half the subnormal spacing, and {@code u_dt} of the FP32 error.
     */
    static void assertSumClose(DType dt, double ref, double abs, int terms, float got, String where) {
        double u = dt == DType.FP32 ? 0 : unitRoundoff(dt);
        double acc = terms * U32 * abs;
        double tol = acc * (1 + u) + u * Math.abs(ref) + (dt == DType.FP32 ? 0 : absFloor(dt));
        if (!(Math.abs(got - ref) <= tol)) {
            throw new AssertionError(where + ": " + got + " vs " + ref + " (tol " + tol + ")");
        }
    }

    /** Value of {@code x} rounded to {@code t}, as double. */
    static double round(DType t, double x) {
        return Tensor.of(new float[] {(float) x}).to(t).item();
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** Row-major index -> multi-index of {@code shape}. */
    static int[] unravel(int i, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = i % shape[d];
            i /= shape[d];
        }
        return idx;
    }

    /** Row-major offset in {@code shape} of the broadcast multi-index {@code outIdx}. */
    static int broadcastOffset(int[] outIdx, int[] shape) {
        int lead = outIdx.length - shape.length;
        int p = 0;
        for (int d = 0; d < shape.length; d++) {
            int k = shape[d] == 1 ? 0 : outIdx[d + lead];
            p = p * shape[d] + k;
        }
        return p;
    }

    /** {@code op(a, b)} with numpy broadcasting, in double. */
    static double[] broadcast(double[] a, int[] as, double[] b, int[] bs, int[] out, DoubleBinaryOperator op) {
        int n = 1;
        for (int s : out) {
            n *= s;
        }
        double[] r = new double[n];
        int[] idx = new int[out.length];
        for (int i = 0; i < n; i++) {
            r[i] = op.applyAsDouble(a[broadcastOffset(idx, as)], b[broadcastOffset(idx, bs)]);
            for (int d = out.length - 1; d >= 0 && ++idx[d] == out[d]; d--) {
                idx[d] = 0;
            }
        }
        return r;
    }
}
