package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The point-wise kernel of this JVM ({@link BinaryKernel#INSTANCE}, the Vector API one when
 * enabled) and, when loadable, {@link VectorBinaryKernel} itself, against the plain row loops of
 * {@link BinaryOp}: bit-identical (NaNs compared as NaN) for every op, over awkward lengths and
 * offsets, with signed zeros, subnormals, infinities and NaNs among the operands.
 */
class BinaryKernelTest {

    private static final float[] SPECIAL = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f, Float.MAX_VALUE,
        -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3e-39f};

    @Test
    void kernelsEqualThePlainRowLoops() {
        check(BinaryKernel.INSTANCE);
        if (Simd.VECTOR_ENABLED) {
            check(new VectorBinaryKernel());
        }
    }

    private static void check(BinaryKernel kernel) {
        SplittableRandom rng = new SplittableRandom(13);
        for (int n : new int[] {0, 1, 3, 7, 8, 13, 16, 31, 64, 100, 4097}) {
            int ao = rng.nextInt(5);
            int bo = rng.nextInt(5);
            int oo = rng.nextInt(5);
            float[] a = new float[ao + n];
            float[] b = new float[bo + n];
            for (int i = 0; i < n; i++) {
                a[ao + i] = i % 5 == 0 ? SPECIAL[rng.nextInt(SPECIAL.length)] : (float) rng.nextGaussian();
                b[bo + i] = i % 7 == 0 ? SPECIAL[rng.nextInt(SPECIAL.length)] : (float) rng.nextGaussian();
            }
            for (BinaryOp op : BinaryOp.values()) {
                float[] want = new float[oo + n];
                float[] got = new float[oo + n];
                op.apply(a, ao, b, bo, want, oo, n);
                kernel.apply(op, a, ao, b, bo, got, oo, n);
                for (int i = 0; i < oo + n; i++) {
                    assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                            op + " n=" + n + " i=" + i + ": " + want[i] + " vs " + got[i]);
                }
            }
        }
    }
}
