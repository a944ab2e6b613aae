package dev.mpt.core.kernel;

/**
 * Bulk conversions between FP32 ({@code float[]}) and the 16-bit formats stored as {@code short[]}
 * bit patterns. Every conversion to a 16-bit format rounds to nearest even, keeps subnormals and
 * signed zeros, and maps NaN to NaN, element by element exactly as {@link dev.mpt.core.number.Half#fromFloat}
 * and {@link dev.mpt.core.number.BFloat16#fromFloat} do; the widening conversions are exact.
 *
 * <p>Each method converts {@code len} elements, {@code src[srcOff .. srcOff+len)} into
 * {@code dst[dstOff .. dstOff+len)}, and modifies only that range of {@code dst}. The loops are
 * the Vector API ones when {@link Simd#VECTOR_ENABLED} (chosen once), else plain loops that C2
 * vectorizes where it can; arrays of at least {@link Grain#CONVERT} * 2 elements are split into
 * contiguous chunks on {@link Parallel}'s threads. Each element's result is the same on every path.
 */
public final class Convert {

    /** The conversion loops of this JVM, chosen once; {@link GemmOperand} widens 16-bit operands with them. */
    static final ConvertKernel KERNEL =
            Simd.select(ConvertKernel.class, "dev.mpt.core.kernel.VectorConvert", ScalarConvert::new);

    private Convert() {
    }

    /** {@code dst[dstOff+i] = fp16(src[srcOff+i])} for {@code i < len}, rounded to nearest even. */
    public static void floatToHalf(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        check("floatToHalf", src, srcOff, dst, dstOff, len);
        if (len < 2 * Grain.CONVERT) {
            KERNEL.floatToHalf(src, srcOff, dst, dstOff, len);
        } else {
            Parallel.forRange(len, Grain.CONVERT,
                    (from, to) -> KERNEL.floatToHalf(src, srcOff + from, dst, dstOff + from, to - from));
        }
    }

    /** {@code dst[dstOff+i] = (float) fp16 src[srcOff+i]} for {@code i < len} (exact). */
    public static void halfToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        check("halfToFloat", src, srcOff, dst, dstOff, len);
        if (len < 2 * Grain.CONVERT) {
            KERNEL.halfToFloat(src, srcOff, dst, dstOff, len);
        } else {
            Parallel.forRange(len, Grain.CONVERT,
                    (from, to) -> KERNEL.halfToFloat(src, srcOff + from, dst, dstOff + from, to - from));
        }
    }

    /** {@code dst[dstOff+i] = bf16(src[srcOff+i])} for {@code i < len}, rounded to nearest even. */
    public static void floatToBFloat16(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        check("floatToBFloat16", src, srcOff, dst, dstOff, len);
        if (len < 2 * Grain.CONVERT) {
            KERNEL.floatToBFloat16(src, srcOff, dst, dstOff, len);
        } else {
            Parallel.forRange(len, Grain.CONVERT,
                    (from, to) -> KERNEL.floatToBFloat16(src, srcOff + from, dst, dstOff + from, to - from));
        }
    }

    /** {@code dst[dstOff+i] = (float) bf16 src[srcOff+i]} for {@code i < len} (exact). */
    public static void bfloat16ToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        check("bfloat16ToFloat", src, srcOff, dst, dstOff, len);
        if (len < 2 * Grain.CONVERT) {
            KERNEL.bfloat16ToFloat(src, srcOff, dst, dstOff, len);
        } else {
            Parallel.forRange(len, Grain.CONVERT,
                    (from, to) -> KERNEL.bfloat16ToFloat(src, srcOff + from, dst, dstOff + from, to - from));
        }
    }

    /**
     * {@code a[off+i] = (float) fp16(a[off+i])} for {@code i < len}: each value rounded to the
     * nearest FP16 value (nearest even; overflow to infinity, NaN stays NaN) and kept as FP32, in
     * one pass and without a 16-bit array; what a 16-bit store followed by a widening load gives.
     */
    public static void roundToHalf(float[] a, int off, int len) {
        if (a == null) {
            throw new NullPointerException("roundToHalf: array is null");
        }
        if (off < 0 || len < 0 || off > a.length - len) {
            throw new IndexOutOfBoundsException("roundToHalf: range [" + off + ", " + off + " + " + len
                    + ") outside an array of " + a.length);
        }
        if (len < 2 * Grain.CONVERT) {
            roundToHalfLoop(a, off, len);
        } else {
            Parallel.forRange(len, Grain.CONVERT, (from, to) -> roundToHalfLoop(a, off + from, to - from));
        }
    }

    /** The plain loop; C2 vectorizes both intrinsics. */
    private static void roundToHalfLoop(float[] a, int off, int len) {
        for (int i = off, end = off + len; i < end; i++) {
            a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
        }
    }

    private static void check(String op, Object src, int srcOff, Object dst, int dstOff, int len) {
        if (src == null) {
            throw new NullPointerException("Convert." + op + ": src is null");
        }
        if (dst == null) {
            throw new NullPointerException("Convert." + op + ": dst is null");
        }
        int srcLength = src instanceof float[] f ? f.length : ((short[]) src).length;
        int dstLength = dst instanceof float[] f ? f.length : ((short[]) dst).length;
        if (len < 0) {
            throw new IllegalArgumentException("Convert." + op + ": len must be >= 0, got " + len);
        }
        if (srcOff < 0 || srcOff > srcLength - len) {
            throw new IndexOutOfBoundsException("Convert." + op + ": src range [" + srcOff + ", " + srcOff
                    + " + " + len + ") is outside src of length " + srcLength);
        }
        if (dstOff < 0 || dstOff > dstLength - len) {
            throw new IndexOutOfBoundsException("Convert." + op + ": dst range [" + dstOff + ", " + dstOff
                    + " + " + len + ") is outside dst of length " + dstLength);
        }
    }
}
