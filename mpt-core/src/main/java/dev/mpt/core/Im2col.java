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
