package dev.mpt.core;

import java.util.Arrays;

/**
 * Lowering of a 2-D convolution to a matrix product. For an image of {@code c x h x w} and a
 * kernel of {@code kh x kw}, the column matrix has {@code c*kh*kw} rows (channel, kernel row,
 * kernel column) and {@code oh*ow} columns (output positions); entry (r, p) is the input pixel
 * under kernel tap r at output position p, or 0 in the padding.
 *
 * <p>The column matrix has the image's dtype: FP32 values, or the bit patterns of FP16 and BF16
 * values copied unchanged (lowering only moves values, so it is exact in any format, and the 16-bit
 * GEMM that follows widens them while packing or hands them to a native BF16 product). It may be
 * a block of columns of a wider matrix (several images side by side, one GEMM for all). The fast
 * methods work on whole rows of output positions: for each kernel tap they compute the range of
 * output columns that falls inside the image once, copy (or add) that range in one loop and zero
 * the padding around it. The {@code Plain} methods are their per-element specification.
 */
final class Im2col {

    /** Image and kernel geometry of one lowering. */
    record Geometry(int c, int h, int w, int kh, int kw, int oh, int ow, Conv2dSpec spec) {
        int rows() {
            return c * kh * kw;
        }

        int cols() {
            return oh * ow;
        }

        /** First output column whose input column {@code ox * strideW + shift} is >= 0. */
        int firstCol(int shift) {
            int sw = spec.strideW();
            return Math.min(ow, shift >= 0 ? 0 : (-shift + sw - 1) / sw);
        }

        /** One past the last output column whose input column {@code ox * strideW + shift} is < w. */
        int endCol(int shift) {
            int sw = spec.strideW();
            return w - shift <= 0 ? 0 : Math.min(ow, (w - shift + sw - 1) / sw);
        }
    }

    private Im2col() {
    }

    /** Fills {@code col[0 .. rows*cols)} from the FP32 image in {@code src[off ..]}. */
    static void im2col(Geometry g, float[] src, int off, float[] col) {
        lower(g, src, off, col, 0, g.cols());
    }

    /**
     * As {@link #im2col(Geometry, float[], int, float[])}, into the columns
     * {@code [colOff, colOff + cols)} of a wider matrix whose rows are {@code ld} floats apart
     * (several images side by side, one GEMM for all): entry (r, p) goes to {@code col[colOff + r*ld + p]}.
     */
    static void im2col(Geometry g, float[] src, int off, float[] col, int colOff, int ld) {
        lower(g, src, off, col, colOff, ld);
    }

    /**
     * Fills {@code col[0 .. rows*cols)} from the 16-bit image in {@code src[off ..]}: the FP16 or
     * BF16 bit patterns copied unchanged, 0 (+0 in both formats) in the padding.
     */
    static void im2col(Geometry g, short[] src, int off, short[] col) {
        im2col(g, src, off, col, 0, g.cols());
    }

