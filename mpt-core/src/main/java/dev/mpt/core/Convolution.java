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
 * 2-D convolution and transposed convolution over NCHW tensors, lowered by {@link Im2col} to
 * {@link Gemm} products in the tensors' dtype (the forward and input-gradient products of a
 * convolution take several small images side by side, {@link #imagesPerGemm}): FP32 ones through
 * {@link Gemm#sgemm}, FP16 and BF16 ones through {@link Gemm#gemm16} on the 16-bit weights, column
 * matrices and gradients as stored (so the native backend's BF16 product serves BF16
 * convolutions). Products accumulate in FP32 (the Java kernels widen 16-bit values exactly while
 * packing, giving the bits an FP32 product of the widened values would), the bias is added in FP32
 * and each output element is rounded once. Gradients are formed with the same lowering and
 * products, into FP32.
 *
 * <p>Images are processed in parallel, each on one thread; the weight gradient sums the images of
 * each of a fixed number of batch parts ({@link #weightGradParts}) and then adds the parts in
 * order, so every result is bit-identical for any thread count. Column matrices live in per-thread
 * buffers that are reused across calls.
 */
final class Convolution {

    /**
     * One thread's reusable buffers for the convolutions, so a training loop does not allocate
     * (and first-touch) megabytes of column matrices per image and step. {@link #COL} and
     * {@link #GRAD_BLOCK} (FP32 or 16-bit, as the dtype) and {@link #OUT} belong to one task at a
     * time; {@link #PARTIALS} and the 16-bit {@link #GRAD} to the thread that calls a backward pass,
     * for the duration of the call.
     */
    private static final ThreadScratch SCRATCH = new ThreadScratch(4);
    /** A column matrix (im2col of one image or a block of images), in the dtype of the convolution. */
    private static final int COL = 0;
    /** A GEMM output, or the column gradient (FP32). */
    private static final int OUT = 1;
    /** The weight-gradient sums of all batch parts but the first (FP32). */
    private static final int PARTIALS = 2;
    /** The output gradients of a block of images side by side ({@link #imagesPerGemm}), in the dtype. */
    private static final int GRAD_BLOCK = 3;
    /** A 16-bit buffer (numbered apart from the FP32 ones): the incoming gradient's bits ({@link #gradStorage}). */
    private static final int GRAD = 1;

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
        Tensor out = Tensor.zeros(dt, d.n, d.cout, oh, ow);
        // blocks of nb images side by side: one GEMM W [og, k] x col [k, nb*ohw] per block and group
        int nb = imagesPerGemm(d.n, ohw);
        Parallel.forEach((d.n + nb - 1) / nb, blk -> {
            int n0 = blk * nb;
            int cnt = Math.min(nb, d.n - n0);
            int cols = cnt * ohw;
            Object col = scratch(dt, COL, k * cols);
            // one FP32 image: the product goes straight into the output, the bias is added there
            boolean direct = cnt == 1 && dt == DType.FP32;
            float[] buf = direct ? null : SCRATCH.get(OUT, og * cols);
            for (int g = 0; g < groups; g++) {
                for (int j = 0; j < cnt; j++) {
                    lower(geo, storage(xc), xc.offset + ((n0 + j) * d.cin + g * cg) * d.h * d.w, col, j * ohw, cols);
                }
                if (direct) {
                    int at = (n0 * d.cout + g * og) * ohw;
                    product(dt, false, false, og, cols, k, storage(wc), wc.offset + g * og * k, k, col, 0, cols, 0f,
                            out.floats, at, cols);
                    if (bv != null) {
                        addBias(out.floats, at, bv, g * og, og, ohw);
                    }
                    continue;
                }
                product(dt, false, false, og, cols, k, storage(wc), wc.offset + g * og * k, k, col, 0, cols, 0f, buf,
                        0, cols);
                for (int j = 0; j < cnt; j++) {
                    storeRows(out, ((n0 + j) * d.cout + g * og) * ohw, buf, j * ohw, cols, bv, g * og, og, ohw);
                }
            }
        });
        return Autograd.record(out, op, grad -> conv2dBackward(grad, xc, wc, x, w, bias, d, geo, og), x, w, bias);
    }

    /** The storage array of {@code t}: {@code float[]} for FP32, the {@code short[]} bit patterns else. */
    private static Object storage(Tensor t) {
        return t.dtype == DType.FP32 ? t.floats : t.shorts;
    }

    /** This thread's buffer {@code index} of at least {@code size} elements of {@code dt} (float[] or short[]). */
    private static Object scratch(DType dt, int index, int size) {
        return dt == DType.FP32 ? SCRATCH.get(index, size) : SCRATCH.getShorts(index, size);
    }

    /**
     * {@link Im2col#im2col} of the image at {@code src[off ..]} into columns {@code colOff ..} of
     * {@code col}, rows {@code ld} apart; FP32 or 16-bit as {@code src}.
     */
    private static void lower(Im2col.Geometry geo, Object src, int off, Object col, int colOff, int ld) {
        if (src instanceof float[] f) {
            Im2col.im2col(geo, f, off, (float[]) col, colOff, ld);
        } else {
            Im2col.im2col(geo, (short[]) src, off, (short[]) col, colOff, ld);
        }
    }

    /**
     * {@code C = op(A) op(B) + beta C} into FP32 {@code c}: {@link Gemm#sgemm} when {@code dt} is
     * FP32 ({@code a}, {@code b} are {@code float[]}), else {@link Gemm#gemm16} on {@code dt}'s bit
     * patterns ({@code short[]}).
     */
    private static void product(DType dt, boolean transA, boolean transB, int m, int n, int k, Object a, int aOff,
                                int lda, Object b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (dt == DType.FP32) {
            Gemm.sgemm(transA, transB, m, n, k, (float[]) a, aOff, lda, (float[]) b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            Gemm.gemm16(dt, transA, transB, m, n, k, (short[]) a, aOff, lda, (short[]) b, bOff, ldb, beta, c, cOff,
                    ldc);
        }
    }

    /**
     * The first {@code numel} values of the incoming gradient {@code gv} in {@code dt}: {@code gv}
     * itself for FP32; else its bit patterns in the calling thread's {@link #GRAD} buffer. The walk
     * rounded a 16-bit output's gradient to that dtype before this rule runs ({@link Autograd}), so
     * narrowing it is exact: the 16-bit product sees the values the FP32 one would.
     */
    private static Object gradStorage(DType dt, float[] gv, int numel) {
        if (dt == DType.FP32) {
            return gv;
        }
        short[] bits = SCRATCH.getShorts(GRAD, numel);
        Conversions.narrow(dt, gv, 0, bits, 0, numel);
        return bits;
    }

    /** {@code c[at + r*cols + i] += bias[b0 + r]} for {@code r < rows}, {@code i < cols}. */
    private static void addBias(float[] c, int at, float[] bias, int b0, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float b = bias[b0 + r];
            for (int i = at + r * cols, end = i + cols; i < end; i++) {
                c[i] += b;
            }
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
     * Rows {@code r < rows} of {@code cols} floats at {@code buf[at + r*ld]} plus the bias
     * {@code bias[b0 + r]} (FP32; none when null) into {@code out} from {@code off}, rounded once to
     * its dtype; a 16-bit output has the bias added in {@code buf} first.
     */
    private static void storeRows(Tensor out, int off, float[] buf, int at, int ld, float[] bias, int b0, int rows,
                                  int cols) {
        for (int r = 0; r < rows; r++) {
            int src = at + r * ld;
            int to = off + r * cols;
            if (out.dtype == DType.FP32) {
                if (bias == null) {
                    System.arraycopy(buf, src, out.floats, to, cols);
                } else {
                    // the add and the copy in one pass
                    float b = bias[b0 + r];
                    float[] o = out.floats;
                    for (int i = 0; i < cols; i++) {
                        o[to + i] = buf[src + i] + b;
                    }
                }
            } else {
                if (bias != null) {
                    addBias(buf, src, bias, b0 + r, 1, cols);
                }
                Conversions.narrow(out.dtype, buf, src, out.shorts, to, cols);
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
     * Per image n and group g (products in x's dtype, accumulated into FP32):
     *   col_n = im2col(x_n);  gW_part += gY_n col_n^T  (images of a part in order, parts added in order)
     *   gx_n = col2im(W^T gY_n)
     * The incoming gradient is FP32 holding values of x's dtype (the walk rounded it); a 16-bit one
     * is narrowed to those bits exactly (gradStorage) for the 16-bit products.
     */
    private static Tensor[] conv2dBackward(Tensor grad, Tensor xc, Tensor wc, Tensor x, Tensor w, Tensor bias, Dims d,
                                           Im2col.Geometry geo, int og) {
        float[] gv = grad.readFloats();
        DType dt = xc.dtype;
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
        Object gs = needW || needX ? gradStorage(dt, gv, d.n * d.cout * ohw) : null;
        int img = d.cin * d.h * d.w;
        float[] gxv = needX ? GradientBuffers.take(d.n * img) : null; // each part zeroes its images
        int nb = imagesPerGemm(d.n, ohw);
        Parallel.forEach(parts, c -> {
            int n0 = (int) ((long) d.n * c / parts);
            int n1 = (int) ((long) d.n * (c + 1) / parts);
            float[] gwTo = c == 0 ? gwv : partial;
            int gwOff = c == 0 ? 0 : (c - 1) * wn;
            Object col = needW ? scratch(dt, COL, k * ohw) : null;
            int most = Math.min(nb, n1 - n0) * ohw;
            float[] dcol = needX ? SCRATCH.get(OUT, k * most) : null;
            Object gyb = needX ? scratch(dt, GRAD_BLOCK, og * most) : null;
            if (needX) {
                Arrays.fill(gxv, n0 * img, n1 * img, 0f);
            }
            for (int b0 = n0; b0 < n1; b0 += nb) {
                int cnt = Math.min(nb, n1 - b0);
                int cols = cnt * ohw;
                for (int g = 0; g < groups; g++) {
                    if (needW) {
                        for (int n = b0; n < b0 + cnt; n++) {
                            int gOff = (n * d.cout + g * og) * ohw;
                            lower(geo, storage(xc), xc.offset + (n * d.cin + g * cg) * d.h * d.w, col, 0, ohw);
                            product(dt, false, true, og, k, ohw, gs, gOff, ohw, col, 0, ohw, n == n0 ? 0f : 1f,
                                    gwTo, gwOff + g * og * k, k);
                        }
                    }
                    if (needX) {
                        // the block's gY side by side, [og, cnt*ohw]; one GEMM W^T gY; col2im per image
                        for (int j = 0; j < cnt; j++) {
                            int gOff = ((b0 + j) * d.cout + g * og) * ohw;
                            for (int r = 0; r < og; r++) {
                                System.arraycopy(gs, gOff + r * ohw, gyb, r * cols + j * ohw, ohw);
                            }
                        }
                        product(dt, true, false, k, cols, og, storage(wc), wc.offset + g * og * k, k, gyb, 0, cols, 0f,
                                dcol, 0, cols);
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

    /**
     * Per channel, the double sum over batch and positions: each image's run of {@code hw} as four
     * interleaved partial sums (element {@code i} into sum {@code i mod 4}, then
     * {@code (s0 + s1) + (s2 + s3)}; four add chains instead of one, whose latency bounded this
     * pass), the runs added in batch order; channels in parallel.
     */
    private static Tensor biasGrad(float[] gv, int n, int c, int hw) {
        float[] gb = new float[c];
        Parallel.forRange(c, Math.max(1, Grain.ELEMENTWISE / Math.max(1, n * hw)), (from, to) -> {
            for (int o = from; o < to; o++) {
                double s = 0;
                for (int b = 0; b < n; b++) {
                    s += BatchNormOp.sum(gv, (b * c + o) * hw, hw);
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
        Tensor out = Tensor.zeros(dt, n, cout, oh, ow);
        Parallel.forEach(n, b -> {
            float[] cols = SCRATCH.get(COL, k * hw);
            float[] buf = SCRATCH.get(OUT, coutG * img);
            int xBase = xc.offset + b * cin * hw;
            for (int g = 0; g < groups; g++) {
                product(dt, true, false, k, hw, cinG, storage(wc), wc.offset + g * cinG * k, k, storage(xc),
                        xBase + g * cinG * hw, hw, 0f, cols, 0, hw);
                Arrays.fill(buf, 0, coutG * img, 0f);
                Im2col.col2im(geo, cols, buf, 0);
                storeRows(out, (b * cout + g * coutG) * img, buf, 0, img, bv, g * coutG, coutG, img);
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
            Object gs = gradStorage(dt, gv, n * cout * img);
            Parallel.forEach(parts, c -> {
                int b0 = (int) ((long) n * c / parts);
                int b1 = (int) ((long) n * (c + 1) / parts);
                float[] gwTo = c == 0 ? gwv : partial;
                int gwOff = c == 0 ? 0 : (c - 1) * wn;
                Object dcols = scratch(dt, COL, k * hw);
                for (int b = b0; b < b1; b++) {
                    int xBase = xc.offset + b * cin * hw;
                    for (int g = 0; g < groups; g++) {
                        int wOff = g * cinG * k;
                        lower(geo, gs, (b * cout + g * coutG) * img, dcols, 0, hw);
                        if (needX) {
                            product(dt, false, false, cinG, hw, k, storage(wc), wc.offset + wOff, k, dcols, 0, hw,
                                    0f, gxv, (b * cin + g * cinG) * hw, hw);
                        }
                        if (needW) {
                            product(dt, false, true, cinG, k, hw, storage(xc), xBase + g * cinG * hw, hw, dcols, 0,
                                    hw, b == b0 ? 0f : 1f, gwTo, gwOff + wOff, k);
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
}
