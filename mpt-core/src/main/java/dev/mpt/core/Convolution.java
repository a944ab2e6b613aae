package dev.mpt.core;

import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.kernel.Parallel;
import java.util.Arrays;
import java.util.Objects;

/**
 * 2-D convolution and transposed convolution over NCHW tensors, lowered by {@link Im2col} to
 * {@link Gemm} products: 16-bit inputs stay 16-bit through the lowering, products accumulate in
 * FP32, the bias is added in FP32 and each output element is rounded once. Gradients are formed
 * with the same lowering, in FP32.
 */
final class Convolution {

    private Convolution() {
    }

    /** Checked sizes of one convolution call. */
    private record Dims(int n, int cin, int h, int w, int cout, int kh, int kw, int oh, int ow, int groups) {
    }

    private static void sameDtype(String op, Tensor x, Tensor w, Tensor bias) {
        Ops.sameDtype(op, x, w);
        if (bias != null) {
            Ops.sameDtype(op, x, bias);
        }
    }

    private static void rank4(String op, String what, Tensor t) {
        if (t.shape.length != 4) {
            throw new IllegalArgumentException(op + ": " + what + " must be 4-D, got shape " + Arrays.toString(t.shape));
        }
    }

    private static void checkBias(String op, Tensor bias, int cout) {
        if (bias != null && (bias.shape.length != 1 || bias.shape[0] != cout)) {
            throw new IllegalArgumentException(op + ": bias must have shape [" + cout + "], got "
                    + Arrays.toString(bias.shape));
        }
    }

    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, Conv2dSpec s) {
        String op = "conv2d";
        Objects.requireNonNull(x, op);
        Objects.requireNonNull(w, "conv2d: weight");
        Objects.requireNonNull(s, "conv2d: spec");
        rank4(op, "input", x);
        rank4(op, "weight", w);
        sameDtype(op, x, w, bias);
        int groups = s.groups();
        int cg = w.shape[1];
        if (x.shape[1] != cg * groups || w.shape[0] % groups != 0) {
            throw new IllegalArgumentException("conv2d: input " + Arrays.toString(x.shape) + " and weight "
                    + Arrays.toString(w.shape) + " do not match with " + groups + " group(s): need input channels = "
                    + "weight dim 1 * groups and weight dim 0 divisible by groups");
        }
        checkBias(op, bias, w.shape[0]);
        int oh = s.outH(x.shape[2], w.shape[2]);
        int ow = s.outW(x.shape[3], w.shape[3]);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("conv2d: kernel " + w.shape[2] + "x" + w.shape[3] + " with " + s
                    + " does not fit input " + Arrays.toString(x.shape));
        }
        Dims d = new Dims(x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0], w.shape[2], w.shape[3], oh, ow,
                groups);
        Tensor xc = x.detach().contiguous();
        Tensor wc = w.detach().contiguous();
        float[] bv = bias == null ? null : bias.readFloats();
        DType dt = x.dtype;
        int og = d.cout / groups;
        Im2col.Geometry geo = new Im2col.Geometry(cg, d.h, d.w, d.kh, d.kw, oh, ow, s);
        int k = geo.rows();
        int ohw = geo.cols();
        Tensor out = Tensor.zeros(dt, d.n, d.cout, oh, ow);
        Parallel.forEach(d.n, n -> {
            float[] col = dt == DType.FP32 ? new float[k * ohw] : null;
            short[] col16 = dt == DType.FP32 ? null : new short[k * ohw];
            float[] buf = new float[og * ohw];
            for (int g = 0; g < groups; g++) {
                int xOff = xc.offset + (n * d.cin + g * cg) * d.h * d.w;
                int wOff = wc.offset + g * og * k;
                if (dt == DType.FP32) {
                    Im2col.im2col(geo, xc.f, xOff, col);
                    Gemm.sgemm(false, false, og, ohw, k, wc.f, wOff, k, col, 0, ohw, 0f, buf, 0, ohw);
                } else {
                    Im2col.im2col(geo, xc.h, xOff, col16);
                    Gemm.gemm16(dt, false, false, og, ohw, k, wc.h, wOff, k, col16, 0, ohw, 0f, buf, 0, ohw);
                }
                store(out, (n * d.cout + g * og) * ohw, buf, bv, g * og, og, ohw);
            }
        });
        return Autograd.record(out, op, grad -> conv2dBackward(grad, xc, wc, x, w, bias, d, geo, og), x, w, bias);
    }

    /** Adds the bias (FP32) to the rows of {@code buf} and writes them to {@code out} rounded once. */
    private static void store(Tensor out, int off, float[] buf, float[] bias, int b0, int rows, int cols) {
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                float b = bias[b0 + r];
                for (int i = r * cols, end = i + cols; i < end; i++) {
                    buf[i] += b;
                }
            }
        }
        if (out.dtype == DType.FP32) {
            System.arraycopy(buf, 0, out.f, off, rows * cols);
        } else {
            Ops.narrow(out.dtype, buf, 0, out.h, off, rows * cols);
        }
    }

    private static Tensor[] conv2dBackward(Tensor grad, Tensor xc, Tensor wc, Tensor x, Tensor w, Tensor bias, Dims d,
                                           Im2col.Geometry geo, int og) {
        DType dt = xc.dtype;
        float[] gv = grad.readFloats();
        short[] g16 = dt == DType.FP32 ? null : new short[gv.length];
        if (g16 != null) {
            Ops.narrow(dt, gv, 0, g16, 0, gv.length); // exact: the walk rounded the gradient to dt
        }
        int k = geo.rows();
        int ohw = geo.cols();
        int cg = geo.c();
        int groups = d.groups;
        Tensor gb = bias != null && Autograd.needs(bias) ? biasGrad(gv, d.n, d.cout, ohw) : null;
        Tensor gw = null;
        if (Autograd.needs(w)) {
            float[] gwv = new float[d.cout * k];
            float[] col = dt == DType.FP32 ? new float[k * ohw] : null;
            short[] col16 = dt == DType.FP32 ? null : new short[k * ohw];
            for (int n = 0; n < d.n; n++) {
                for (int g = 0; g < groups; g++) {
                    int xOff = xc.offset + (n * d.cin + g * cg) * d.h * d.w;
                    int gOff = (n * d.cout + g * og) * ohw;
                    if (dt == DType.FP32) {
                        Im2col.im2col(geo, xc.f, xOff, col);
                        Gemm.sgemm(false, true, og, k, ohw, gv, gOff, ohw, col, 0, ohw, 1f, gwv, g * og * k, k);
                    } else {
                        Im2col.im2col(geo, xc.h, xOff, col16);
                        Gemm.gemm16(dt, false, true, og, k, ohw, g16, gOff, ohw, col16, 0, ohw, 1f, gwv, g * og * k, k);
                    }
                }
            }
            gw = Ops.wrap(gwv, DType.FP32, w.shape);
        }
        Tensor gx = null;
        if (Autograd.needs(x)) {
            float[] gxv = new float[d.n * d.cin * d.h * d.w];
            Parallel.forEach(d.n, n -> {
                float[] dcol = new float[k * ohw];
                for (int g = 0; g < groups; g++) {
                    int gOff = (n * d.cout + g * og) * ohw;
                    int wOff = wc.offset + g * og * k;
                    if (dt == DType.FP32) {
                        Gemm.sgemm(true, false, k, ohw, og, wc.f, wOff, k, gv, gOff, ohw, 0f, dcol, 0, ohw);
                    } else {
                        Gemm.gemm16(dt, true, false, k, ohw, og, wc.h, wOff, k, g16, gOff, ohw, 0f, dcol, 0, ohw);
                    }
                    Im2col.col2im(geo, dcol, gxv, (n * d.cin + g * cg) * d.h * d.w);
                }
            });
            gx = Ops.wrap(gxv, DType.FP32, x.shape);
        }
        return new Tensor[] {gx, gw, gb};
    }

    private static Tensor biasGrad(float[] gv, int n, int c, int hw) {
        float[] gb = new float[c];
        for (int o = 0; o < c; o++) {
            double s = 0;
            for (int b = 0; b < n; b++) {
                int off = (b * c + o) * hw;
                for (int i = 0; i < hw; i++) {
                    s += gv[off + i];
                }
            }
            gb[o] = (float) s;
        }
        return Ops.wrap(gb, DType.FP32, new int[] {c});
    }

    static Tensor convTranspose2d(Tensor x, Tensor w, Tensor bias, Conv2dSpec s, int outPad) {
        String op = "convTranspose2d";
        Objects.requireNonNull(x, op);
        Objects.requireNonNull(w, "convTranspose2d: weight");
        Objects.requireNonNull(s, "convTranspose2d: spec");
        rank4(op, "input", x);
        rank4(op, "weight", w);
        sameDtype(op, x, w, bias);
        int groups = s.groups();
        int cin = x.shape[1];
        if (w.shape[0] != cin || cin % groups != 0) {
            throw new IllegalArgumentException("convTranspose2d: input " + Arrays.toString(x.shape) + " and weight "
                    + Arrays.toString(w.shape) + " do not match with " + groups + " group(s): need weight dim 0 = "
                    + "input channels, divisible by groups");
        }
        if (outPad < 0 || (outPad >= s.strideH() && outPad >= s.dilationH())
                || (outPad >= s.strideW() && outPad >= s.dilationW())) {
            throw new IllegalArgumentException("convTranspose2d: output padding " + outPad
                    + " must be >= 0 and smaller than the stride or the dilation (" + s + ")");
        }
        int coutG = w.shape[1];
        int cout = coutG * groups;
        checkBias(op, bias, cout);
        int h = x.shape[2];
        int wd = x.shape[3];
        int kh = w.shape[2];
        int kw = w.shape[3];
        int oh = (h - 1) * s.strideH() - 2 * s.padH() + s.dilationH() * (kh - 1) + outPad + 1;
        int ow = (wd - 1) * s.strideW() - 2 * s.padW() + s.dilationW() * (kw - 1) + outPad + 1;
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("convTranspose2d: padding of " + s + " leaves no output for input "
                    + Arrays.toString(x.shape) + " and kernel " + kh + "x" + kw);
        }
        int n = x.shape[0];
        int cinG = cin / groups;
        // the output image is the "input" of the equivalent convolution, whose output is x
        Im2col.Geometry geo = new Im2col.Geometry(coutG, oh, ow, kh, kw, h, wd, s);
        int k = geo.rows();
        int hw = h * wd;
        int img = oh * ow;
        Tensor xc = x.detach().contiguous();
        Tensor wc = w.detach().contiguous();
        float[] bv = bias == null ? null : bias.readFloats();
        DType dt = x.dtype;
        Tensor out = Tensor.zeros(dt, n, cout, oh, ow);
        Parallel.forEach(n, b -> {
            float[] cols = new float[k * hw];
            float[] buf = new float[coutG * img];
            for (int g = 0; g < groups; g++) {
                int xOff = xc.offset + (b * cin + g * cinG) * hw;
                int wOff = wc.offset + g * cinG * k;
                if (dt == DType.FP32) {
                    Gemm.sgemm(true, false, k, hw, cinG, wc.f, wOff, k, xc.f, xOff, hw, 0f, cols, 0, hw);
                } else {
                    Gemm.gemm16(dt, true, false, k, hw, cinG, wc.h, wOff, k, xc.h, xOff, hw, 0f, cols, 0, hw);
                }
                Arrays.fill(buf, 0f);
                Im2col.col2im(geo, cols, buf, 0);
                store(out, (b * cout + g * coutG) * img, buf, bv, g * coutG, coutG, img);
            }
        });
        return Autograd.record(out, op, grad -> {
            float[] gv = grad.readFloats();
            short[] g16 = dt == DType.FP32 ? null : new short[gv.length];
            if (g16 != null) {
                Ops.narrow(dt, gv, 0, g16, 0, gv.length); // exact: the walk rounded the gradient to dt
            }
            Tensor gb = bias != null && Autograd.needs(bias) ? biasGrad(gv, n, cout, img) : null;
            boolean needX = Autograd.needs(x);
            boolean needW = Autograd.needs(w);
            float[] gxv = needX ? new float[x.numel] : null;
            float[] gwv = needW ? new float[w.numel] : null;
            float[] dcols = dt == DType.FP32 ? new float[k * hw] : null;
            short[] dcols16 = dt == DType.FP32 ? null : new short[k * hw];
            for (int b = 0; b < n; b++) {
                for (int g = 0; g < groups; g++) {
                    int gOff = (b * cout + g * coutG) * img;
                    int xOff = xc.offset + (b * cin + g * cinG) * hw;
                    int wOff = wc.offset + g * cinG * k;
                    if (dt == DType.FP32) {
                        Im2col.im2col(geo, gv, gOff, dcols);
                        if (needX) {
                            Gemm.sgemm(false, false, cinG, hw, k, wc.f, wOff, k, dcols, 0, hw, 0f, gxv,
                                    (b * cin + g * cinG) * hw, hw);
                        }
                        if (needW) {
                            Gemm.sgemm(false, true, cinG, k, hw, xc.f, xOff, hw, dcols, 0, hw, 1f, gwv, g * cinG * k, k);
                        }
                    } else {
                        Im2col.im2col(geo, g16, gOff, dcols16);
                        if (needX) {
                            Gemm.gemm16(dt, false, false, cinG, hw, k, wc.h, wOff, k, dcols16, 0, hw, 0f, gxv,
                                    (b * cin + g * cinG) * hw, hw);
                        }
                        if (needW) {
                            Gemm.gemm16(dt, false, true, cinG, k, hw, xc.h, xOff, hw, dcols16, 0, hw, 1f, gwv,
                                    g * cinG * k, k);
                        }
                    }
                }
            }
            return new Tensor[] {
                needX ? Ops.wrap(gxv, DType.FP32, x.shape) : null,
                needW ? Ops.wrap(gwv, DType.FP32, w.shape) : null,
                gb};
        }, x, w, bias);
    }
}
