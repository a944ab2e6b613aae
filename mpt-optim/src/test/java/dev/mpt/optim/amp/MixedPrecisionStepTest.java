package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.optim.SgdRule;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.scaling.ScaleDecision;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pieces of this package in the order of one mixed-precision step (the paper's Figure 1),
 * on a problem whose gradients lie below FP16's range: minimise
 * {@code L = c/2 * sum (w - t)^2} with {@code c = 2^-32}, so {@code dL/dw = c (w - t)} is about
 * 2^-32 and flushes to zero in FP16 unless the loss is scaled.
 */
class MixedPrecisionStepTest {

    private static final int N = 64;
    private static final float C = 0x1p-32f;
    /** lr * c = 1/4: each step removes a quarter of the error. */
    private static final double LR = 0x1p30;

    private record Run(float[] master, LossScaler scaler, int skipped) {
    }

    private static Run train(LossScaler scaler, float[] target, int steps, int overflowAtStep) {
        float[] master = new float[N];
        short[] model = new short[N];
        MasterArrays.roundToModel(DType.FP16, master, 0, model, 0, N);
        short[] grad16 = new short[N];
        float[] grad32 = new float[N];
        var sgd = SgdRule.of(0);
        long applied = 0;
        int skipped = 0;
        for (int step = 0; step < steps; step++) {
            // FP16 backward of the scaled loss: FP32 arithmetic, one rounding to FP16 per gradient
            float s = (float) scaler.scale();
            for (int i = 0; i < N; i++) {
                grad16[i] = Float.floatToFloat16(s * C * (Float.float16ToFloat(model[i]) - target[i]));
            }
            if (step == overflowAtStep) {
                grad16[N / 2] = 0x7c00; // +inf, as an overflowing backward pass would produce
            }
            boolean finite = Unscale.unscale(DType.FP16, grad16, 0, grad32, 0, N, scaler.scale());
            ScaleDecision u = scaler.adjust(finite);
            if (u.skipped()) {
                skipped++;
            } else {
                sgd.apply(LR, ++applied, master, grad32, null, 0, N);
                MasterArrays.roundToModel(DType.FP16, master, 0, model, 0, N);
            }
            scaler = u.next();
        }
        return new Run(master, scaler, skipped);
    }

    private static float[] targets() {
        var rnd = new Random(99);
        float[] t = new float[N];
        for (int i = 0; i < N; i++) {
            t[i] = rnd.nextFloat() * 2 - 1;
        }
        return t;
    }

    @Test
    void withoutScalingNothingIsLearned() {
        float[] t = targets();
        Run r = train(LossScaler.fixed(1), t, 41, -1);
        assertArrayEquals(new float[N], r.master(), "every FP16 gradient flushed to zero");
        GradientStats stats = GradientStats.of(initialGradients(t), 1);
        assertEquals(1.0, stats.fractionZero());
    }

    @Test
    void dynamicScalingLearnsAndSkipsTheOverflowingStep() {
        float[] t = targets();
        Run r = train(LossScaler.dynamicBuilder().initialScale(0x1p16).build(), t, 41, 10);
        assertEquals(1, r.skipped());
        assertEquals(0x1p15, r.scaler().scale(), "halved once by the overflow");
        assertEquals(1, r.scaler().state().skippedSteps());
        // Error bound over the 40 applied steps, e = w - t, |e0| = |t| < 1:
        // - the forward reads w16 = fp16(w): |w16 - w| <= 2^-11 (half-spacing for |w| < 2);
        // - the scaled FP16 gradient s c e16 is rounded with relative error <= 2^-11 when normal,
        //   absolute error <= 2^-25 when subnormal or flushed; unscaled and times lr = 2^30 that
        //   is <= 2^30 * 2^-25 / 2^15 = 2^-10 in weight units (s >= 2^15 throughout);
        // - the FP32 master update p - lr g rounds once more: <= 2^-24 * 2 = 2^-23.
        // So |e'| <= a |e| + b with a = 0.75 + 0.25 * 2^-11, b = 0.25 * 2^-11 + 2^-10 + 2^-23,
        // hence |e_40| <= a^40 + b / (1 - a).
        double a = 0.75 + 0.25 * 0x1p-11;
        double b = 0.25 * 0x1p-11 + 0x1p-10 + 0x1p-23;
        double bound = Math.pow(a, 40) + b / (1 - a);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            worst = Math.max(worst, Math.abs(r.master()[i] - t[i]));
        }
        assertTrue(worst <= bound, "max |w - t| = " + worst + " > " + bound);
        double start = 0;
        for (float x : t) {
            start = Math.max(start, Math.abs(x));
        }
        assertTrue(worst < start / 100, "learned: error fell from " + start + " to " + worst);
        GradientStats stats = GradientStats.of(initialGradients(t), 0x1p16);
        assertEquals(0.0, stats.fractionZero(), "at scale 2^16 no initial gradient is zero in FP16");
    }

    /** The true gradients c (0 - t) at w = 0. */
    private static float[] initialGradients(float[] t) {
        float[] g = new float[N];
        for (int i = 0; i < N; i++) {
            g[i] = C * -t[i];
        }
        return g;
    }
}
