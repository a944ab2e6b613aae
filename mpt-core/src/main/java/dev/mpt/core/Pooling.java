package dev.mpt.core;

import java.util.Arrays;
import java.util.Objects;

/** 2-D max and average pooling over NCHW tensors, with their gradients. */
final class Pooling {

    private Pooling() {
    }

    private static int[] outSize(String op, Tensor x, int k, int stride, int pad) {
        Objects.requireNonNull(x, op);
        if (x.shape.length != 4) {
            throw new IllegalArgumentException(op + ": input must be 4-D (NCHW), got shape " + Arrays.toString(x.shape));
        }
        if (k < 1 || stride < 1 || pad < 0 || pad > k / 2) {
            throw new IllegalArgumentException(op + ": need kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2, got"
                    + " kernel=" + k + ", stride=" + stride + ", padding=" + pad);
        }
        int oh = (x.shape[2] + 2 * pad - k) / stride + 1;
        int ow = (x.shape[3] + 2 * pad - k) / stride + 1;
        if (x.shape[2] + 2 * pad < k || x.shape[3] + 2 * pad < k) {
            throw new IllegalArgumentException(op + ": kernel " + k + " larger than padded input " + Arrays.toString(x.shape));
        }
        return new int[] {oh, ow};
    }

    /** Max over each window (padding never wins); the gradient goes to the first maximal pixel. */
    static Tensor maxPool2d(Tensor x, int k, int stride, int pad) {
        int[] o = outSize("maxPool2d", x, k, stride, pad);
        int oh = o[0];
        int ow = o[1];
        int planes = x.shape[0] * x.shape[1];
        int h = x.shape[2];
        int w = x.shape[3];
        float[] xv = x.readFloats();
        float[] y = new float[planes * oh * ow];
        int[] arg = new int[y.length];
        for (int p = 0; p < planes; p++) {
            int base = p * h * w;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float m = Float.NEGATIVE_INFINITY;
                    int best = -1;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * stride - pad + ky;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * stride - pad + kx;
                            if (ix < 0 || ix >= w) {
                                continue;
                            }
                            float v = xv[base + iy * w + ix];
                            if (best < 0 || v > m || (Float.isNaN(v) && !Float.isNaN(m))) {
                                m = v;
                                best = iy * w + ix;
                            }
                        }
                    }
                    int q = (p * oh + oy) * ow + ox;
                    y[q] = m;
                    arg[q] = base + best;
                }
            }
        }
        Tensor out = Ops.wrap(y, x.dtype, new int[] {x.shape[0], x.shape[1], oh, ow});
        return Autograd.record(out, "maxPool2d", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[x.numel];
            for (int q = 0; q < gv.length; q++) {
                gx[arg[q]] += gv[q];
            }
            return new Tensor[] {Ops.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }

    /**
     * Mean over each window with the padding counted as zeros (divisor {@code k*k}, PyTorch's
     * {@code count_include_pad=True}); summed in FP32, rounded once.
     */
    static Tensor avgPool2d(Tensor x, int k, int stride, int pad) {
        int[] o = outSize("avgPool2d", x, k, stride, pad);
        int oh = o[0];
        int ow = o[1];
        int planes = x.shape[0] * x.shape[1];
        int h = x.shape[2];
        int w = x.shape[3];
        float inv = 1f / (k * k);
        float[] xv = x.readFloats();
        float[] y = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            int base = p * h * w;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float s = 0f;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * stride - pad + ky;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * stride - pad + kx;
                            if (ix >= 0 && ix < w) {
                                s += xv[base + iy * w + ix];
                            }
                        }
                    }
                    y[(p * oh + oy) * ow + ox] = s * inv;
                }
            }
        }
        Tensor out = Ops.wrap(y, x.dtype, new int[] {x.shape[0], x.shape[1], oh, ow});
        return Autograd.record(out, "avgPool2d", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[x.numel];
            for (int p = 0; p < planes; p++) {
                int base = p * h * w;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float gq = gv[(p * oh + oy) * ow + ox] * inv;
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy * stride - pad + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < k; kx++) {
                                int ix = ox * stride - pad + kx;
                                if (ix >= 0 && ix < w) {
                                    gx[base + iy * w + ix] += gq;
                                }
                            }
                        }
                    }
                }
            }
            return new Tensor[] {Ops.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }
}
