package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.optim.SgdRule;
import org.junit.jupiter.api.Test;

/**
 * The two failures of plain FP16 training that Micikevicius et al. (ICLR 2018) fix, shown on
 * arrays: small updates lost without FP32 master weights (section 3.1), small gradients flushed
 * to zero without loss scaling (section 3.2).
 */
class PaperFailuresTest {

    private static final short ONE = Float.floatToFloat16(1f);

    /** FP16 arithmetic as the paper assumes it: exact widening, FP32 add, one rounding to FP16. */
    private static short addInFp16(short w, float u) {
        return Float.floatToFloat16(Float.float16ToFloat(w) + u);
    }

    @Test
    void updateBelowHalfUlpIsLostInFp16() {
        // FP16 has 10 fraction bits: next to 1 the spacing is 2^-10, so any update of at most
        // 2^-11 (half an ulp; the tie rounds to even 1) leaves w unchanged.
        short w = ONE;
        for (int step = 0; step < 10_000; step++) {
            w = addInFp16(w, 0x1p-12f);
        }
        assertEquals(ONE, w, "10,000 updates of 2^-12 all vanish");
        assertEquals(ONE, addInFp16(ONE, 0x1p-11f), "2^-11 ties to even and vanishes");
        assertNotEquals(ONE, addInFp16(ONE, 0x1p-11f + 0x1p-20f), "just above 2^-11 survives");
    }

    @Test
    void fp32MasterKeepsSmallUpdatesAndFp16CopyMovesWhenTheyAddUp() {
        float[] master = new float[1];
        short[] model = {ONE};
        MasterArrays.initFromModel(DType.FP16, model, 0, master, 0, 1);
        float[] update = {0x1p-12f};
        MasterArrays.applyUpdate(DType.FP16, master, update, model, 0, 1);
        assertEquals(1 + 0x1p-12f, master[0]);
        assertEquals(ONE, model[0], "one update is still below the FP16 copy's half ulp");
        MasterArrays.applyUpdate(DType.FP16, master, update, model, 0, 1);
        assertEquals(ONE, model[0], "1 + 2^-11 is a tie and rounds to even 1");
        MasterArrays.applyUpdate(DType.FP16, master, update, model, 0, 1);
        assertEquals(Float.floatToFloat16(1 + 0x1p-10f), model[0], "1 + 3 * 2^-12 rounds up: the copy moved");
        for (int step = 3; step < 1024; step++) {
            MasterArrays.applyUpdate(DType.FP16, master, update, model, 0, 1);
        }
        assertEquals(1.25f, master[0], "1024 updates of 2^-12 add up exactly in FP32");
        assertEquals(Float.floatToFloat16(1.25f), model[0]);
    }

    @Test
    void sgdOnFp32MastersKeepsWhatFp16WeightsLose() {
        // lr * g = 2^-12 * 1 per step, a relative update of 2^-12 for a weight of 1.
        var sgd = SgdRule.of(0);
        float[] master = {1f};
        short[] model = {ONE};
        short fp16Only = ONE;
        float[] grad = {-1f};
        for (long step = 1; step <= 512; step++) {
            sgd.apply(0x1p-12, step, master, grad, null, 0, 1);
            MasterArrays.roundToModel(DType.FP16, master, 0, model, 0, 1);
            fp16Only = addInFp16(fp16Only, -0x1p-12f * grad[0]);
        }
        assertEquals(ONE, fp16Only, "FP16 weights never moved");
        assertEquals(1.125f, master[0]);
        assertEquals(Float.floatToFloat16(1.125f), model[0]);
    }

    @Test
    void gradientBelowFp16RangeFlushesToZeroWithoutScaling() {
        float g = 0x1p-26f;
        assertEquals(0, Float.floatToFloat16(g), "2^-26 is below FP16's smallest subnormal 2^-24");
        assertEquals(0, Float.floatToFloat16(0x1p-25f), "2^-25 is a tie and rounds to even zero");
        assertEquals(1, Float.floatToFloat16(Math.nextUp(0x1p-25f)), "just above 2^-25 rounds to 2^-24");
    }

    @Test
    void lossScalingKeepsSmallGradientsAndUnscalesThemExactly() {
        double scale = 0x1p16;
        // every power of two from 2^-40 to 2^-25 is lost in FP16, kept once scaled by 2^16
        int n = 16;
        float[] g = new float[n];
        short[] unscaled16 = new short[n];
        short[] scaled16 = new short[n];
        for (int k = 0; k < n; k++) {
            g[k] = Math.scalb(1f, -40 + k);
            unscaled16[k] = Float.floatToFloat16(g[k]);
            scaled16[k] = Float.floatToFloat16((float) (g[k] * scale));
            assertEquals(0, unscaled16[k], "2^" + (-40 + k) + " flushes to zero");
            assertNotEquals(0, scaled16[k], "2^" + (-40 + k) + " x 2^16 is representable");
        }
        float[] back = new float[n];
        assertTrue(Unscale.unscale(DType.FP16, scaled16, 0, back, 0, n, scale));
        for (int k = 0; k < n; k++) {
            assertEquals(g[k], back[k], "unscaled exactly for a power-of-two scale");
        }
        GradientStats plain = GradientStats.of(g, 1);
        GradientStats scaled = GradientStats.of(g, scale);
        assertEquals(1.0, plain.fractionZero());
        assertEquals(0.0, scaled.fractionZero());
    }
}
