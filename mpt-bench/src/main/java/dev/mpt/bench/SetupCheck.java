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
