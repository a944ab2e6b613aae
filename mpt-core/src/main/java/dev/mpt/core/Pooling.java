package dev.mpt.core;

import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.kernel.ThreadScratch;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/** 2-D max and average pooling over NCHW tensors ({@link Pool2dSpec} geometry), with their gradients. */
final class Pooling {

    /** Per-thread buffer of one widened 16-bit plane, reused across calls. */
    private static final ThreadScratch SCRATCH = new ThreadScratch(1);
    private static final int PLANE = 0;

    private Pooling() {
    }

    /** The output size {@code [oh, ow]} of pooling {@code x} by {@code s}, after checking both. */
    private static int[] outSize(String op, Tensor x, Pool2dSpec s) {
        Objects.requireNonNull(x, op);
        Objects.requireNonNull(s, op + ": spec");
        if (x.shape.length != 4) {
            throw new IllegalArgumentException(op + ": input must be 4-D (NCHW), got shape " + Arrays.toString(x.shape));
        }
        int oh = s.outH(x.shape[2]);
        int ow = s.outW(x.shape[3]);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException(op + ": kernel " + s.kernelH() + "x" + s.kernelW() + " (dilation "
                    + s.dilationH() + "x" + s.dilationW() + ") does not fit input " + Arrays.toString(x.shape)
                    + " padded by " + s.padH() + "x" + s.padW() + ": the output would be " + oh + "x" + ow);
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
     * One plane, the unpadded, undilated 2x2 case with every window inside the plane, unrolled: the
     * plane's pixel {@code i} is {@code src[sb + i]}; outputs go to {@code y[q0 ..]}, their arg-max
     * as {@code planeBase + i}. Same results as {@link #maxPlane} for these windows.
     */
    private static void maxPlane2x2(float[] src, int sb, float[] y, int[] arg, int q0, int planeBase, int w,
                                    int strideH, int strideW, int oh, int ow) {
        int q = q0;
        for (int oy = 0; oy < oh; oy++) {
            int row = oy * strideH * w;
            for (int ox = 0; ox < ow; ox++, q++) {
                int i = row + ox * strideW;
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

    /**
     * One plane, any window; arguments as {@link #maxPlane2x2}. Taps in the padding are skipped; a
     * window with none inside the plane (possible only with dilation) gives {@code -Infinity}, as in
     * PyTorch, and arg-max {@code -1} (no gradient).
     */
    private static void maxPlane(float[] src, int sb, float[] y, int[] arg, int q0, int planeBase, int h, int w,
                                 Pool2dSpec s, int oh, int ow) {
        int q = q0;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, q++) {
                float m = Float.NEGATIVE_INFINITY;
                int best = -1;
                for (int ky = 0; ky < s.kernelH(); ky++) {
                    int iy = oy * s.strideH() - s.padH() + ky * s.dilationH();
                    if (iy < 0 || iy >= h) {
                        continue;
                    }
                    for (int kx = 0; kx < s.kernelW(); kx++) {
                        int ix = ox * s.strideW() - s.padW() + kx * s.dilationW();
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
                arg[q] = best < 0 ? -1 : planeBase + best;
            }
        }
    }

    /**
     * Max over each window by {@link Math#max} (padding never counts; a NaN in the window gives
     * NaN); the gradient goes to the first pixel that is larger than all before it, or to the first
     * NaN (ties, {@code -0} and {@code +0} included, go to the first). Planes run in parallel; a
     * 16-bit plane is widened into a per-task buffer.
     */
    static Tensor maxPool2d(Tensor x, Pool2dSpec s) {
        int[] o = outSize("maxPool2d", x, s);
        int oh = o[0];
        int ow = o[1];
        int planes = x.shape[0] * x.shape[1];
        int h = x.shape[2];
        int w = x.shape[3];
        int hw = h * w;
        boolean unrolled = s.kernelH() == 2 && s.kernelW() == 2 && s.padH() == 0 && s.padW() == 0
                && s.dilationH() == 1 && s.dilationW() == 1
                && (oh - 1) * s.strideH() + 2 <= h && (ow - 1) * s.strideW() + 2 <= w; // ceil mode may overhang
        Tensor xc = x.detach().contiguous();
        float[] y = new float[planes * oh * ow];
        int[] arg = new int[y.length];
        forPlanes(planes, hw, (from, to) -> {
            float[] buf = xc.dtype == DType.FP32 ? null : SCRATCH.get(PLANE, hw);
            for (int p = from; p < to; p++) {
                float[] src = xc.floats;
                int sb = xc.offset + p * hw;
                if (buf != null) {
                    Conversions.widen(xc.dtype, xc.shorts, sb, buf, 0, hw);
                    src = buf;
                    sb = 0;
                }
                if (unrolled) {
                    maxPlane2x2(src, sb, y, arg, p * oh * ow, p * hw, w, s.strideH(), s.strideW(), oh, ow);
                } else {
                    maxPlane(src, sb, y, arg, p * oh * ow, p * hw, h, w, s, oh, ow);
                }
            }
        });
        Tensor out = Conversions.wrap(y, x.dtype, new int[] {x.shape[0], x.shape[1], oh, ow});
        return Autograd.record(out, "maxPool2d", g -> {
            float[] gv = g.readFloats();
            // each range zeroes its own planes (an arg-max lies in its window's plane), then scatters:
            // less than writing each window whole (measured: 0.7 against 7.5 ms for 128 x 32 x 28 x 28)
            float[] gx = GradientBuffers.take(x.numel);
            int per = oh * ow;
            forPlanes(planes, h * w, (from, to) -> {
                Arrays.fill(gx, from * hw, to * hw, 0f);
                for (int q = from * per; q < to * per; q++) {
                    int a = arg[q];
                    if (a >= 0) {
                        gx[a] += gv[q];
                    }
                }
            });
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }

    /**
     * Mean over each window, PyTorch's rule: the window is clipped to the padded input
     * ({@code [-pad, in + pad)}, which only a ceil-mode window overhangs) and divided by its size
     * there when {@code countIncludePad}, else by its pixels inside the input. The pixels are summed
     * in FP32 in row-major order and the sum multiplied by the FP32 reciprocal of the divisor, then
     * rounded once to the input's dtype. Planes run in parallel.
     */
    static Tensor avgPool2d(Tensor x, Pool2dSpec s) {
        int[] o = outSize("avgPool2d", x, s);
        if (s.dilationH() != 1 || s.dilationW() != 1) {
            throw new IllegalArgumentException("avgPool2d: dilation must be 1x1 (PyTorch's AvgPool2d has none), got "
                    + s.dilationH() + "x" + s.dilationW());
        }
        int oh = o[0];
        int ow = o[1];
        int planes = x.shape[0] * x.shape[1];
        int h = x.shape[2];
        int w = x.shape[3];
        Window rows = new Window(h, s.kernelH(), s.strideH(), s.padH());
        Window cols = new Window(w, s.kernelW(), s.strideW(), s.padW());
        float[] inv = new float[oh * ow]; // the same for every plane
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int divisor = s.countIncludePad() ? rows.padded(oy) * cols.padded(ox)
                        : (rows.end(oy) - rows.start(oy)) * (cols.end(ox) - cols.start(ox));
                inv[oy * ow + ox] = 1f / divisor;
            }
        }
        float[] xv = x.readFloats();
        float[] y = new float[planes * oh * ow];
        forPlanes(planes, h * w, (from, to) -> {
            for (int p = from; p < to; p++) {
                int base = p * h * w;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float sum = 0f;
                        for (int iy = rows.start(oy); iy < rows.end(oy); iy++) {
                            for (int ix = cols.start(ox); ix < cols.end(ox); ix++) {
                                sum += xv[base + iy * w + ix];
                            }
                        }
                        y[(p * oh + oy) * ow + ox] = sum * inv[oy * ow + ox];
                    }
                }
            }
        });
        Tensor out = Conversions.wrap(y, x.dtype, new int[] {x.shape[0], x.shape[1], oh, ow});
        return Autograd.record(out, "avgPool2d", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[x.numel];
            forPlanes(planes, h * w, (from, to) -> {
                for (int p = from; p < to; p++) {
                    int base = p * h * w;
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            float gq = gv[(p * oh + oy) * ow + ox] * inv[oy * ow + ox];
                            for (int iy = rows.start(oy); iy < rows.end(oy); iy++) {
                                for (int ix = cols.start(ox); ix < cols.end(ox); ix++) {
                                    gx[base + iy * w + ix] += gq;
                                }
                            }
                        }
                    }
                }
            });
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }

    /**
     * The windows of average pooling along one dim of size {@code in}: window {@code o} starts at
     * {@code o stride - pad} and covers {@link #padded} positions of the padded input, of which
     * {@code [start, end)} lie inside the input.
     */
    private record Window(int in, int k, int stride, int pad) {
        int padded(int o) {
            int from = o * stride - pad;
            return Math.min(from + k, in + pad) - from;
        }

        int start(int o) {
            return Math.max(o * stride - pad, 0);
        }

        int end(int o) {
            return Math.min(o * stride - pad + k, in);
        }
    }
}
