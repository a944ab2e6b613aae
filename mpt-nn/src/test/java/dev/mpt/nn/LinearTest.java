package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearTest {

    private static final double U16 = 0x1p-11;
    private static final double U32 = 0x1p-24;

    @Test
    void gradientsOfInputWeightAndBias() {
        var rng = new SplittableRandom(11);
        var lin = new Linear(5, 3, rng);
        GradCheck.assertGradients(in -> {
            lin.weight().set(in[1]);
            lin.bias().set(in[2]);
            return lin.forward(in[0]);
        }, Tensor.randn(rng, DType.FP32, 4, 5), lin.weight().value().detach(), lin.bias().value().detach());
        var noBias = new Linear(5, 2, false, rng);
        GradCheck.assertGradients(in -> noBias.forward(in[0]), Tensor.randn(rng, DType.FP32, 2, 3, 5));
    }

    @Test
    void defaultInitIsBoundedByOneOverSqrtFanIn() {
        var lin = new Linear(100, 50, 4L);
        double bound = 1 / Math.sqrt(100);
        for (float v : lin.weight().value().toFloatArray()) {
            assertTrue(Math.abs(v) <= bound);
        }
        for (float v : lin.bias().value().toFloatArray()) {
            assertTrue(Math.abs(v) <= bound);
        }
    }

    /**
     * FP16 layer against a double reference from the FP32 weights and inputs. Error sources, with
     * S = sum_i |x_i w_i| per output and u = 2^-11: rounding x and w to FP16 changes each product by
     * at most (2u + u^2)|x_i w_i|; FP16 x FP16 products are exact in FP32 and the FP32 sum of n terms
     * errs by at most n 2^-24 S; the product is rounded to FP16 (u |y'|), the bias rounded to FP16
     * (u |b|) and the sum rounded once more (u |y''|). With |y'| <= |y| + E and E the error before
     * that rounding, the bound below follows.
     */
    @Test
    void halfPrecisionWithinDerivedBound() {
        var rng = new SplittableRandom(12);
        int n = 64;
        var lin = new Linear(n, 16, rng);
        Tensor x = Tensor.randn(rng, DType.FP32, 8, n);
        float[] w = lin.weight().value().toFloatArray();
        float[] b = lin.bias().value().toFloatArray();
        float[] xs = x.toFloatArray();
        float[] y32 = lin.forward(x).toFloatArray();
        lin.to(DType.FP16);
        Tensor y16 = lin.forward(x.to(DType.FP16));
        assertEquals(DType.FP16, y16.dtype());
        float[] y = y16.toFloatArray();
        for (int r = 0; r < 8; r++) {
            for (int o = 0; o < 16; o++) {
                double ref = b[o];
                double s = 0;
                for (int i = 0; i < n; i++) {
                    ref += (double) xs[r * n + i] * w[o * n + i];
                    s += Math.abs((double) xs[r * n + i] * w[o * n + i]);
                }
                double dot = ref - b[o];
                double e1 = (2 * U16 + U16 * U16) * s + n * U32 * s;
                double e2 = e1 + U16 * (Math.abs(dot) + e1);
                double e3 = e2 + U16 * Math.abs(b[o]);
                double bound = e3 + U16 * (Math.abs(ref) + e3);
                double err = Math.abs(y[r * 16 + o] - ref);
                assertTrue(err <= bound, "FP16 [" + r + "," + o + "]: " + y[r * 16 + o] + " vs " + ref + " bound " + bound);
                // FP32 path: n 2^-24 S accumulation, one bias-add rounding
                assertTrue(Math.abs(y32[r * 16 + o] - ref) <= (n + 2) * U32 * (s + Math.abs(b[o])), "FP32");
            }
        }
    }

    @Test
    void badInputs() {
        var lin = new Linear(4, 2, 1L);
        assertThrows(NullPointerException.class, () -> lin.forward(null));
        var e = assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.ones(3, 5)));
        assertTrue(e.getMessage().contains("Linear") && e.getMessage().contains("[3, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.ones(4)));
        e = assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.ones(DType.FP16, 3, 4)));
        assertTrue(e.getMessage().contains("FP16") && e.getMessage().contains("FP32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Linear(0, 2, 1L));
        assertThrows(IllegalArgumentException.class, () -> new Linear(2, -1, 1L));
        assertThrows(NullPointerException.class, () -> new Linear(2, 2, null));
    }
}