    /** As {@link #im2col(Geometry, short[], int, short[])}, into columns {@code colOff ..} of rows {@code ld} apart. */
    static void im2col(Geometry g, short[] src, int off, short[] col, int colOff, int ld) {
        Conv2dSpec s = g.spec;
        int sw = s.strideW();
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = colOff + ((c * g.kh + ki) * g.kw + kj) * ld;
                    int shift = kj * s.dilationW() - s.padW();
                    int lo = g.firstCol(shift);
                    int hi = Math.max(lo, g.endCol(shift));
                    for (int oy = 0; oy < g.oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                        int dst = row + oy * g.ow;
                        if (iy < 0 || iy >= g.h) {
                            Arrays.fill(col, dst, dst + g.ow, (short) 0);
                            continue;
                        }
                        for (int i = dst; i < dst + lo; i++) {
                            col[i] = 0;
                        }
                        if (hi > lo) {
                            int from = off + (c * g.h + iy) * g.w + lo * sw + shift;
                            if (sw == 1) {
                                System.arraycopy(src, from, col, dst + lo, hi - lo);
                            } else {
                                for (int i = 0, d = dst + lo; i < hi - lo; i++) {
                                    col[d + i] = src[from + i * sw];
                                }
                            }
                        }
                        for (int i = dst + hi; i < dst + g.ow; i++) {
                            col[i] = 0;
                        }
                    }
                }
            }
        }
    }

    private static void lower(Geometry g, float[] f, int off, float[] col, int colOff, int ld) {
        Conv2dSpec s = g.spec;
        int sw = s.strideW();
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = colOff + ((c * g.kh + ki) * g.kw + kj) * ld;
                    int shift = kj * s.dilationW() - s.padW();
                    int lo = g.firstCol(shift);
                    int hi = Math.max(lo, g.endCol(shift));
                    for (int oy = 0; oy < g.oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                        int dst = row + oy * g.ow;
                        if (iy < 0 || iy >= g.h) {
                            Arrays.fill(col, dst, dst + g.ow, 0f);
                            continue;
                        }
                        // the edges are a column or two of padding: a loop, not a call to Arrays.fill
                        for (int i = dst; i < dst + lo; i++) {
                            col[i] = 0f;
                        }
                        if (hi > lo) {
                            int from = off + (c * g.h + iy) * g.w + lo * sw + shift;
                            copyRow(f, from, sw, col, dst + lo, hi - lo);
                        }
                        for (int i = dst + hi; i < dst + g.ow; i++) {
                            col[i] = 0f;
                        }
                    }
                }
            }
        }
    }

    /** {@code col[d + i] = src[from + i * stride]}, for {@code i < len}. */
    private static void copyRow(float[] f, int from, int stride, float[] col, int d, int len) {
        if (stride == 1) {
            System.arraycopy(f, from, col, d, len);
        } else {
            for (int i = 0; i < len; i++) {
                col[d + i] = f[from + i * stride];
            }
        }
    }

    /**
     * Adds each column entry back onto its image pixel: {@code img[off + pixel] += col[r, p]}, in the
     * order of {@link #col2imPlain} (so the sums are bit-identical to it).
     */
    static void col2im(Geometry g, float[] col, float[] img, int off) {
        col2im(g, col, 0, g.cols(), img, off);
    }

    /** As {@link #col2im(Geometry, float[], float[], int)} from columns {@code colOff ..} of rows {@code ld} apart. */
    static void col2im(Geometry g, float[] col, int colOff, int ld, float[] img, int off) {
        Conv2dSpec s = g.spec;
        int sw = s.strideW();
        if (g.kw == 3 && sw == 1 && s.dilationW() == 1) {
            col2imRows3(g, col, colOff, ld, img, off);
            return;
        }
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = colOff + ((c * g.kh + ki) * g.kw + kj) * ld;
                    int shift = kj * s.dilationW() - s.padW();
                    int lo = g.firstCol(shift);
                    int hi = Math.max(lo, g.endCol(shift));
                    for (int oy = 0; oy < g.oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                        if (iy < 0 || iy >= g.h) {
                            continue;
                        }
                        int to = off + (c * g.h + iy) * g.w + lo * sw + shift;
                        int from = row + oy * g.ow + lo;
                        int len = hi - lo;
                        if (sw == 1) {
                            for (int i = 0; i < len; i++) {
                                img[to + i] += col[from + i];
                            }
                        } else {
                            for (int i = 0; i < len; i++) {
                                img[to + i * sw] += col[from + i];
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * {@link #col2im} for 3 kernel columns, stride and dilation 1 across: per output row {@code oy}
     * of a kernel row, the three taps' columns are added to the image row in one loop, in tap order
     * ({@code ((img + tap0) + tap1) + tap2} where all three reach the pixel, each add rounded as
     * before), so every pixel sees the sums of {@link #col2imPlain} in its order, (kernel row,
     * kernel column), with a third of the loops and image loads and stores.
     */
    private static void col2imRows3(Geometry g, float[] col, int colOff, int ld, float[] img, int off) {
        Conv2dSpec s = g.spec;
        // tap kj reaches pixel x from column x - sh[kj], for x in [lo[kj] + sh[kj], hi[kj] + sh[kj])
        int[] sh = new int[3];
        int[] lo = new int[3];
        int[] hi = new int[3];
        int from = g.w;
        int to = 0;
        int inFrom = 0;
        int inTo = g.w;
        for (int kj = 0; kj < 3; kj++) {
            sh[kj] = kj - s.padW();
            lo[kj] = g.firstCol(sh[kj]);
            hi[kj] = Math.max(lo[kj], g.endCol(sh[kj]));
            if (hi[kj] > lo[kj]) {
                from = Math.min(from, lo[kj] + sh[kj]);
                to = Math.max(to, hi[kj] + sh[kj]);
            }
            inFrom = Math.max(inFrom, lo[kj] + sh[kj]);
            inTo = Math.min(inTo, hi[kj] + sh[kj]);
        }
        if (from >= to) {
            return;
        }
        if (inFrom >= inTo) { // no pixel reached by all three taps: all edge
            inFrom = from;
            inTo = from;
        }
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                int r0 = colOff + (c * g.kh + ki) * 3 * ld;
                for (int oy = 0; oy < g.oh; oy++) {
                    int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                    if (iy < 0 || iy >= g.h) {
                        continue;
                    }
                    int p = off + (c * g.h + iy) * g.w;
                    int t0 = r0 + oy * g.ow - sh[0];
                    int t1 = t0 + ld + sh[0] - sh[1];
                    int t2 = t1 + ld + sh[1] - sh[2];
                    for (int x = from; x < inFrom; x++) {
                        img[p + x] = edge(col, t0, t1, t2, x, sh, lo, hi, img[p + x]);
                    }
                    for (int x = inFrom; x < inTo; x++) {
                        img[p + x] = ((img[p + x] + col[t0 + x]) + col[t1 + x]) + col[t2 + x];
                    }
                    for (int x = Math.max(inTo, from); x < to; x++) {
                        img[p + x] = edge(col, t0, t1, t2, x, sh, lo, hi, img[p + x]);
                    }
                }
            }
        }
    }

    /** {@code v} plus, in tap order, the column entries of the taps that reach pixel {@code x}. */
    private static float edge(float[] col, int t0, int t1, int t2, int x, int[] sh, int[] lo, int[] hi, float v) {
        if (x - sh[0] >= lo[0] && x - sh[0] < hi[0]) {
            v += col[t0 + x];
        }
        if (x - sh[1] >= lo[1] && x - sh[1] < hi[1]) {
            v += col[t1 + x];
        }
        if (x - sh[2] >= lo[2] && x - sh[2] < hi[2]) {
            v += col[t2 + x];
        }
        return v;
    }

    /** The specification of {@link #im2col}: one FP32 element at a time. */
    static void im2colPlain(Geometry g, float[] src, int off, float[] col) {
        Conv2dSpec s = g.spec;
        int ohw = g.oh * g.ow;
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = ((c * g.kh + ki) * g.kw + kj) * ohw;
                    for (int oy = 0; oy < g.oh; oy++) {
                        for (int ox = 0; ox < g.ow; ox++) {
                            int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                            int ix = ox * s.strideW() - s.padW() + kj * s.dilationW();
                            boolean inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
                            col[row + oy * g.ow + ox] = inside ? src[off + (c * g.h + iy) * g.w + ix] : 0f;
                        }
                    }
                }
            }
        }
    }

    /** The specification of {@link #col2im}: one element at a time. */
    static void col2imPlain(Geometry g, float[] col, float[] img, int off) {
        Conv2dSpec s = g.spec;
        int ohw = g.oh * g.ow;
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = ((c * g.kh + ki) * g.kw + kj) * ohw;
                    for (int oy = 0; oy < g.oh; oy++) {
                        for (int ox = 0; ox < g.ow; ox++) {
                            int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                            int ix = ox * s.strideW() - s.padW() + kj * s.dilationW();
                            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
                                img[off + (c * g.h + iy) * g.w + ix] += col[row + oy * g.ow + ox];
                            }
                        }
                    }
                }
            }
        }
    }
}
