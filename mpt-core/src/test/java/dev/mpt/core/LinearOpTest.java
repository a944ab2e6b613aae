package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Tensor#linear}: the fused {@code x W^T + b} equals the composition
 * {@code x.matmul(W.t()).add(b)} bit for bit, output and the three gradients, in FP32, FP16 and
 * BF16, on the small-problem, blocked and parallel GEMM paths, for 2-D and 3-D inputs; and its
 * output is within the derived error bound of a double reference.
 */
class LinearOpTest {

    /** (batch, in, out): a product on the blocked path, and one above 128^3 on the parallel path. */
    private static final int[][] SHAPES = {{37, 29, 23}, {150, 120, 130}, {3, 2, 5}};

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void fusedEqualsMatmulThenAddBitForBit(DType dtype) {
        SplittableRandom rng = new SplittableRandom(5);
        for (int[] s : SHAPES) {
            for (boolean batched : new boolean[] {false, true}) {
                for (boolean inputGrad : new boolean[] {false, true}) {
                    int[] xShape = batched ? new int[] {2, s[0], s[1]} : new int[] {s[0], s[1]};
                    int[] yShape = batched ? new int[] {2, s[0], s[2]} : new int[] {s[0], s[2]};
                    Tensor x0 = random(rng, xShape).to(dtype);
                    Tensor w0 = random(rng, s[2], s[1]).to(dtype);
                    Tensor b0 = random(rng, s[2]).to(dtype);
                    Tensor seed = random(rng, yShape).to(dtype);
                    String what = dtype + " " + java.util.Arrays.toString(s) + " batched " + batched;

                    Tensor x1 = x0.detach().requiresGrad(inputGrad);
                    Tensor w1 = w0.detach().requiresGrad(true);
                    Tensor b1 = b0.detach().requiresGrad(true);
                    Tensor fused = x1.linear(w1, b1);
                    fused.backward(seed);

                    Tensor x2 = x0.detach().requiresGrad(inputGrad);
                    Tensor w2 = w0.detach().requiresGrad(true);
                    Tensor b2 = b0.detach().requiresGrad(true);
                    Tensor composed = x2.matmul(w2.t()).add(b2);
                    composed.backward(seed);

                    assertEquals(dtype, fused.dtype(), what);
                    assertSameBits(composed, fused, what + " output");
                    assertSameBits(w2.grad(), w1.grad(), what + " weight gradient");
                    assertSameBits(b2.grad(), b1.grad(), what + " bias gradient");
                    assertTrue(w1.grad().isContiguous(), what + ": weight gradient must be row-major");
                    if (inputGrad) {
                        assertSameBits(x2.grad(), x1.grad(), what + " input gradient");
                    }
                }
            }
        }
    }

