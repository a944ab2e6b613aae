package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MasterArraysTest {

    @Test
    void initIsExactAndRoundingIsToNearestEven() {
        var rnd = new Random(4);
        int n = 1000;
        short[] model = new short[n];
        for (int i = 0; i < n; i++) {
            model[i] = Float.floatToFloat16((float) rnd.nextGaussian());
        }
        for (DType dt : new DType[] {DType.FP16, DType.BF16}) {
            float[] master = new float[n + 3];
            MasterArrays.initFromModel(dt, model, 0, master, 3, n);
            for (int i = 0; i < n; i++) {
                float want = dt == DType.FP16 ? Float.float16ToFloat(model[i]) : Float.intBitsToFloat(model[i] << 16);
                assertEquals(want, master[i + 3]);
            }
        }
        // rounding against a double reference: the nearest FP16 of each master value, ties to even
        float[] master = new float[n];
        for (int i = 0; i < n; i++) {
            master[i] = (float) (rnd.nextGaussian() * 100);
        }
        short[] rounded = new short[n];
        MasterArrays.roundToModel(DType.FP16, master, 0, rounded, 0, n);
        for (int i = 0; i < n; i++) {
            double x = master[i];
            double got = Float.float16ToFloat(rounded[i]);
            double up = Float.float16ToFloat((short) (rounded[i] + 1));
            double down = Float.float16ToFloat((short) (rounded[i] - 1));
            assertTrue(Math.abs(got - x) <= Math.abs(up - x) && Math.abs(got - x) <= Math.abs(down - x),
                    "nearest FP16 of " + x);
        }
        short[] bf = new short[1];
        MasterArrays.roundToModel(DType.BF16, new float[] {1 + 0x1p-8f}, 0, bf, 0, 1);
        assertEquals(1f, Float.intBitsToFloat(bf[0] << 16), "BF16 tie 1 + 2^-8 rounds to even 1");
    }

    @Test
    void applyUpdateAddsInFp32AndRefreshesCopyInRangeOnly() {
        float[] master = {1, 2, 3};
        short[] model = {0, 0, 0};
        MasterArrays.applyUpdate(DType.BF16, master, new float[] {5, 0.5f, 7}, model, 1, 1);
        assertEquals(1f, master[0]);
        assertEquals(2.5f, master[1]);
        assertEquals(3f, master[2]);
        assertEquals(0, model[0]);
        assertEquals(2.5f, Float.intBitsToFloat(model[1] << 16));
    }

    @Test
    void rejectsBadArguments() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> MasterArrays.roundToModel(DType.FP32, new float[1], 0, new short[1], 0, 1));
        assertTrue(e.getMessage().contains("FP32"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> MasterArrays.initFromModel(DType.FP32, new short[1], 0, new float[1], 0, 1));
        assertThrows(NullPointerException.class,
                () -> MasterArrays.applyUpdate(null, new float[1], new float[1], new short[1], 0, 1));
        assertThrows(NullPointerException.class,
                () -> MasterArrays.applyUpdate(DType.FP16, new float[1], null, new short[1], 0, 1));
        assertThrows(IndexOutOfBoundsException.class,
                () -> MasterArrays.applyUpdate(DType.FP16, new float[2], new float[2], new short[1], 0, 2));
        assertThrows(IndexOutOfBoundsException.class,
                () -> MasterArrays.roundToModel(DType.FP16, new float[2], 1, new short[2], 0, 2));
    }
}
