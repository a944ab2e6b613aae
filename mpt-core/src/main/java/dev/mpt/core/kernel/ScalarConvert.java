package dev.mpt.core.kernel;

import dev.mpt.core.number.BFloat16;

/**
 * The plain loops of the bulk conversions: the specification that every faster implementation is
 * tested against, and the path used when the Vector API is off. C2 vectorizes the FP16 loops (the
 * {@code Float.floatToFloat16} and {@code Float.float16ToFloat} intrinsics); on JDK 25 it does not
 * vectorize the BF16 loops, with or without branches (measured in cache: about 0.3 G elements/s
 * against 3 to 7 for the FP16 loops), which is why {@link VectorConvert} exists.
 */
final class ScalarConvert implements ConvertKernel {

    @Override
    public void floatToHalf(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = Float.floatToFloat16(src[srcOff + i]);
        }
    }

    @Override
    public void halfToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src[srcOff + i]);
        }
    }

    @Override
    public void floatToBFloat16(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = BFloat16.fromFloat(src[srcOff + i]);
        }
    }

    @Override
    public void bfloat16ToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = BFloat16.toFloat(src[srcOff + i]);
        }
    }
}
