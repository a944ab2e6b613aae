package dev.mpt.core;

import dev.mpt.core.kernel.BinaryKernel;
import dev.mpt.core.kernel.BinaryOp;
import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.kernel.ThreadScratch;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * 2-D convolution and transposed convolution over NCHW tensors, lowered by {@link Im2col} to FP32
 * {@link Gemm} products (the forward and input-gradient products of a convolution take several
 * small images side by side, {@link #imagesPerGemm}). 16-bit images are widened (exactly) while they are lowered and 16-bit
 * weights once per call, so the GEMM sees the same FP32 values a 16-bit GEMM would widen while
 * packing: products accumulate in FP32, the bias is added in FP32 and each output element is
 * rounded once. Gradients are formed with the same lowering, in FP32.
 *
 * <p>Images are processed in parallel, each on one thread; the weight gradient sums the images of
 * each of a fixed number of batch parts ({@link #weightGradParts}) and then adds the parts in
 * order, so every result is bit-identical for any thread count. Column matrices live in per-thread
 * buffers that are reused across calls.
 */
final class Convolution {

    /**
     * One thread's reusable FP32 buffers for the convolutions, so a training loop does not allocate
     * (and first-touch) megabytes of column matrices per image and step. {@link #COL}, {@link #OUT},
     * {@link #IN}, {@link #IMAGE} and {@link #GRAD_BLOCK} belong to one task at a time; {@link #PARTIALS} to the thread
     * that calls a backward pass, for the duration of the call.
     */
    private static final ThreadScratch SCRATCH = new ThreadScratch(6);
    /** A column matrix (im2col of one image). */
    private static final int COL = 0;
    /** A GEMM output, or the column gradient. */
    private static final int OUT = 1;
    /** One image widened from 16 bits ({@link #image(Tensor, int, int)}). */
    private static final int IN = 2;
    /** One 16-bit image widened while it is lowered. */
    private static final int IMAGE = 3;
    /** The weight-gradient sums of all batch parts but the first. */
    private static final int PARTIALS = 4;
    /** The output gradients of a block of images side by side ({@link #imagesPerGemm}). */
    private static final int GRAD_BLOCK = 5;

    private Convolution() {
    }

    /** Checked sizes of one convolution call. */
    private record Dims(int n, int cin, int h, int w, int cout, int kh, int kw, int oh, int ow, int groups) {
    }

    private static void sameDtype(String op, Tensor x, Tensor w, Tensor bias) {
        Checks.sameDtype(op, x, w);
        if (bias != null) {
            Checks.sameDtype(op, x, bias);
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
        float[] wf = wc.readFloats(); // the weights widened once (exact), row-major from index 0
        Tensor out = Tensor.zeros(dt, d.n, d.cout, oh, ow);
        // blocks of nb images side by side: one GEMM W [og, k] x col [k, nb*ohw] per block and group
        int nb = imagesPerGemm(d.n, ohw);
        Parallel.forEach((d.n + nb - 1) / nb, blk -> {
            int n0 = blk * nb;
            int cnt = Math.min(nb, d.n - n0);
            int cols = cnt * ohw;
            float[] col = SCRATCH.get(COL, k * cols);
            float[] buf = SCRATCH.get(OUT, og * cols);
            float[] image = dt == DType.FP32 ? null : SCRATCH.get(IMAGE, cg * d.h * d.w);
            for (int g = 0; g < groups; g++) {
                for (int j = 0; j < cnt; j++) {
                    Im2col.im2col(geo, xc, xc.offset + ((n0 + j) * d.cin + g * cg) * d.h * d.w, col, j * ohw, cols,
                            image);
                }
                Gemm.sgemm(false, false, og, cols, k, wf, g * og * k, k, col, 0, cols, 0f, buf, 0, cols);
                for (int j = 0; j < cnt; j++) {
                    storeRows(out, ((n0 + j) * d.cout + g * og) * ohw, buf, j * ohw, cols, bv, g * og, og, ohw);
                }
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
            System.arraycopy(buf, 0, out.floats, off, rows * cols);
        } else {
            Conversions.narrow(out.dtype, buf, 0, out.shorts, off, rows * cols);
        }
    }

    /**
     * Most columns one forward or input-gradient GEMM of the convolution is given by putting the
     * column matrices of several images side by side: 768 = 16 slivers of the AVX-512 kernel's 48
     * columns (a last partial sliver then wastes at most 1/16 of the work, where the 196 positions of
     * a 14 x 14 image alone waste a fifth), and the packed A (the weights) is reused over them.
     * Images with this many positions or more go one at a time. Every output element is still one
     * GEMM chain over k, so the results are those of one image per GEMM, bit for bit.
     */
    static final int GEMM_COLUMNS = 768;

    /**
     * Images per GEMM for {@code hw} output positions each: as many as fit {@link #GEMM_COLUMNS}, but
     * leaving at least {@link #WEIGHT_GRAD_PARTS} blocks of the batch (for the same reason as there:
     * work for every thread); at least 1. Depends on the shapes only.
     */
    static int imagesPerGemm(int n, int hw) {
        return Math.max(1, Math.min(GEMM_COLUMNS / Math.max(1, hw), n / WEIGHT_GRAD_PARTS));
    }

    /**
     * {@link #store} for {@code rows} rows of {@code cols} floats that sit at {@code buf[at + r*ld]}
     * (one image's columns of a batched GEMM output).
     */
    private static void storeRows(Tensor out, int off, float[] buf, int at, int ld, float[] bias, int b0, int rows,
                                  int cols) {
        for (int r = 0; r < rows; r++) {
            int src = at + r * ld;
            if (bias != null) {
                float b = bias[b0 + r];
                for (int i = src, end = src + cols; i < end; i++) {
                    buf[i] += b;
                }
            }
            if (out.dtype == DType.FP32) {
                System.arraycopy(buf, src, out.floats, off + r * cols, cols);
            } else {
                Conversions.narrow(out.dtype, buf, src, out.shorts, off + r * cols, cols);
            }
        }
    }

    /**
     * Into how many parts the batch is split for the weight gradient: {@code min(n, PARTS)}, fewer if
     * the parts' FP32 partial sums would exceed {@link #PARTIAL_FLOATS}. Part {@code c} holds images
     * {@code [n c / parts, n (c+1) / parts)}; the count depends on the shapes only, never on the
     * thread count, so the summation order is fixed.
     */
    static int weightGradParts(int n, long weightNumel) {
        long byMemory = Math.max(1, PARTIAL_FLOATS / Math.max(1, weightNumel));
        return (int) Math.min(Math.min(n, WEIGHT_GRAD_PARTS), byMemory);
    }

    /**
     * Most parts of the batch whose weight gradients are summed separately (in parallel) and then
     * added in part order: 8 keeps both cores of the 2-core VMs busy with room for work stealing
     * when one is slowed by other processes (ConvBenchmark, batch 32: 4 images per part).
     */
    static final int WEIGHT_GRAD_PARTS = 8;
    /** Most floats of all parts' partial weight gradients together: 16 MiB, half the 32 MiB L3. */
    static final long PARTIAL_FLOATS = 1L << 22;

    /*
     * Per image n and group g (all FP32; a 16-bit x is widened by im2col, W once):
     *   col_n = im2col(x_n);  gW_part += gY_n col_n^T  (images of a part in order, parts added in order)
     *   gx_n = col2im(W^T gY_n)
     * The incoming gradient is FP32 holding values of x's dtype (the walk rounded it), so feeding it
     * to the FP32 GEMM gives the same bits as a 16-bit GEMM would.
     */
    private static Tensor[] conv2dBackward(Tensor grad, Tensor xc, Tensor wc, Tensor x, Tensor w, Tensor bias, Dims d,
                                           Im2col.Geometry geo, int og) {
        float[] gv = grad.readFloats();
        int k = geo.rows();
        int ohw = geo.cols();
        int cg = geo.c();
        int groups = d.groups;
        Tensor gb = bias != null && Autograd.needs(bias) ? biasGrad(gv, d.n, d.cout, ohw) : null;
        boolean needW = Autograd.needs(w);
        boolean needX = Autograd.needs(x);
        int wn = d.cout * k;
        int parts = weightGradParts(d.n, wn);
        float[] gwv = needW ? new float[wn] : null;
        // part 0 sums straight into the result; the others into the caller's scratch
        float[] partial = needW && parts > 1 ? SCRATCH.get(PARTIALS, (parts - 1) * wn) : null;
        float[] wf = needX ? wc.readFloats() : null;
        float[] gxv = needX ? new float[d.n * d.cin * d.h * d.w] : null;
        int nb = imagesPerGemm(d.n, ohw);
        Parallel.forEach(parts, c -> {
            int n0 = (int) ((long) d.n * c / parts);
            int n1 = (int) ((long) d.n * (c + 1) / parts);
            float[] gwTo = c == 0 ? gwv : partial;
            int gwOff = c == 0 ? 0 : (c - 1) * wn;
            float[] col = needW ? SCRATCH.get(COL, k * ohw) : null;
            int most = Math.min(nb, n1 - n0) * ohw;
            float[] dcol = needX ? SCRATCH.get(OUT, k * most) : null;
            float[] gyb = needX ? SCRATCH.get(GRAD_BLOCK, og * most) : null;
            float[] image = needW && xc.dtype != DType.FP32 ? SCRATCH.get(IMAGE, cg * d.h * d.w) : null;
            for (int b0 = n0; b0 < n1; b0 += nb) {
                int cnt = Math.min(nb, n1 - b0);
                int cols = cnt * ohw;
                for (int g = 0; g < groups; g++) {
                    if (needW) {
                        for (int n = b0; n < b0 + cnt; n++) {
                            int gOff = (n * d.cout + g * og) * ohw;
                            Im2col.im2col(geo, xc, xc.offset + (n * d.cin + g * cg) * d.h * d.w, col, image);
                            Gemm.sgemm(false, true, og, k, ohw, gv, gOff, ohw, col, 0, ohw, n == n0 ? 0f : 1f,
                                    gwTo, gwOff + g * og * k, k);
                        }
                    }
                    if (needX) {
                        // the block's gY side by side, [og, cnt*ohw]; one GEMM W^T gY; col2im per image
                        for (int j = 0; j < cnt; j++) {
                            int gOff = ((b0 + j) * d.cout + g * og) * ohw;
                            for (int r = 0; r < og; r++) {
                                System.arraycopy(gv, gOff + r * ohw, gyb, r * cols + j * ohw, ohw);
                            }
                        }
                        Gemm.sgemm(true, false, k, cols, og, wf, g * og * k, k, gyb, 0, cols, 0f, dcol, 0, cols);
                        for (int j = 0; j < cnt; j++) {
                            Im2col.col2im(geo, dcol, j * ohw, cols, gxv, ((b0 + j) * d.cin + g * cg) * d.h * d.w);
                        }
                    }
                }
            }
        });
        if (needW) {
            addParts(gwv, partial, parts, wn);
        }
        return new Tensor[] {
            needX ? Conversions.wrap(gxv, DType.FP32, x.shape) : null,
            needW ? Conversions.wrap(gwv, DType.FP32, w.shape) : null,
            gb};
    }

    /** {@code gw += part 1 + ... + part (parts-1)}, one part after another (a fixed order). */
    private static void addParts(float[] gw, float[] partial, int parts, int wn) {
        for (int c = 1; c < parts; c++) {
            BinaryKernel.INSTANCE.apply(BinaryOp.ADD, gw, 0, partial, (c - 1) * wn, gw, 0, wn);
        }
    }

    /** Per channel, the double sum over batch and positions in order; channels in parallel. */
    private static Tensor biasGrad(float[] gv, int n, int c, int hw) {
        float[] gb = new float[c];
        Parallel.forRange(c, Math.max(1, Grain.ELEMENTWISE / Math.max(1, n * hw)), (from, to) -> {
            for (int o = from; o < to; o++) {
                double s = 0;
                for (int b = 0; b < n; b++) {
                    int off = (b * c + o) * hw;
                    for (int i = 0; i < hw; i++) {
                        s += gv[off + i];
                    }
                }
                gb[o] = (float) s;
            }
        });
        return Conversions.wrap(gb, DType.FP32, new int[] {c});
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
        float[] wf = wc.readFloats();
        Tensor out = Tensor.zeros(dt, n, cout, oh, ow);
        Parallel.forEach(n, b -> {
            float[] cols = SCRATCH.get(COL, k * hw);
            float[] buf = SCRATCH.get(OUT, coutG * img);
            float[] xs = image(xc, b, cin * hw);
            int xBase = xs == xc.floats ? xc.offset + b * cin * hw : 0;
            for (int g = 0; g < groups; g++) {
                Gemm.sgemm(true, false, k, hw, cinG, wf, g * cinG * k, k, xs, xBase + g * cinG * hw, hw, 0f, cols, 0, hw);
                Arrays.fill(buf, 0, coutG * img, 0f);
                Im2col.col2im(geo, cols, buf, 0);
                store(out, (b * cout + g * coutG) * img, buf, bv, g * coutG, coutG, img);
            }
        });
        return Autograd.record(out, op, grad -> {
            // as conv2dBackward, with the roles of the lowerings exchanged:
            //   dcols_b = im2col(gY_b);  gx_b = W dcols_b;  gW_part += x_b dcols_b^T
            float[] gv = grad.readFloats();
            Tensor gb = bias != null && Autograd.needs(bias) ? biasGrad(gv, n, cout, img) : null;
            boolean needX = Autograd.needs(x);
            boolean needW = Autograd.needs(w);
            int wn = w.numel;
            int parts = weightGradParts(n, wn);
            float[] gxv = needX ? new float[x.numel] : null;
            float[] gwv = needW ? new float[wn] : null;
            float[] partial = needW && parts > 1 ? SCRATCH.get(PARTIALS, (parts - 1) * wn) : null;
            Parallel.forEach(parts, c -> {
                int b0 = (int) ((long) n * c / parts);
                int b1 = (int) ((long) n * (c + 1) / parts);
                float[] gwTo = c == 0 ? gwv : partial;
                int gwOff = c == 0 ? 0 : (c - 1) * wn;
                float[] dcols = SCRATCH.get(COL, k * hw);
                for (int b = b0; b < b1; b++) {
                    float[] xs = needW ? image(xc, b, cin * hw) : null;
                    int xBase = xs == xc.floats ? xc.offset + b * cin * hw : 0;
                    for (int g = 0; g < groups; g++) {
                        int wOff = g * cinG * k;
                        Im2col.im2col(geo, gv, (b * cout + g * coutG) * img, dcols);
                        if (needX) {
                            Gemm.sgemm(false, false, cinG, hw, k, wf, wOff, k, dcols, 0, hw, 0f, gxv,
                                    (b * cin + g * cinG) * hw, hw);
                        }
                        if (needW) {
                            Gemm.sgemm(false, true, cinG, k, hw, xs, xBase + g * cinG * hw, hw, dcols, 0, hw,
                                    b == b0 ? 0f : 1f, gwTo, gwOff + wOff, k);
                        }
                    }
                }
            });
            if (needW) {
                addParts(gwv, partial, parts, wn);
            }
            return new Tensor[] {
                needX ? Conversions.wrap(gxv, DType.FP32, x.shape) : null,
                needW ? Conversions.wrap(gwv, DType.FP32, w.shape) : null,
                gb};
        }, x, w, bias);
    }

    /**
     * Image {@code b} (of {@code size} elements) of the contiguous {@code x} as FP32: x's own storage
     * when FP32 (the image starts at {@code x.offset + b * size}), else widened into the scratch
     * buffer {@link #IN} (starting at 0).
     */
    private static float[] image(Tensor x, int b, int size) {
        if (x.dtype == DType.FP32) {
            return x.floats;
        }
        float[] in = SCRATCH.get(IN, size);
        Conversions.widen(x.dtype, x.shorts, x.offset + b * size, in, 0, size);
        return in;
    }
}
