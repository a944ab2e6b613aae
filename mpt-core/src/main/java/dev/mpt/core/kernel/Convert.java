package dev.mpt.core.kernel;

import java.util.Objects;

/**
 * Bulk conversions between FP32 ({@code float[]}) and the 16-bit formats stored as {@code short[]}
 * bit patterns. Every conversion to a 16-bit format rounds to nearest even, keeps subnormals and
 * signed zeros, and maps NaN to NaN.
 */
public final class Convert {

    private Convert() {
    }

    /** {@code dst[dstOff+i] = fp16(src[srcOff+i])} for {@code i < len}, rounded to nearest even. */
    public static void floatToHalf(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        Objects.checkFromIndexSize(srcOff, len, src.length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = Float.floatToFloat16(src[srcOff + i]);
        }
    }

    /** {@code dst[dstOff+i] = (float) fp16 src[srcOff+i]} for {@code i < len} (exact). */
    public static void halfToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        Objects.checkFromIndexSize(srcOff, len, src.length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src[srcOff + i]);
        }
    }

    /** {@code dst[dstOff+i] = bf16(src[srcOff+i])} for {@code i < len}, rounded to nearest even. */
    public static void floatToBFloat16(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        Objects.checkFromIndexSize(srcOff, len, src.length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        for (int i = 0; i < len; i++) {
            int bits = Float.floatToRawIntBits(src[srcOff + i]);
            if ((bits & 0x7fffffff) > 0x7f800000) {
                dst[dstOff + i] = (short) ((bits >>> 16) | 0x0040); // quiet NaN, sign and payload top kept
            } else {
                dst[dstOff + i] = (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
            }
        }
    }

    /** {@code dst[dstOff+i] = (float) bf16 src[srcOff+i]} for {@code i < len} (exact). */
    public static void bfloat16ToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        Objects.checkFromIndexSize(srcOff, len, src.length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = Float.intBitsToFloat(src[srcOff + i] << 16);
        }
    }
}
