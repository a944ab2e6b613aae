package dev.mpt.core;

/**
 * Lowering of a 2-D convolution to a matrix product. For an image of {@code c x h x w} and a
 * kernel of {@code kh x kw}, the column matrix has {@code c*kh*kw} rows (channel, kernel row,
 * kernel column) and {@code oh*ow} columns (output positions); entry (r, p) is the input pixel
 * under kernel tap r at output position p, or 0 in the padding.
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
    }

    private Im2col() {
    }

    /** Fills {@code col[0 .. rows*cols)} from the image at {@code src[off ..]}. */
    static void im2col(Geometry g, float[] src, int off, float[] col) {
        Conv2dSpec s = g.spec;
        int ohw = g.oh * g.ow;
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = ((c * g.kh + ki) * g.kw + kj) * ohw;
                    for (int oy = 0; oy < g.oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                        int dst = row + oy * g.ow;
                        if (iy < 0 || iy >= g.h) {
                            java.util.Arrays.fill(col, dst, dst + g.ow, 0f);
                            continue;
                        }
                        int base = off + (c * g.h + iy) * g.w;
                        for (int ox = 0; ox < g.ow; ox++) {
                            int ix = ox * s.strideW() - s.padW() + kj * s.dilationW();
                            col[dst + ox] = ix >= 0 && ix < g.w ? src[base + ix] : 0f;
                        }
                    }
                }
            }
        }
    }

    /** As {@link #im2col(Geometry, float[], int, float[])} for 16-bit bit patterns (0 is +0). */
    static void im2col(Geometry g, short[] src, int off, short[] col) {
        Conv2dSpec s = g.spec;
        int ohw = g.oh * g.ow;
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = ((c * g.kh + ki) * g.kw + kj) * ohw;
                    for (int oy = 0; oy < g.oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                        int dst = row + oy * g.ow;
                        if (iy < 0 || iy >= g.h) {
                            java.util.Arrays.fill(col, dst, dst + g.ow, (short) 0);
                            continue;
                        }
                        int base = off + (c * g.h + iy) * g.w;
                        for (int ox = 0; ox < g.ow; ox++) {
                            int ix = ox * s.strideW() - s.padW() + kj * s.dilationW();
                            col[dst + ox] = ix >= 0 && ix < g.w ? src[base + ix] : 0;
                        }
                    }
                }
            }
        }
    }

    /** Adds each column entry back onto its image pixel: {@code img[off + pixel] += col[r, p]}. */
    static void col2im(Geometry g, float[] col, float[] img, int off) {
        Conv2dSpec s = g.spec;
        int ohw = g.oh * g.ow;
        for (int c = 0; c < g.c; c++) {
            for (int ki = 0; ki < g.kh; ki++) {
                for (int kj = 0; kj < g.kw; kj++) {
                    int row = ((c * g.kh + ki) * g.kw + kj) * ohw;
                    for (int oy = 0; oy < g.oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + ki * s.dilationH();
                        if (iy < 0 || iy >= g.h) {
                            continue;
                        }
                        int base = off + (c * g.h + iy) * g.w;
                        int src = row + oy * g.ow;
                        for (int ox = 0; ox < g.ow; ox++) {
                            int ix = ox * s.strideW() - s.padW() + kj * s.dilationW();
                            if (ix >= 0 && ix < g.w) {
                                img[base + ix] += col[src + ox];
                            }
                        }
                    }
                }
            }
        }
    }
}
