package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Pooling with {@link Pool2dSpec} geometry (non-square windows and strides, padding, dilation, ceil
 * mode, {@code countIncludePad}), forward and backward, against direct double loops written from
 * PyTorch's definitions. Bounds: max pooling is exact forward; its input gradient sums the upstream
 * gradients routed to each pixel in FP32 ({@code m} terms: {@code m u_32 sum|g|}). Average pooling
 * sums {@code m} pixels in FP32 and multiplies by the rounded reciprocal of the divisor (two more
 * roundings: {@code (m + 2) u_32 sum|x| / div}); its gradient adds {@code g fl(1/div)} (two
 * roundings each) over the windows covering a pixel. A 16-bit result adds one rounding
 * ({@link Ref#assertSumClose}).
 */
class PoolingTest {

    private final SplittableRandom rng = new SplittableRandom(23);

    /** Geometries over a 7x6 input; the last one dilates, so it runs for max pooling only. */
    private static final Pool2dSpec[] SPECS = {
        Pool2dSpec.of(2, 3).withStride(2, 1),
        Pool2dSpec.of(3, 2).withStride(2, 2).withPadding(1, 1).withCeilMode(true),
        Pool2dSpec.of(3, 3).withStride(2, 3).withPadding(1, 0).withCeilMode(true).withCountIncludePad(false),
        Pool2dSpec.of(3, 2, 1).withCountIncludePad(false),
        Pool2dSpec.of(2).withCeilMode(true),
        Pool2dSpec.of(2).withStride(2, 1),
        Pool2dSpec.of(2).withStride(3, 2).withCeilMode(true),
        Pool2dSpec.of(2).withStride(4, 4).withPadding(1, 1).withCeilMode(true),
        Pool2dSpec.of(3, 2).withDilation(2, 1).withPadding(1, 1).withCeilMode(true),
    };

    /**
     * PyTorch's output size, counted window by window: in floor mode every window lies inside the
     * padded input {@code L = in + 2 pad}; in ceil mode windows are added while the previous one
     * did not reach the end of {@code L}, and each must start inside the input or the left padding.
     */
    static int refOut(int in, int k, int stride, int pad, int dilation, boolean ceil) {
        int eff = dilation * (k - 1) + 1;
        int len = in + 2 * pad;
        int n = 0;
        if (ceil) {
            while ((n - 1) * stride + eff < len && n * stride < in + pad) {
                n++;
            }
        } else {
            while (n * stride + eff <= len) {
                n++;
            }
        }
        return n;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void forwardAndBackwardMatchDirectLoops(DType dt) {
        int n = 2;
        int c = 3;
        int h = 7;
        int w = 6;
        for (Pool2dSpec s : SPECS) {
            for (boolean max : new boolean[] {true, false}) {
                if (!max && (s.dilationH() > 1 || s.dilationW() > 1)) {
                    continue;
                }
                String where = (max ? "max " : "avg ") + s + " " + dt;
                Tensor x = Tensor.randn(rng, dt, n, c, h, w).requiresGrad(true);
                Tensor y = max ? x.maxPool2d(s) : x.avgPool2d(s);
                int oh = refOut(h, s.kernelH(), s.strideH(), s.padH(), s.dilationH(), s.ceilMode());
                int ow = refOut(w, s.kernelW(), s.strideW(), s.padW(), s.dilationW(), s.ceilMode());
                assertArrayEquals(new int[] {n, c, oh, ow}, y.shape(), where);
                assertEquals(dt, y.dtype());
                Tensor g = Tensor.randn(rng, dt, y.shape());
                y.backward(g);
                float[] xv = x.detach().toFloatArray();
                float[] gv = g.toFloatArray();
                float[] yv = y.toFloatArray();
                double[] gxRef = new double[xv.length];
                double[] gxAbs = new double[xv.length];
                int[] gxTerms = new int[xv.length];
                for (int p = 0; p < n * c; p++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            int q = (p * oh + oy) * ow + ox;
                            // PyTorch's avg_pool2d: the window clipped to the padded input sets the
                            // divisor with padding counted; its part inside the input is summed
                            int y0 = oy * s.strideH() - s.padH();
                            int x0 = ox * s.strideW() - s.padW();
                            int paddedArea = (Math.min(y0 + s.kernelH(), h + s.padH()) - y0)
                                    * (Math.min(x0 + s.kernelW(), w + s.padW()) - x0);
                            double m = Double.NEGATIVE_INFINITY;
                            int best = -1;
                            double sum = 0;
                            double abs = 0;
                            int inside = 0;
                            for (int ky = 0; ky < s.kernelH(); ky++) {
                                for (int kx = 0; kx < s.kernelW(); kx++) {
                                    int iy = y0 + ky * s.dilationH();
                                    int ix = x0 + kx * s.dilationW();
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        int at = (p * h + iy) * w + ix;
                                        if (xv[at] > m) {
                                            m = xv[at];
                                            best = at;
                                        }
                                        sum += xv[at];
                                        abs += Math.abs(xv[at]);
                                        inside++;
                                    }
                                }
                            }
                            if (max) {
                                assertEquals(m, yv[q], 0.0, where + " q=" + q);
                                gxRef[best] += gv[q];
                                gxAbs[best] += Math.abs(gv[q]);
                                gxTerms[best]++;
                                continue;
                            }
                            int div = s.countIncludePad() ? paddedArea : inside;
                            Ref.assertSumClose(dt, sum / div, abs / div, inside + 2, yv[q], where + " q=" + q);
                            for (int ky = 0; ky < s.kernelH(); ky++) {
                                for (int kx = 0; kx < s.kernelW(); kx++) {
                                    int iy = y0 + ky;
                                    int ix = x0 + kx;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        int at = (p * h + iy) * w + ix;
                                        gxRef[at] += gv[q] / div;
                                        gxAbs[at] += Math.abs(gv[q]) / div;
                                        gxTerms[at]++;
                                    }
                                }
                            }
                        }
                    }
                }
                float[] gx = x.grad().toFloatArray();
                int extra = max ? 0 : 2;
                for (int i = 0; i < gx.length; i++) {
                    Ref.assertSumClose(dt, gxRef[i], gxAbs[i], gxTerms[i] + extra, gx[i], where + " dx i=" + i);
                }
            }
        }
    }

    @Test
    void ceilModeDropsAWindowStartingInTheRightPadding() {
        // in 5, kernel 2, stride 2, padding 1: ceil((5 + 2 - 2) / 2) + 1 = 4 windows would start at
        // -1, 1, 3, 5; the last starts in the right padding (5 >= in), so PyTorch keeps 3
        Pool2dSpec s = Pool2dSpec.of(2, 2, 1).withCeilMode(true);
        Tensor y = Tensor.ones(1, 1, 5, 5).maxPool2d(s);
        assertArrayEquals(new int[] {1, 1, 3, 3}, y.shape());
        assertEquals(3, refOut(5, 2, 2, 1, 1, true));
        // without padding the same input gives ceil(3 / 2) + 1 = 3 windows, the last overhanging by one
        assertArrayEquals(new int[] {1, 1, 3, 3}, Tensor.ones(1, 1, 5, 5).maxPool2d(Pool2dSpec.of(2)
                .withCeilMode(true)).shape());
        assertArrayEquals(new int[] {1, 1, 2, 2}, Tensor.ones(1, 1, 5, 5).maxPool2d(Pool2dSpec.of(2)).shape());
        // the overhanging window averages its one row: divisor 2 (padding is counted only up to in + pad)
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 1, 3, 2).avgPool2d(Pool2dSpec.of(2).withCeilMode(true));
        assertArrayEquals(new float[] {2.5f, 5.5f}, a.toFloatArray());
    }

    @Test
    void aDilatedWindowWithNoPixelGivesMinusInfinityAndNoGradient() {
        // in 2, kernel 2, padding 1, dilation 3: one window, taps at -1 and 2, both outside (PyTorch: -inf)
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2).requiresGrad(true);
        Tensor y = x.maxPool2d(Pool2dSpec.of(2, 2, 1).withDilation(3, 3));
        assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY}, y.toFloatArray());
        y.sum().backward();
        assertArrayEquals(new float[4], x.grad().toFloatArray());
    }

    /**
     * 2x2 windows inside the plane take the unrolled path; the same windows over the input with one
     * more row, in ceil mode (the last window row overhangs, so the plane takes the general loop),
     * must give the same maxima and the same gradient routing, ties included.
     */
    @Test
    void unrolledTwoByTwoPathMatchesTheGeneralLoop() {
        int planes = 2;
        int h = 8;
        int w = 10;
        float[] v = new float[planes * (h + 1) * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(5) - 2; // many ties: the first maximum must win on both paths
        }
        v[5] = Float.NaN;
        float[] top = new float[planes * h * w];
        for (int p = 0; p < planes; p++) {
            System.arraycopy(v, p * (h + 1) * w, top, p * h * w, h * w);
        }
        Pool2dSpec s = Pool2dSpec.of(2).withStride(2, 1);
        Tensor x = Tensor.of(top, 1, planes, h, w).requiresGrad(true);
        Tensor fast = x.maxPool2d(s);
        fast.backward(Tensor.ones(fast.shape()));
        Tensor xl = Tensor.of(v, 1, planes, h + 1, w).requiresGrad(true);
        Tensor general = xl.maxPool2d(s.withCeilMode(true));
        int oh = fast.shape()[2];
        int ow = fast.shape()[3];
        assertArrayEquals(new int[] {1, planes, oh + 1, ow}, general.shape());
        float[] seed = new float[general.numel()];
        for (int p = 0; p < planes; p++) {
            Arrays.fill(seed, p * (oh + 1) * ow, (p * (oh + 1) + oh) * ow, 1f);
        }
        general.backward(Tensor.of(seed, general.shape()));
        float[] f = fast.toFloatArray();
        float[] g = general.toFloatArray();
        float[] fg = x.grad().toFloatArray();
        float[] gg = xl.grad().toFloatArray();
        for (int p = 0; p < planes; p++) {
            for (int q = 0; q < oh * ow; q++) {
                int a = Float.floatToRawIntBits(g[p * (oh + 1) * ow + q]);
                assertEquals(a, Float.floatToRawIntBits(f[p * oh * ow + q]), "plane " + p + " output " + q);
            }
            for (int i = 0; i < h * w; i++) {
                assertEquals(gg[p * (h + 1) * w + i], fg[p * h * w + i], "plane " + p + " gradient " + i);
            }
        }
    }

    @Test
    void gradientsByFiniteDifferences() {
        // distinct values 0.1 apart: no tie within 2h of another, so max pooling is differentiable
        float[] v = new float[2 * 2 * 7 * 6];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 37 % v.length) * 0.1f - 8f;
        }
        Tensor x = Tensor.of(v, 2, 2, 7, 6);
        for (Pool2dSpec s : SPECS) {
            GradCheck.Report m = GradCheck.check(in -> in[0].maxPool2d(s), x);
            assertTrue(m.passed(), () -> "max " + s + ": " + m.worst());
            if (s.dilationH() == 1 && s.dilationW() == 1) {
                Tensor r = Tensor.randn(rng, DType.FP32, 2, 2, 7, 6);
                GradCheck.Report a = GradCheck.check(in -> in[0].avgPool2d(s), r);
                assertTrue(a.passed(), () -> "avg " + s + ": " + a.worst());
            }
        }
    }

    @Test
    void badArgumentsAreNamed() {
        assertMessage(() -> Pool2dSpec.of(3, 2, -1), "Pool2dSpec: padding must be >= 0, got -1x-1");
        assertMessage(() -> Pool2dSpec.of(3, 2).withPadding(2, 1),
                "Pool2dSpec: padding 2x1 exceeds half the kernel 3x2 (at most 1x1, as in PyTorch)");
        assertMessage(() -> Pool2dSpec.of(2).withStride(0, 1), "Pool2dSpec: stride must be at least 1, got 0x1");
        assertMessage(() -> Pool2dSpec.of(2).withDilation(1, 0), "Pool2dSpec: dilation must be at least 1, got 1x0");
        assertMessage(() -> Pool2dSpec.of(0, 2), "Pool2dSpec: kernel must be at least 1x1, got 0x2");
        Tensor x = Tensor.ones(1, 2, 4, 3);
        assertMessage(() -> x.maxPool2d(Pool2dSpec.of(2, 4)), "maxPool2d: kernel 2x4 (dilation 1x1) does not fit"
                + " input [1, 2, 4, 3] padded by 0x0: the output would be 2x0");
        assertMessage(() -> x.avgPool2d(Pool2dSpec.of(3).withDilation(2, 1)), "avgPool2d: kernel 3x3 (dilation 2x1)"
                + " does not fit input [1, 2, 4, 3] padded by 0x0: the output would be 0x1");
        assertMessage(() -> x.avgPool2d(Pool2dSpec.of(2).withDilation(2, 1)),
                "avgPool2d: dilation must be 1x1 (PyTorch's AvgPool2d has none), got 2x1");
        assertMessage(() -> Tensor.ones(4, 3).maxPool2d(Pool2dSpec.of(2)), "maxPool2d: input must be 4-D (NCHW), got"
                + " shape [4, 3]");
        assertThrows(NullPointerException.class, () -> x.maxPool2d(null));
    }

    @Test
    void convolutionSpecArgumentsAreNamed() {
        assertMessage(() -> Conv2dSpec.DEFAULT.withPadding(-1, 0), "Conv2dSpec: need stride >= 1, padding >= 0,"
                + " dilation >= 1, groups >= 1, got stride=1x1, padding=-1x0, dilation=1x1, groups=1");
        assertMessage(() -> Conv2dSpec.DEFAULT.withStride(2, 0), "got stride=2x0");
        assertMessage(() -> Conv2dSpec.DEFAULT.withDilation(0, 1), "dilation=0x1");
        Tensor x = Tensor.ones(1, 1, 4, 3);
        // the dilated kernel spans 4 > 3 columns; with stride 2, truncating (3 - 4) / 2 to 0 would
        // have given one output column
        Conv2dSpec s = Conv2dSpec.DEFAULT.withDilation(1, 3).withStride(1, 2);
        assertMessage(() -> x.conv2d(Tensor.ones(1, 1, 2, 2), null, s), "conv2d: kernel 2x2 with " + s
                + " does not fit input [1, 1, 4, 3]");
    }

    static void assertMessage(Executable call, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks '" + expected + "'");
    }
}
