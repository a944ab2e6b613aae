package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Convolution gradients against direct double loops, and their independence of the thread count.
 *
 * <p>Error bounds: every gradient element is a sum of products formed in FP32 through a tree of
 * additions. For the weight gradient the depth is at most {@code oh*ow} (the GEMM over one image's
 * positions, fused multiply-add or one product rounding) plus {@code n} (images added into their
 * batch part, parts added in order) plus 1, so {@code |acc - ref| <= (oh*ow + n + 1) u_32 sum|p|}.
 * For the input gradient the GEMM sums {@code Cout/groups} products per kernel tap and col2im adds
 * at most {@code kh*kw} taps: depth {@code Cout/groups + kh*kw + 1}. The bias gradient is a double
 * sum rounded to FP32: depth 1. A 16-bit leaf gradient adds one rounding, {@code u_out |ref|} plus
 * half its subnormal spacing (the FP32 error also grows by {@code 1 + u_out}).
 */
class ConvolutionGradientTest {

    private final SplittableRandom rng = new SplittableRandom(23);

    private static void assertClose(DType dt, double ref, double abs, int terms, float got, String where) {
        Ref.assertSumClose(dt, ref, abs, terms, got, where);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void conv2dGradientsMatchDirectLoops(DType dt) {
        Conv2dSpec[] specs = {Conv2dSpec.of(1, 1), Conv2dSpec.of(2, 1), Conv2dSpec.of(1, 2).withDilation(2),
            Conv2dSpec.of(1, 1).withGroups(2),
            Conv2dSpec.DEFAULT.withStride(2, 1).withPadding(1, 2).withDilation(2, 1)};
        for (Conv2dSpec s : specs) {
            int n = 3;
            int c = 4;
            int h = 6;
            int w = 5;
            int o = 6;
            int kh = 3;
            int kw = 2;
            int groups = s.groups();
            int cg = c / groups;
            int og = o / groups;
            Tensor x = Tensor.randn(rng, dt, n, c, h, w).requiresGrad(true);
            Tensor wt = Tensor.randn(rng, dt, o, cg, kh, kw).requiresGrad(true);
            Tensor b = Tensor.randn(rng, dt, o).requiresGrad(true);
            Tensor y = x.conv2d(wt, b, s);
            int oh = y.shape()[2];
            int ow = y.shape()[3];
            Tensor seed = Tensor.randn(rng, dt, y.shape());
            y.backward(seed);
            double[] gx = new double[x.numel()];
            double[] gxAbs = new double[gx.length];
            double[] gw = new double[wt.numel()];
            double[] gwAbs = new double[gw.length];
            double[] gb = new double[o];
            double[] gbAbs = new double[o];
            for (int bi = 0; bi < n; bi++) {
                for (int oc = 0; oc < o; oc++) {
                    int g = oc / og;
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            double gy = seed.get(bi, oc, oy, ox);
                            gb[oc] += gy;
                            gbAbs[oc] += Math.abs(gy);
                            for (int ci = 0; ci < cg; ci++) {
                                for (int ky = 0; ky < kh; ky++) {
                                    for (int kx = 0; kx < kw; kx++) {
                                        int iy = oy * s.strideH() - s.padH() + ky * s.dilationH();
                                        int ix = ox * s.strideW() - s.padW() + kx * s.dilationW();
                                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                            continue;
                                        }
                                        int xi = ((bi * c + g * cg + ci) * h + iy) * w + ix;
                                        int wi = ((oc * cg + ci) * kh + ky) * kw + kx;
                                        double px = gy * wt.get(oc, ci, ky, kx);
                                        double pw = gy * x.get(bi, g * cg + ci, iy, ix);
                                        gx[xi] += px;
                                        gxAbs[xi] += Math.abs(px);
                                        gw[wi] += pw;
                                        gwAbs[wi] += Math.abs(pw);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            float[] gotX = x.grad().toFloatArray();
            float[] gotW = wt.grad().toFloatArray();
            float[] gotB = b.grad().toFloatArray();
            for (int i = 0; i < gx.length; i++) {
                assertClose(dt, gx[i], gxAbs[i], og + kh * kw + 1, gotX[i], s + " " + dt + " gx " + i);
            }
            for (int i = 0; i < gw.length; i++) {
                assertClose(dt, gw[i], gwAbs[i], oh * ow + n + 1, gotW[i], s + " " + dt + " gw " + i);
            }
            for (int i = 0; i < o; i++) {
                assertClose(dt, gb[i], gbAbs[i], 1, gotB[i], s + " " + dt + " gb " + i);
            }
        }
    }

    /** Output and gradients of conv2d and convTranspose2d, flattened in a fixed order. */
    private static List<float[]> run(Tensor x0, Tensor w0, Tensor b0, Tensor tw0, Conv2dSpec s) {
        Tensor x = x0.detach().requiresGrad(true);
        Tensor w = w0.detach().requiresGrad(true);
        Tensor b = b0.detach().requiresGrad(true);
        Tensor tw = tw0.detach().requiresGrad(true);
        Tensor y = x.conv2d(w, b, s);
        // through a transposed convolution back to x's channels, so its backward runs too
        Tensor z = y.convTranspose2d(tw, null, s, 0);
        z.to(DType.FP32).mul(z.to(DType.FP32)).sum().backward();
        List<float[]> r = new ArrayList<>();
        r.add(y.toFloatArray());
        r.add(z.toFloatArray());
        r.add(x.grad().toFloatArray());
        r.add(w.grad().toFloatArray());
        r.add(b.grad().toFloatArray());
        r.add(tw.grad().toFloatArray());
        return r;
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        int before = Parallel.threads();
        try {
            for (DType dt : new DType[] {DType.FP32, DType.FP16}) {
                // batch 7: seven weight-gradient parts; batch 1: one part whose GEMMs split into threads
                int[][] shapes = {{7, 6, 11, 9, 10}, {1, 32, 24, 24, 64}};
                for (int[] sh : shapes) {
                    Conv2dSpec s = Conv2dSpec.of(1, 1);
                    float scale = (float) Math.sqrt(1.0 / (sh[1] * 9));
                    Tensor x = Tensor.randn(rng, dt, sh[0], sh[1], sh[2], sh[3]);
                    Tensor w = Tensor.randn(rng, DType.FP32, sh[4], sh[1], 3, 3).mul(scale).to(dt);
                    Tensor b = Tensor.randn(rng, dt, sh[4]);
                    Tensor tw = Tensor.randn(rng, DType.FP32, sh[4], sh[1], 3, 3).mul(scale).to(dt);
                    Parallel.setThreads(1);
                    List<float[]> one = run(x, w, b, tw, s);
                    Parallel.setThreads(3);
                    List<float[]> three = run(x, w, b, tw, s);
                    for (int i = 0; i < one.size(); i++) {
                        assertArrayEquals(one.get(i), three.get(i), dt + " batch " + sh[0] + " result " + i);
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }
}