    /**
     * An FP16 weight's gradient is written straight into FP16 only when it is the weight's sole
     * contribution and the weight has no gradient yet; a weight used twice in one graph (each
     * product's gradient rounded to FP16, as at the composition's transpose view, then summed in
     * FP32 and rounded once) or one that already holds a gradient (accumulation over two backward
     * passes) goes the composition's way. Each case equals the composition bit for bit.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void weightGradientFollowsTheCompositionWhenContributionsAdd(DType dtype) {
        SplittableRandom rng = new SplittableRandom(7);
        Tensor x0 = random(rng, 33, 47).to(dtype);
        Tensor w0 = random(rng, 21, 47).to(dtype);
        Tensor b0 = random(rng, 21).to(dtype);
        Tensor seed = random(rng, 33, 21).to(dtype);
        for (int c = 0; c < 3; c++) {
            Tensor w = w0.detach().requiresGrad(true);
            Tensor b = b0.detach().requiresGrad(true);
            Tensor wc = w0.detach().requiresGrad(true);
            Tensor bc = b0.detach().requiresGrad(true);
            for (int pass = 0; pass < (c == 2 ? 2 : 1); pass++) {
                Tensor yf = x0.linear(w, b);
                Tensor yc = x0.matmul(wc.t()).add(bc);
                if (c == 1) {   // the weight used twice in one graph
                    yf = yf.add(x0.mul(0.5f).linear(w, b));
                    yc = yc.add(x0.mul(0.5f).matmul(wc.t()).add(bc));
                }
                yf.backward(seed);
                yc.backward(seed);
            }
            String what = dtype + " " + new String[] {"sole", "used twice", "accumulated"}[c];
            assertEquals(dtype, w.grad().dtype(), what);
            assertTrue(w.grad().isContiguous(), what);
            assertSameBits(wc.grad(), w.grad(), what + " weight gradient");
            assertSameBits(bc.grad(), b.grad(), what + " bias gradient");
        }
    }

    /**
     * Output against a double reference. With {@code A = sum_p |x_ip w_jp|}, the FP32 chain of fused
     * multiply-adds errs by at most {@code gamma_k A} ({@code gamma_k = k u / (1 - k u)},
     * {@code u = 2^-24}); rounding that product to the dtype (unit roundoff {@code v}: 2^-24 for
     * FP32, where it is already the chain's last rounding and adds nothing, 2^-11 for FP16, 2^-8 for
     * BF16) adds {@code v (|s| + gamma_k A)} plus half the smallest subnormal; the bias add, one more
     * rounding, adds {@code v |s + b + e1|} and the same absolute term, where {@code e1} is the first
     * two errors.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void outputIsWithinTheDerivedBoundOfADoubleReference(DType dtype) {
        SplittableRandom rng = new SplittableRandom(6);
        int batch = 40;
        int in = 300;
        int out = 50;
        Tensor x = random(rng, batch, in).to(dtype);
        Tensor w = random(rng, out, in).to(dtype);
        Tensor b = random(rng, out).to(dtype);
        Tensor y = x.linear(w, b);
        double u = 0x1p-24;
        double gamma = in * u / (1 - in * u);
        double v = dtype == DType.FP32 ? u : dtype == DType.FP16 ? 0x1p-11 : 0x1p-8;
        double tiny = dtype == DType.FP16 ? 0x1p-25 : 0;     // half the smallest FP16 subnormal
        for (int i = 0; i < batch; i++) {
            for (int j = 0; j < out; j++) {
                double s = 0;
                double abs = 0;
                for (int p = 0; p < in; p++) {
                    double t = (double) x.get(i, p) * w.get(j, p);
                    s += t;
                    abs += Math.abs(t);
                }
                double e1 = gamma * abs + (dtype == DType.FP32 ? 0 : v * (Math.abs(s) + gamma * abs) + tiny);
                double ref = s + b.get(j);
                double bound = e1 + v * (Math.abs(ref) + e1) + tiny;
                assertTrue(Math.abs(y.get(i, j) - ref) <= bound,
                        dtype + " y[" + i + "][" + j + "] = " + y.get(i, j) + ", reference " + ref + ", bound " + bound);
            }
        }
    }

    @Test
    void badArgumentsAreNamed() {
        Tensor x = Tensor.zeros(4, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> x.linear(Tensor.zeros(2, 3), Tensor.zeros(3)));
        assertTrue(e.getMessage().contains("linear") && e.getMessage().contains("bias [out]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.linear(Tensor.zeros(6), Tensor.zeros(6)));
        assertTrue(e.getMessage().contains("weight [out, in]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.linear(Tensor.zeros(2, 5), Tensor.zeros(2)));
        assertTrue(e.getMessage().contains("linear: input [4, 3] must be [..., in] with in = 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.linear(Tensor.zeros(2, 3).to(DType.FP16), Tensor.zeros(2)));
        var n = assertThrows(NullPointerException.class, () -> x.linear(Tensor.zeros(2, 3), null));
        assertTrue(n.getMessage().contains("bias"), n.getMessage());
    }

    private static void assertSameBits(Tensor want, Tensor got, String what) {
        assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()), what);
        float[] a = want.toFloatArray();
        float[] b = got.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), what + " at " + i);
        }
    }

    private static Tensor random(SplittableRandom rng, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return Tensor.of(v, shape);
    }
}
