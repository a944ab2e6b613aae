package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class ActivationsTest {

    /** Inputs kept away from the ReLU kinks at 0 by more than GradCheck's 2h. */
    private static Tensor awayFromZero(long seed, int... shape) {
        float[] v = Tensor.randn(new SplittableRandom(seed), DType.FP32, shape).toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] + Math.copySign(0.1f, v[i]);
        }
        return Tensor.of(v, shape);
    }

    @Test
    void valuesAgainstDoubleFormulas() {
        double c = Math.sqrt(2 / Math.PI);
        List<Module> mods = List.of(new ReLU(), new LeakyReLU(0.2f), new Tanh(), new Sigmoid(), new GELU());
        List<DoubleUnaryOperator> refs = List.of(x -> Math.max(x, 0), x -> x > 0 ? x : 0.2 * x, Math::tanh,
                x -> 1 / (1 + Math.exp(-x)), x -> 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x * x * x))));
        Tensor x = awayFromZero(1, 4, 5);
        float[] xs = x.toFloatArray();
        for (int m = 0; m < mods.size(); m++) {
            float[] y = mods.get(m).forward(x).toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                double ref = refs.get(m).applyAsDouble(xs[i]);
                // one FP32 rounding of the result plus a few ulps from exp/tanh inside: 8 u (|y| + 1e-30);
                // GELU's FP32 sigmoid of w = 2c (x + a x^3) adds up to u |w| (Unary.GELU's bound: d_e + 6u +
                // u |w| (1 - s), d_e < 2^-26)
                double w = m == 4 ? 2 * c * (xs[i] + 0.044715 * xs[i] * xs[i] * xs[i]) : 0;
                assertEquals(ref, y[i], (8 + Math.abs(w)) * 0x1p-24 * Math.abs(ref) + 1e-30, mods.get(m) + " at " + xs[i]);
            }
            Module mod = mods.get(m);
            GradCheck.assertGradients(in -> mod.forward(in[0]), x);
        }
        assertEquals(LeakyReLU.DEFAULT_SLOPE, new LeakyReLU().slope());
        assertThrows(IllegalArgumentException.class, () -> new LeakyReLU(Float.NaN));
        assertThrows(NullPointerException.class, () -> new ReLU().forward(null));
    }

    @Test
    void activationsKeepTheInputDtype() {
        Tensor x = awayFromZero(2, 3, 3).to(DType.FP16);
        for (Module m : List.of(new ReLU(), new LeakyReLU(), new Tanh(), new Sigmoid(), new GELU(), new Flatten())) {
            assertEquals(DType.FP16, m.forward(x).dtype(), m.toString());
        }
    }

    @Test
    void flattenKeepsTheBatchDimension() {
        Tensor x = Tensor.arange(24).reshape(2, 3, 4);
        Tensor y = new Flatten().forward(x);
        assertArrayEquals(new int[] {2, 12}, y.shape());
        assertArrayEquals(x.toFloatArray(), y.toFloatArray());
        GradCheck.assertGradients(in -> new Flatten().forward(in[0]), awayFromZero(3, 2, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new Flatten().forward(Tensor.scalar(1)));
    }

    @Test
    void dropoutScalesSurvivorsAndIsIdentityInEval() {
        var d = new Dropout(0.25, new SplittableRandom(5));
        Tensor x = Tensor.full(2f, 100, 100);
        float[] y = d.forward(x).toFloatArray();
        int kept = 0;
        for (float v : y) {
            assertTrue(v == 0f || v == (float) (2 / 0.75), "value " + v);
            kept += v == 0f ? 0 : 1;
        }
        // binomial(10,000, 0.75): standard deviation sqrt(n p (1-p)) = 43.3; 5 sigma
        assertEquals(7500, kept, 5 * 43.3);
        d.eval();
        assertSame(x, d.forward(x));
        d.train();
        var d1 = new Dropout(0.25, new SplittableRandom(5));
        assertArrayEquals(y, d1.forward(x).toFloatArray(), "same seed, same mask");
        assertNotEquals(0f, new Dropout(0.5, new SplittableRandom(6)).forward(x.to(DType.FP16)).sum().item());
        assertEquals(DType.FP16, d.forward(x.to(DType.FP16)).dtype());
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(-0.1, new SplittableRandom(1)));
        assertThrows(NullPointerException.class, () -> new Dropout(0.1, null));
    }

    @Test
    void dropoutGradientIsTheMask() {
        var d = new Dropout(0.5, new SplittableRandom(8));
        Tensor x = Tensor.ones(50).requiresGrad(true);
        float[] y = d.forward(x).toFloatArray();
        // x is all ones, so y is the mask itself and dy/dx = mask
        Tensor x2 = Tensor.ones(50).requiresGrad(true);
        new Dropout(0.5, new SplittableRandom(8)).forward(x2).sum().backward();
        assertArrayEquals(y, x2.grad().toFloatArray());
    }
}
