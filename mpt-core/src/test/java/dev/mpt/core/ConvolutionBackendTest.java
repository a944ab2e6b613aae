package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mpt.core.kernel.backend.Backends;
import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Convolutions whose lowered products are large enough for the native backend to take them
 * ({@code m n k >= 64^3}), forward and every gradient, against direct double loops. The default
 * test run pins {@code -Dmpt.backend=java}, so there these check the Java kernels; mpt-core's
 * {@code onednn-backend} Surefire execution runs this class again with {@code -Dmpt.backend=onednn},
 * where (on linux-x86_64, whose natives are a test dependency) the FP32, FP16 and BF16 products of
 * the convolutions go to oneDNN: the BF16 ones to its BF16 primitive.
 *
 * <p>Error bounds hold for any summation order, as oneDNN's is not the Java kernels': an element
 * summed from {@code t} FP32 roundings of terms whose magnitudes add up to {@code A} errs by at most
 * {@code t u_32 A} (the depth of any summation tree over {@code t - 1} terms is below {@code t}).
 * Terms per element: conv2d output {@code Cin kh kw} products plus the bias; its input gradient
 * {@code Cout} products per tap plus at most {@code kh kw} taps added by col2im; its weight gradient
 * {@code oh ow} products per image, {@code n} images and parts added; the bias gradient one
 * rounding of a double sum. convTranspose2d exchanges the lowerings: output {@code Cin} products per
 * tap plus {@code kh kw} taps plus the bias; input gradient {@code Cout kh kw} products; weight
 * gradient {@code h w} products per image plus the images. A 16-bit output or leaf gradient adds
 * one rounding ({@link Ref#assertSumClose}).
 */
class ConvolutionBackendTest {

    private final SplittableRandom rng = new SplittableRandom(31);

    /** On linux-x86_64 under {@code -Dmpt.backend=onednn}, oneDNN must have loaded. */
    private static void checkBackend() {
        if ("onednn".equals(System.getProperty("mpt.backend")) && "Linux".equals(System.getProperty("os.name"))
                && "amd64".equals(System.getProperty("os.arch"))) {
            assertEquals("onednn", Backends.gemm().name(), "oneDNN did not load; see the log");
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void conv2dIsWithinTheOrderIndependentBound(DType dt) {
        checkBackend();
        // per image: forward 64 x 100 x 288, input gradient 288 x 100 x 64, weight gradient 64 x 288 x 100
        int n = 2;
        int c = 32;
        int h = 10;
        int w = 10;
        int o = 64;
        int kk = 3;
        Conv2dSpec s = Conv2dSpec.of(1, 1);
        float scale = (float) Math.sqrt(1.0 / (c * kk * kk));
        Tensor x = Tensor.randn(rng, dt, n, c, h, w).requiresGrad(true);
        Tensor wt = Tensor.randn(rng, DType.FP32, o, c, kk, kk).mul(scale).to(dt).detach().requiresGrad(true);
        Tensor b = Tensor.randn(rng, dt, o).requiresGrad(true);
        Tensor y = x.conv2d(wt, b, s);
        Tensor seed = Tensor.randn(rng, dt, y.shape());
        y.backward(seed);
        int oh = y.shape()[2];
        int ow = y.shape()[3];
        float[] xv = x.toFloatArray();
        float[] wv = wt.toFloatArray();
        float[] bv = b.toFloatArray();
        float[] sv = seed.toFloatArray();
        Sums ys = new Sums(y.numel());
        Sums gx = new Sums(x.numel());
        Sums gw = new Sums(wt.numel());
        Sums gb = new Sums(o);
        for (int bi = 0; bi < n; bi++) {
            for (int oc = 0; oc < o; oc++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        int yi = ((bi * o + oc) * oh + oy) * ow + ox;
                        double g = sv[yi];
                        ys.add(yi, bv[oc]);
                        gb.add(oc, g);
                        for (int ci = 0; ci < c; ci++) {
                            for (int ky = 0; ky < kk; ky++) {
                                for (int kx = 0; kx < kk; kx++) {
                                    int iy = oy - s.padH() + ky;
                                    int ix = ox - s.padW() + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                        continue;
                                    }
                                    int xi = ((bi * c + ci) * h + iy) * w + ix;
                                    int wi = ((oc * c + ci) * kk + ky) * kk + kx;
                                    ys.add(yi, (double) wv[wi] * xv[xi]);
                                    gx.add(xi, g * wv[wi]);
                                    gw.add(wi, g * xv[xi]);
                                }
                            }
                        }
                    }
                }
            }
        }
        String where = "conv2d " + dt + " " + Backends.gemm().name();
        ys.assertClose(dt, c * kk * kk + 1, y, where + " y");
        gx.assertClose(dt, o + kk * kk + 1, x.grad(), where + " gx");
        gw.assertClose(dt, oh * ow + n + 1, wt.grad(), where + " gw");
        gb.assertClose(dt, 1, b.grad(), where + " gb");
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void convTranspose2dIsWithinTheOrderIndependentBound(DType dt) {
        checkBackend();
        // per image: forward 288 x 64 x 64, input gradient 64 x 64 x 288, weight gradient 64 x 288 x 64
        int n = 2;
        int cin = 64;
        int h = 8;
        int w = 8;
        int cout = 32;
        int kk = 3;
        int outPad = 1;
        Conv2dSpec s = Conv2dSpec.of(2, 1);
        float scale = (float) Math.sqrt(1.0 / (cin * kk * kk));
        Tensor x = Tensor.randn(rng, dt, n, cin, h, w).requiresGrad(true);
        Tensor wt = Tensor.randn(rng, DType.FP32, cin, cout, kk, kk).mul(scale).to(dt).detach().requiresGrad(true);
        Tensor b = Tensor.randn(rng, dt, cout).requiresGrad(true);
        Tensor y = x.convTranspose2d(wt, b, s, outPad);
        Tensor seed = Tensor.randn(rng, dt, y.shape());
        y.backward(seed);
        int oh = y.shape()[2];
        int ow = y.shape()[3];
        assertEquals(16, oh);
        float[] xv = x.toFloatArray();
        float[] wv = wt.toFloatArray();
        float[] bv = b.toFloatArray();
        float[] sv = seed.toFloatArray();
        Sums ys = new Sums(y.numel());
        Sums gx = new Sums(x.numel());
        Sums gw = new Sums(wt.numel());
        for (int bi = 0; bi < n; bi++) {
            for (int co = 0; co < cout; co++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        ys.add(((bi * cout + co) * oh + oy) * ow + ox, bv[co]);
                    }
                }
            }
            // x's pixel (iy, ix) reaches output (iy s - p + ky, ix s - p + kx): the adjoint of conv2d
            for (int ci = 0; ci < cin; ci++) {
                for (int iy = 0; iy < h; iy++) {
                    for (int ix = 0; ix < w; ix++) {
                        int xi = ((bi * cin + ci) * h + iy) * w + ix;
                        for (int co = 0; co < cout; co++) {
                            for (int ky = 0; ky < kk; ky++) {
                                for (int kx = 0; kx < kk; kx++) {
                                    int oy = iy * s.strideH() - s.padH() + ky;
                                    int ox = ix * s.strideW() - s.padW() + kx;
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) {
                                        continue;
                                    }
                                    int yi = ((bi * cout + co) * oh + oy) * ow + ox;
                                    int wi = ((ci * cout + co) * kk + ky) * kk + kx;
                                    double g = sv[yi];
                                    ys.add(yi, (double) wv[wi] * xv[xi]);
                                    gx.add(xi, g * wv[wi]);
                                    gw.add(wi, g * xv[xi]);
                                }
                            }
                        }
                    }
                }
            }
        }
        String where = "convTranspose2d " + dt + " " + Backends.gemm().name();
        ys.assertClose(dt, cin + kk * kk + 1, y, where + " y");
        gx.assertClose(dt, cout * kk * kk + 1, x.grad(), where + " gx");
        gw.assertClose(dt, h * w + n + 1, wt.grad(), where + " gw");
    }

    /** Double sums and sums of magnitudes, per element. */
    private static final class Sums {
        private final double[] sum;
        private final double[] abs;

        Sums(int size) {
            sum = new double[size];
            abs = new double[size];
        }

        void add(int i, double term) {
            sum[i] += term;
            abs[i] += Math.abs(term);
        }

        void assertClose(DType dt, int terms, Tensor got, String where) {
            float[] g = got.toFloatArray();
            assertEquals(sum.length, g.length, where);
            for (int i = 0; i < g.length; i++) {
                Ref.assertSumClose(dt, sum[i], abs[i], terms, g[i], where + " " + i);
            }
        }
    }
}
