package dev.mpt.core.kernel;

/**
 * One implementation of the four bulk conversions behind {@link Convert}: the plain loops of
 * {@link ScalarConvert} (the specification) or the Vector API loops of {@link VectorConvert}.
 * Arguments are already validated: ranges are inside the arrays and {@code len >= 0}.
 */
interface ConvertKernel {

    /** {@code dst[dstOff+i] = fp16(src[srcOff+i])}, rounded to nearest even. */
    void floatToHalf(float[] src, int srcOff, short[] dst, int dstOff, int len);

    /** {@code dst[dstOff+i] = (float) fp16 src[srcOff+i]} (exact). */
    void halfToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len);

    /** {@code dst[dstOff+i] = bf16(src[srcOff+i])}, rounded to nearest even as {@link dev.mpt.core.number.BFloat16#fromFloat(float)}. */
    void floatToBFloat16(float[] src, int srcOff, short[] dst, int dstOff, int len);

    /** {@code dst[dstOff+i] = (float) bf16 src[srcOff+i]} (exact). */
    void bfloat16ToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len);
}
