package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Convolutions and pooling against direct double loops. An output sums K = (C/groups) kh kw
 * products plus the bias in FP32: |acc - ref| <= (K + 1) u_32 (sum|w x| + |b|); a 16-bit output
 * adds one rounding, u_out |ref| + half its subnormal spacing.
 */
class ConvolutionTest {

    private final SplittableRandom rng = new SplittableRandom(17);

    private static final Conv2dSpec[] SPECS = {
        Conv2dSpec.DEFAULT, Conv2dSpec.of(2, 1), new Conv2dSpec(1, 2, 2, 0, 1, 1, 1),
        Conv2dSpec.of(1, 2).withDilation(2), Conv2dSpec.of(1, 1).withGroups(2),
        Conv2dSpec.DEFAULT.withStride(2, 1).withPadding(1, 2).withDilation(2, 1),
    };

    private static void assertClose(DType dt, double ref, double abs, int terms, float got, String where) {
        Ref.assertSumClose(dt, ref, abs, terms, got, where);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void conv2dMatchesDirectLoops(DType dt) {
        for (Conv2dSpec s : SPECS) {
            int groups = s.groups();
            int n = 2;
            int c = 4;
            int h = 7;
            int w = 6;
            int o = 4;
            int kh = 3;
            int kw = 2;
            Tensor x = Tensor.randn(rng, dt, n, c, h, w);
            Tensor wt = Tensor.randn(rng, dt, o, c / groups, kh, kw);
            Tensor b = Tensor.randn(rng, dt, o);
            Tensor y = x.conv2d(wt, b, s);
            int oh = (h + 2 * s.padH() - s.dilationH() * (kh - 1) - 1) / s.strideH() + 1;
            int ow = (w + 2 * s.padW() - s.dilationW() * (kw - 1) - 1) / s.strideW() + 1;
            assertArrayEquals(new int[] {n, o, oh, ow}, y.shape());
            assertEquals(dt, y.dtype());
            int cg = c / groups;
            int og = o / groups;
            for (int bi = 0; bi < n; bi++) {
                for (int oc = 0; oc < o; oc++) {
                    int g = oc / og;
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            double ref = b.get(oc);
                            double abs = Math.abs(ref);
                            for (int ci = 0; ci < cg; ci++) {
                                for (int ky = 0; ky < kh; ky++) {
                                    for (int kx = 0; kx < kw; kx++) {
                                        int iy = oy * s.strideH() - s.padH() + ky * s.dilationH();
                                        int ix = ox * s.strideW() - s.padW() + kx * s.dilationW();
                                        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                            double p = (double) x.get(bi, g * cg + ci, iy, ix) * wt.get(oc, ci, ky, kx);
                                            ref += p;
                                            abs += Math.abs(p);
                                        }
                                    }
                                }
                            }
                            assertClose(dt, ref, abs, cg * kh * kw + 1, y.get(bi, oc, oy, ox), s + " " + dt);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void convTransposeMatchesDirectLoops(DType dt) {
        Conv2dSpec[] specs = {Conv2dSpec.of(2, 1), Conv2dSpec.of(1, 0).withDilation(2), Conv2dSpec.of(2, 0).withGroups(2)};
        for (Conv2dSpec s : specs) {
            int outPad = s.strideH() > 1 ? 1 : 0;
            int n = 2;
            int cin = 4;
            int h = 4;
            int w = 3;
            int coutG = 3;
            int k = 3;
            int groups = s.groups();
            Tensor x = Tensor.randn(rng, dt, n, cin, h, w);
            Tensor wt = Tensor.randn(rng, dt, cin, coutG, k, k);
            Tensor b = Tensor.randn(rng, dt, coutG * groups);
            Tensor y = x.convTranspose2d(wt, b, s, outPad);
            int oh = (h - 1) * s.strideH() - 2 * s.padH() + s.dilationH() * (k - 1) + outPad + 1;
            int ow = (w - 1) * s.strideW() - 2 * s.padW() + s.dilationW() * (k - 1) + outPad + 1;
            assertArrayEquals(new int[] {n, coutG * groups, oh, ow}, y.shape());
            int cinG = cin / groups;
            double[] ref = new double[n * coutG * groups * oh * ow];
            double[] abs = new double[ref.length];
            for (int bi = 0; bi < n; bi++) {
                for (int ci = 0; ci < cin; ci++) {
                    int g = ci / cinG;
                    for (int iy = 0; iy < h; iy++) {
                        for (int ix = 0; ix < w; ix++) {
                            for (int co = 0; co < coutG; co++) {
                                for (int ky = 0; ky < k; ky++) {
                                    for (int kx = 0; kx < k; kx++) {
                                        int oy = iy * s.strideH() - s.padH() + ky * s.dilationH();
                                        int ox = ix * s.strideW() - s.padW() + kx * s.dilationW();
                                        if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) {
                                            int q = ((bi * coutG * groups + g * coutG + co) * oh + oy) * ow + ox;
                                            double p = (double) x.get(bi, ci, iy, ix) * wt.get(ci, co, ky, kx);
                                            ref[q] += p;
                                            abs[q] += Math.abs(p);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            float[] got = y.toFloatArray();
            for (int q = 0; q < ref.length; q++) {
                int oc = (q / (oh * ow)) % (coutG * groups);
                double bias = b.get(oc);
                // the column sums hold at most cinG products per kernel tap; taps add up in col2im
                int terms = cinG * k * k + 1;
                assertClose(dt, ref[q] + bias, abs[q] + Math.abs(bias), terms, got[q], s + " " + dt + " q=" + q);
            }
        }
    }

    @Test
    void convTransposeIsTheAdjointOfConv() {
        // <conv(x, w), y> = <x, convT(y, w)> for the same spec (no bias), in double up to rounding
        Conv2dSpec s = new Conv2dSpec(2, 1, 1, 2, 1, 2, 1);
        Tensor x = Tensor.randn(rng, DType.FP32, 2, 3, 9, 8);
        Tensor w = Tensor.randn(rng, DType.FP32, 5, 3, 3, 3);
        Tensor cx = x.conv2d(w, null, s);
        Tensor y = Tensor.randn(rng, DType.FP32, cx.shape());
        int outPad = 0;
        Tensor ty = y.convTranspose2d(w, null, s, outPad);
        assertArrayEquals(x.shape(), ty.shape());
        double lhs = dot(cx.toFloatArray(), y.toFloatArray());
        double rhs = dot(x.toFloatArray(), ty.toFloatArray());
        assertEquals(lhs, rhs, 1e-4 * (Math.abs(lhs) + 1));
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void gradientsByFiniteDifferences() {
        for (Conv2dSpec s : SPECS) {
            GradCheck.Report r = GradCheck.check(in -> in[0].conv2d(in[1], in[2], s),
                    Tensor.randn(rng, DType.FP32, 2, 4, 5, 5), Tensor.randn(rng, DType.FP32, 2, 4 / s.groups(), 3, 2),
                    Tensor.randn(rng, DType.FP32, 2));
            assertTrue(r.passed(), () -> s + ": " + r.worst());
        }
        Conv2dSpec t = Conv2dSpec.of(2, 1).withGroups(2);
        GradCheck.Report r = GradCheck.check(in -> in[0].convTranspose2d(in[1], in[2], t, 1),
                Tensor.randn(rng, DType.FP32, 2, 4, 3, 3), Tensor.randn(rng, DType.FP32, 4, 2, 3, 3),
                Tensor.randn(rng, DType.FP32, 4));
        assertTrue(r.passed(), r::worst);
        GradCheck.Report nb = GradCheck.check(in -> in[0].conv2d(in[1], null, Conv2dSpec.DEFAULT),
                Tensor.randn(rng, DType.FP32, 1, 2, 4, 4), Tensor.randn(rng, DType.FP32, 3, 2, 2, 2));
        assertTrue(nb.passed(), nb::worst);
    }

    @Test
    void fp16GradientsHaveFp16Dtype() {
        Tensor x = Tensor.randn(rng, DType.FP16, 1, 2, 4, 4).requiresGrad(true);
        Tensor w = Tensor.randn(rng, DType.FP16, 3, 2, 3, 3).requiresGrad(true);
        Tensor b = Tensor.zeros(DType.FP16, 3).requiresGrad(true);
        x.conv2d(w, b, Conv2dSpec.of(1, 1)).to(DType.FP32).sum().backward();
        assertEquals(DType.FP16, w.grad().dtype());
        assertEquals(DType.FP16, x.grad().dtype());
        // d sum / d b = number of output positions per channel (16), exact
        assertArrayEquals(new float[] {16, 16, 16}, b.grad().toFloatArray());
        // the FP32 twin, rounded, agrees within one FP16 rounding plus FP32 accumulation slack
        Tensor x32 = x.detach().to(DType.FP32).requiresGrad(true);
        Tensor w32 = w.detach().to(DType.FP32).requiresGrad(true);
        x32.conv2d(w32, null, Conv2dSpec.of(1, 1)).sum().backward();
        float[] g16 = w.grad().toFloatArray();
        float[] g32 = w32.grad().toFloatArray();
        for (int i = 0; i < g16.length; i++) {
            assertEquals(g32[i], g16[i], Ref.U16 * Math.abs(g32[i]) + 1e-4 * (1 + Math.abs(g32[i])));
        }
    }

    @Test
    void badConvolutionArguments() {
        Tensor x = Tensor.ones(1, 4, 5, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> x.conv2d(Tensor.ones(2, 3, 3, 3), null, Conv2dSpec.DEFAULT));
        assertTrue(e.getMessage().contains("conv2d") && e.getMessage().contains("[2, 3, 3, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.conv2d(Tensor.ones(3, 2, 3, 3), null,
                Conv2dSpec.DEFAULT.withGroups(2)));
        assertThrows(IllegalArgumentException.class, () -> x.conv2d(Tensor.ones(2, 4, 3, 3), Tensor.ones(3),
                Conv2dSpec.DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> x.conv2d(Tensor.ones(2, 4, 6, 6), null, Conv2dSpec.DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ones(4, 5, 5).conv2d(Tensor.ones(2, 4, 3, 3), null,
                Conv2dSpec.DEFAULT));
        e = assertThrows(IllegalArgumentException.class, () -> x.conv2d(Tensor.ones(DType.FP16, 2, 4, 3, 3), null,
                Conv2dSpec.DEFAULT));
        assertTrue(e.getMessage().contains("dtype mismatch"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Conv2dSpec(0, 1, 0, 0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Conv2dSpec.of(1, -1));
        assertThrows(IllegalArgumentException.class, () -> x.convTranspose2d(Tensor.ones(4, 2, 3, 3), null,
                Conv2dSpec.of(1, 0), 1));
        assertThrows(IllegalArgumentException.class, () -> x.convTranspose2d(Tensor.ones(3, 2, 3, 3), null,
                Conv2dSpec.of(1, 0), 0));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void poolingMatchesDirectLoops(DType dt) {
        Tensor x = Tensor.randn(rng, dt, 2, 3, 7, 6);
        int[][] params = {{2, 2, 0}, {3, 2, 1}, {3, 1, 1}};
        for (int[] p : params) {
            int k = p[0];
            int st = p[1];
            int pad = p[2];
            Tensor mx = x.maxPool2d(k, st, pad);
            Tensor av = x.avgPool2d(k, st, pad);
            int oh = (7 + 2 * pad - k) / st + 1;
            int ow = (6 + 2 * pad - k) / st + 1;
            assertArrayEquals(new int[] {2, 3, oh, ow}, mx.shape());
            assertEquals(dt, av.dtype());
            for (int b = 0; b < 2; b++) {
                for (int c = 0; c < 3; c++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            double m = Double.NEGATIVE_INFINITY;
                            double s = 0;
                            double abs = 0;
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * st - pad + ky;
                                    int ix = ox * st - pad + kx;
                                    if (iy >= 0 && iy < 7 && ix >= 0 && ix < 6) {
                                        double v = x.get(b, c, iy, ix);
                                        m = Math.max(m, v);
                                        s += v;
                                        abs += Math.abs(v);
                                    }
                                }
                            }
                            assertEquals(m, mx.get(b, c, oy, ox), "max is exact");
                            // k^2 - 1 FP32 additions and one FP32 scaling by the rounded 1/k^2
                            double ref = s / (k * k);
                            assertClose(dt, ref, abs / (k * k), k * k + 2, av.get(b, c, oy, ox), "avg " + k);
                        }
                    }
                }
            }
        }
    }

    /**
     * The gradient of max pooling goes to the first largest pixel of each window (ties included) or
     * to the first NaN; checked against a direct loop on inputs large enough to run in parallel,
     * with many ties (values on a coarse grid) and a few NaNs.
     */
    @Test
    void maxPoolRoutesGradientToFirstMaximumOrNaN() {
        int n = 4;
        int c = 8;
        int h = 64;
        int w = 62;
        float[] v = new float[n * c * h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(5) == 0 ? 0f : rng.nextInt(-3, 4);
        }
        v[7] = Float.NaN;
        v[w + 6] = Float.NaN;
        v[1000] = -0f;
        int[][] params = {{2, 2, 0}, {2, 1, 0}, {3, 2, 1}};
        for (int[] p : params) {
            int k = p[0];
            int st = p[1];
            int pad = p[2];
            Tensor x = Tensor.of(v, n, c, h, w).requiresGrad(true);
            Tensor y = x.maxPool2d(k, st, pad);
            y.backward(Tensor.ones(y.shape()));
            float[] ys = y.toFloatArray();
            float[] gx = x.grad().toFloatArray();
            int oh = (h + 2 * pad - k) / st + 1;
            int ow = (w + 2 * pad - k) / st + 1;
            float[] ref = new float[v.length];
            for (int plane = 0; plane < n * c; plane++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double m = Double.NEGATIVE_INFINITY;
                        int best = -1;
                        boolean nan = false;
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * st - pad + ky;
                                int ix = ox * st - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w || nan) {
                                    continue;
                                }
                                int at = (plane * h + iy) * w + ix;
                                if (Float.isNaN(v[at])) {
                                    nan = true;
                                    best = at;
                                } else if (best < 0 || v[at] > m) {
                                    m = v[at];
                                    best = at;
                                }
                            }
                        }
                        ref[best] += 1;
                        int q = (plane * oh + oy) * ow + ox;
                        if (nan) {
                            assertTrue(Float.isNaN(ys[q]), "NaN window " + q);
                        } else {
                            assertEquals(m, ys[q], 0.0, "max " + q);
                        }
                    }
                }
            }
            assertArrayEquals(ref, gx, "gradient routing k=" + k + " stride=" + st + " pad=" + pad);
        }
    }

    @Test
    void poolingGradients() {
        // distinct values 0.1 apart in [-5, 5), a permutation of a grid: ties are 0.1 > 2h away
        float[] v = new float[100];
        for (int i = 0; i < 100; i++) {
            v[i] = (i * 37 % 100) * 0.1f - 5f;
        }
        Tensor x = Tensor.of(v, 2, 2, 5, 5);
        GradCheck.Report r = GradCheck.check(in -> in[0].maxPool2d(3, 2, 1), x);
        assertTrue(r.passed(), r::worst);
        GradCheck.Report r2 = GradCheck.check(in -> in[0].maxPool2d(2, 2, 0), x);
        assertTrue(r2.passed(), r2::worst);
        GradCheck.Report a = GradCheck.check(in -> in[0].avgPool2d(3, 2, 1), Tensor.randn(rng, DType.FP32, 2, 2, 5, 5));
        assertTrue(a.passed(), a::worst);
        assertThrows(IllegalArgumentException.class, () -> x.maxPool2d(2, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> x.avgPool2d(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ones(5, 5).maxPool2d(2, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> x.maxPool2d(7, 1, 0));
    }
}
