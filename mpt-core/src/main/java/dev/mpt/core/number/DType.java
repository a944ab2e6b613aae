package dev.mpt.core.number;

/**
 * The element type of a tensor. FP16 and BF16 elements are stored as {@code short} bit patterns,
 * FP32 elements as {@code float}.
 */
public enum DType {
    /** IEEE 754 binary32. */
    FP32(4),
    /** IEEE 754 binary16 ({@link Half}): 5 exponent bits, 10 fraction bits. */
    FP16(2),
    /** bfloat16 ({@link BFloat16}): 8 exponent bits, 7 fraction bits. */
    BF16(2);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether this is a 16-bit type stored as {@code short} bit patterns. */
    public boolean isHalfWidth() {
        return this != FP32;
    }
}
