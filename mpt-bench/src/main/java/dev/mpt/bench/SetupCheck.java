package dev.mpt.bench;

import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;
import dev.mpt.core.number.Half;

/**
 * Checks a benchmark's result once, in its {@code @Setup}, against the plain twin of the kernel it
 * measures, so a fast but wrong kernel fails the run instead of reporting a figure. Failures throw
 * {@link IllegalStateException} naming the benchmark, the element, and both values.
 */
final class SetupCheck {

    private SetupCheck() {
    }

    /** {@code got} equals {@code want} bit for bit. */
    static void sameBits(String what, short[] got, short[] want) {
        for (int i = 0; i < want.length; i++) {
            if (got[i] != want[i]) {
                throw new IllegalStateException(String.format("%s: element %d is 0x%04x, the plain twin gives 0x%04x",
                        what, i, got[i] & 0xFFFF, want[i] & 0xFFFF));
            }
        }
    }

    /** {@code got} equals {@code want} bit for bit. */
    static void sameBits(String what, float[] got, float[] want) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                throw new IllegalStateException(what + ": element " + i + " is " + got[i] + ", the plain twin gives "
                        + want[i]);
            }
        }
    }

    /**
     * Rows {@code rows} of the row-major n x n product {@code c = a b} (FP32 values, or 16-bit
     * patterns of {@code in} widened exactly) against mpt's GEMM specification: each element is
     * one FMA chain {@code acc = fma(a[i][p], b[p][j], acc)} over {@code p} in order from 0, rounded
     * once to {@code out} (FP32: unchanged). Bit for bit.
     *
     * @param c FP32 output ({@code float[]}) or 16-bit output patterns ({@code short[]})
     */
    static void gemmRows(String what, DType in, DType out, int n, Object a, Object b, Object c, int... rows) {
        for (int i : rows) {
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int p = 0; p < n; p++) {
                    acc = Math.fma(value(in, a, i * n + p), value(in, b, p * n + j), acc);
                }
                float want = out == DType.FP32 ? acc : value(out, new short[] {narrow(out, acc)}, 0);
                float got = value(out, c, i * n + j);
                if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want)) {
                    throw new IllegalStateException(what + ": C[" + i + "][" + j + "] is " + got
                            + ", the in-order FMA chain gives " + want);
                }
            }
        }
    }

    /**
     * Rows of an FP32 product computed in some other order (a peer library): within
     * {@code gamma_n sum_p |a_ip b_pj|}, {@code gamma_n = n u / (1 - n u)}, {@code u = 2^-24}, the
     * bound of any order of n FP32 multiply-adds (Higham 3.1), plus half an ulp of the result.
     */
    static void fp32Rows(String what, int n, float[] a, float[] b, float[] c, int... rows) {
        double gamma = n * 0x1p-24 / (1 - n * 0x1p-24);
        for (int i : rows) {
            for (int j = 0; j < n; j++) {
                double exact = 0;
                double abs = 0;
                for (int p = 0; p < n; p++) {
                    double t = (double) a[i * n + p] * b[p * n + j];
                    exact += t;
                    abs += Math.abs(t);
                }
                double tol = gamma * abs * (1 + 0x1p-40) + Math.ulp((float) exact);
                if (!(Math.abs(c[i * n + j] - exact) <= tol)) {
                    throw new IllegalStateException(what + ": C[" + i + "][" + j + "] is " + c[i * n + j]
                            + ", the exact product is " + exact + " (tolerance " + tol + ")");
                }
            }
        }
    }

    /**
     * Rows of an FP32-accumulated product {@code C = op(A) op(B)} ({@code m x n}, inner dimension
     * {@code k}; {@code op} transposes when asked; row-major operands with leading dimensions
     * {@code lda}, {@code ldb}; {@code C} dense with row stride {@code n}) computed in any order (a
     * native library, blocked kernels): within {@code gamma_k sum_p |a_ip b_pj|} of the double
     * reference ({@link #dotBound} with no output rounding: the FP32 accumulator is the result).
     * 16-bit inputs are passed widened; their products are exact in FP32.
     */
    static void gemmNear(String what, boolean transA, boolean transB, int m, int n, int k, float[] a, int lda,
            float[] b, int ldb, float[] c, int... rows) {
        for (int i : rows) {
            for (int j = 0; j < n; j++) {
                double exact = 0;
                double abs = 0;
                for (int p = 0; p < k; p++) {
                    double t = (double) (transA ? a[p * lda + i] : a[i * lda + p])
                            * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                    exact += t;
                    abs += Math.abs(t);
                }
                near(what, "C[" + i + "][" + j + "]", c[i * n + j], exact, dotBound(k, exact, abs, DType.FP32, 0));
            }
        }
    }

    /** The FP16 or BF16 patterns {@code bits} widened to FP32 (exact). */
    static float[] widen(DType dtype, short[] bits) {
        float[] out = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            out[i] = value(dtype, bits, i);
        }
        return out;
    }

    /**
     * {@code |got - want| <= tol}, where {@code want} is a double-precision reference.
     *
     * @param element names the element, e.g. {@code dw[3, 1, 0, 2]}
     */
    static void near(String what, String element, double got, double want, double tol) {
        if (!(Math.abs(got - want) <= tol)) {
            throw new IllegalStateException(what + ": " + element + " is " + got + ", the double reference is " + want
                    + " (tolerance " + tol + ")");
        }
    }

    /**
     * Error bound of a value accumulated in FP32 from {@code n} products (or terms) in any order,
     * then rounded {@code roundings} times to {@code out}: {@code gamma_n sum |a_k b_k|} with
     * {@code gamma_n = n u / (1 - n u)}, {@code u = 2^-24} (Higham 3.1; exact products of FP16 or
     * BF16 values only make it safer), plus per rounding half an ulp of {@code out} relative to
     * the value ({@code 2^-24}, {@code 2^-11}, {@code 2^-8}) and half its smallest subnormal.
     *
     * @param exact  the exact value (double reference)
     * @param absSum {@code sum |a_k b_k|}
     */
    static double dotBound(int n, double exact, double absSum, DType out, int roundings) {
        double gamma = n * 0x1p-24 / (1 - n * 0x1p-24);
        double acc = gamma * absSum * (1 + 0x1p-40);
        double unit = unit(out);
        double tiny = tiny(out);
        double bound = acc;
        for (int r = 0; r < roundings; r++) {
            bound += unit * (Math.abs(exact) + bound) + tiny;
        }
        return bound;
    }

    /**
     * Error bound of {@code round(round(sum_k a_k b_k) + bias)}: the {@code n} products
     * accumulated in FP32 and rounded to {@code out} ({@link #dotBound} with one rounding, relative
     * to the products' sum, which may be far larger than the result when the bias cancels it),
     * then the bias added and rounded once more, relative to the result.
     *
     * @param product    the exact {@code sum_k a_k b_k}
     * @param absProduct {@code sum_k |a_k b_k|}
     * @param exact      the exact result, {@code product + bias}
     */
    static double biasedDotBound(int n, double product, double absProduct, double exact, DType out) {
        double b = dotBound(n, product, absProduct, out, 1);
        return b + unit(out) * (Math.abs(exact) + b) + tiny(out);
    }

    /** Half an ulp of 1 in {@code dtype}, its unit roundoff: 2^-24, 2^-11 (FP16), 2^-8 (BF16). */
    static double unit(DType dtype) {
        return switch (dtype) {
            case FP32 -> 0x1p-24;
            case FP16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
        };
    }

    /** Half the smallest subnormal of {@code dtype}: the largest rounding error among subnormals. */
    static double tiny(DType dtype) {
        return switch (dtype) {
            case FP32 -> 0x1p-150;
            case FP16 -> 0x1p-25;
            case BF16 -> 0x1p-134;
        };
    }

    /** {@code v} rounded once to nearest even in {@code dtype}, widened back to FP32. */
    static float round(DType dtype, float v) {
        return switch (dtype) {
            case FP32 -> v;
            case FP16 -> Half.toFloat(Half.fromFloat(v));
            case BF16 -> BFloat16.toFloat(BFloat16.fromFloat(v));
        };
    }

    private static float value(DType dtype, Object array, int index) {
        return switch (dtype) {
            case FP32 -> ((float[]) array)[index];
            case FP16 -> Half.toFloat(((short[]) array)[index]);
            case BF16 -> BFloat16.toFloat(((short[]) array)[index]);
        };
    }

    private static short narrow(DType dtype, float v) {
        return dtype == DType.FP16 ? Half.fromFloat(v) : BFloat16.fromFloat(v);
    }
}
