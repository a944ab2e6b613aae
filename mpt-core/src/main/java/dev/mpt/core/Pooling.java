package dev.mpt.core;

import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
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

    /** Runs {@code body} over ranges of planes, in parallel when there is enough work. */
    private static void forPlanes(int planes, int planeSize, Parallel.RangeBody body) {
        if ((long) planes * planeSize < 2L * Grain.ELEMENTWISE) {
            body.run(0, planes);
        } else {
            Parallel.forRange(planes, Math.max(1, Grain.ELEMENTWISE / Math.max(1, planeSize)), body);
        }
    }

    /**
     * Whether {@code v} replaces the running maximum {@code m} as the window's arg-max: it is
     * larger, or the first NaN. The maximum itself is tracked with {@link Math#max}, which compiles
     * without branches; only this index choice is a select, so random data costs no mispredicted
     * branches on the value.
     */
    private static boolean takes(float v, float m) {
        return v > m | (v != v & m == m);
    }

    /**
     * One plane, the unpadded 2x2 case (every window inside the plane), unrolled: the plane's pixel
     * {@code i} is {@code src[sb + i]}; outputs go to {@code y[q0 ..]}, their arg-max as
     * {@code planeBase + i}.
     */
    private static void maxPlane2x2(float[] src, int sb, float[] y, int[] arg, int q0, int planeBase, int w,
                                    int stride, int oh, int ow) {
        int q = q0;
        for (int oy = 0; oy < oh; oy++) {
            int row = oy * stride * w;
            for (int ox = 0; ox < ow; ox++, q++) {
                int i = row + ox * stride;
                float m = src[sb + i];
                int best = i;
                float v = src[sb + i + 1];
                best = takes(v, m) ? i + 1 : best;
                m = Math.max(m, v);
                v = src[sb + i + w];
                best = takes(v, m) ? i + w : best;
                m = Math.max(m, v);
                v = src[sb + i + w + 1];
                best = takes(v, m) ? i + w + 1 : best;
                m = Math.max(m, v);
                y[q] = m;
                arg[q] = planeBase + best;
            }
        }
    }

    /** One plane, any window and padding; arguments as {@link #maxPlane2x2}. */
    private static void maxPlane(float[] src, int sb, float[] y, int[] arg, int q0, int planeBase, int h, int w,
                                 int k, int stride, int pad, int oh, int ow) {
        int q = q0;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, q++) {
                float m = Float.NaN;
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
                        float v = src[sb + iy * w + ix];
                        boolean first = best < 0;
                        best = first || takes(v, m) ? iy * w + ix : best;
                        m = first ? v : Math.max(m, v);
                    }
                }
                y[q] = m;
                arg[q] = planeBase + best;
            }
        }
    }

    /**
     * Max over each window by {@link Math#max} (padding never counts; a NaN in the window gives
     * NaN); the gradient goes to the first pixel that is larger than all before it, or to the first
     * NaN (ties, {@code -0} and {@code +0} included, go to the first). Planes run in parallel; a
     * 16-bit plane is widened into a per-task buffer.
     */
    static Tensor maxPool2d(Tensor x, int k, int stride, int pad) {
        int[] o = outSize("maxPool2d", x, k, stride, pad);
        int oh = o[0];
        int ow = o[1];
        int planes = x.shape[0] * x.shape[1];
        int h = x.shape[2];
        int w = x.shape[3];
        int hw = h * w;
        Tensor xc = x.detach().contiguous();
        float[] y = new float[planes * oh * ow];
        int[] arg = new int[y.length];
        forPlanes(planes, hw, (from, to) -> {
            float[] buf = xc.dtype == DType.FP32 ? null : new float[hw];
            for (int p = from; p < to; p++) {
                float[] src = xc.floats;
                int sb = xc.offset + p * hw;
                if (buf != null) {
                    Conversions.widen(xc.dtype, xc.shorts, sb, buf, 0, hw);
                    src = buf;
                    sb = 0;
                }
                if (k == 2 && pad == 0) {
                    maxPlane2x2(src, sb, y, arg, p * oh * ow, p * hw, w, stride, oh, ow);
                } else {
                    maxPlane(src, sb, y, arg, p * oh * ow, p * hw, h, w, k, stride, pad, oh, ow);
                }
            }
        });
        Tensor out = Conversions.wrap(y, x.dtype, new int[] {x.shape[0], x.shape[1], oh, ow});
        return Autograd.record(out, "maxPool2d", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[x.numel];
            int per = oh * ow;
            forPlanes(planes, h * w, (from, to) -> {
                for (int q = from * per; q < to * per; q++) {
                    gx[arg[q]] += gv[q];
                }
            });
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, x.shape)};
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
        Tensor out = Conversions.wrap(y, x.dtype, new int[] {x.shape[0], x.shape[1], oh, ow});
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
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }
}
