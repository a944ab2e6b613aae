package dev.mpt.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The bulk conversions with the Panama Vector API, loaded by name through {@link Simd#select} only
 * when {@code jdk.incubator.vector} is present. The BF16 loops are the lane-wise form of
 * {@link dev.mpt.core.number.BFloat16#fromFloat(float)} and {@link dev.mpt.core.number.BFloat16#toFloat(short)};
 * the FP16 loops are the plain ones, which C2 already vectorizes. Tails run the plain loops.
 */
final class VectorConvert implements ConvertKernel {

    /**
     * Int lanes of at most 256 bits: on JDK 25 with AVX-512 the 512-to-256-bit int-to-short
     * conversion is not intrinsified and runs ~100x slower (measured: 0.01 vs 3.9 G elements/s
     * converting 4096 floats in cache), while the 256-to-128-bit one compiles to one instruction.
     */
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class,
            VectorShape.forBitSize(Math.min(256, IntVector.SPECIES_PREFERRED.vectorBitSize())));
    private static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, INTS.vectorShape());
    /** Shorts with as many lanes as {@link #INTS}: half its bit size. */
    private static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(INTS.vectorBitSize() / 2));

    private final ScalarConvert plain = new ScalarConvert();

    /** Creates the kernel; called reflectively by {@link Simd#select}. */
    public VectorConvert() {
    }

    @Override
    public void floatToHalf(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        plain.floatToHalf(src, srcOff, dst, dstOff, len);
    }

    @Override
    public void halfToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        plain.halfToFloat(src, srcOff, dst, dstOff, len);
    }

    @Override
    public void floatToBFloat16(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        int n = INTS.loopBound(len);
        int i = 0;
        for (; i < n; i += INTS.length()) {
            IntVector bits = FloatVector.fromArray(FLOATS, src, srcOff + i).reinterpretAsInts();
            IntVector upper = bits.lanewise(VectorOperators.LSHR, 16);
            IntVector rounded = bits.add(upper.and(1)).add(0x7fff).lanewise(VectorOperators.LSHR, 16);
            VectorMask<Integer> nan = bits.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
            IntVector out = rounded.blend(upper.or(0x0040), nan);
            out.convertShape(VectorOperators.I2S, SHORTS, 0).reinterpretAsShorts().intoArray(dst, dstOff + i);
        }
        plain.floatToBFloat16(src, srcOff + i, dst, dstOff + i, len - i);
    }

    @Override
    public void bfloat16ToFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        int n = INTS.loopBound(len);
        int i = 0;
        for (; i < n; i += INTS.length()) {
            ShortVector h = ShortVector.fromArray(SHORTS, src, srcOff + i);
            IntVector wide = (IntVector) h.convertShape(VectorOperators.S2I, INTS, 0);
            wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        plain.bfloat16ToFloat(src, srcOff + i, dst, dstOff + i, len - i);
    }
}
