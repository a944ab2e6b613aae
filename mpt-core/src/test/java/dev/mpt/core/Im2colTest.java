package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The row-range {@link Im2col#im2col} and {@link Im2col#col2im} against their per-element twins:
 * both only copy (16-bit bit patterns, compared widened exactly) or add in the same order, so the
 * results must be bit-identical,
 * for every dtype and for geometries whose padding, stride or dilation push whole rows or columns
 * of taps outside the image.
 */
class Im2colTest {

    private static final Conv2dSpec[] SPECS = {
        Conv2dSpec.DEFAULT, Conv2dSpec.of(1, 1), Conv2dSpec.of(2, 1), Conv2dSpec.of(3, 2),
        new Conv2dSpec(1, 2, 2, 0, 1, 1, 1), new Conv2dSpec(2, 3, 0, 4, 1, 1, 1),
        Conv2dSpec.of(1, 2).withDilation(2), new Conv2dSpec(2, 2, 3, 3, 3, 2, 1),
    };
    private static final int[][] IMAGES = {{1, 1, 1}, {2, 5, 7}, {3, 8, 3}, {1, 13, 16}};
    private static final int[][] KERNELS = {{1, 1}, {3, 3}, {2, 5}};

    @Test
    void fastLoweringsEqualTheirPlainTwins() {
        SplittableRandom rng = new SplittableRandom(5);
        int cases = 0;
        for (Conv2dSpec s : SPECS) {
            for (int[] im : IMAGES) {
                for (int[] k : KERNELS) {
                    int oh = s.outH(im[1], k[0]);
                    int ow = s.outW(im[2], k[1]);
                    if (oh < 1 || ow < 1) {
                        continue;
                    }
                    Im2col.Geometry g = new Im2col.Geometry(im[0], im[1], im[2], k[0], k[1], oh, ow, s);
                    int off = 3; // the image does not start at index 0 of its storage
                    for (DType dt : DType.values()) {
                        Tensor x = Tensor.randn(rng, dt, off + g.c() * g.h() * g.w());
                        float[] xf = x.toFloatArray();
                        float[] want = new float[g.rows() * g.cols()];
                        Im2col.im2colPlain(g, xf, off, want);
                        float[] got = new float[want.length];
                        if (dt == DType.FP32) {
                            java.util.Arrays.fill(got, Float.NaN); // every entry must be written
                            Im2col.im2col(g, x.floats, off, got);
                        } else {
                            short[] bits = new short[want.length];
                            java.util.Arrays.fill(bits, (short) 0x7fc1); // NaN in both formats
                            Im2col.im2col(g, x.shorts, off, bits);
                            Conversions.widen(dt, bits, 0, got, 0, bits.length);
                        }
                        assertArrayEquals(want, got, s + " " + dt + " " + g);
                    }
                    float[] col = Tensor.randn(rng, DType.FP32, g.rows() * g.cols()).toFloatArray();
                    float[] base = Tensor.randn(rng, DType.FP32, off + g.c() * g.h() * g.w()).toFloatArray();
                    float[] want = base.clone();
                    Im2col.col2imPlain(g, col, want, off);
                    float[] got = base.clone();
                    Im2col.col2im(g, col, got, off);
                    assertArrayEquals(want, got, s + " col2im " + g);
                    // the same columns as a block of a wider matrix (several images side by side);
                    // NaN around it: nothing outside the block may be read
                    int ld = g.cols() + 5;
                    int colOff = 2;
                    float[] wide = new float[colOff + g.rows() * ld];
                    java.util.Arrays.fill(wide, Float.NaN);
                    for (int r = 0; r < g.rows(); r++) {
                        System.arraycopy(col, r * g.cols(), wide, colOff + r * ld, g.cols());
                    }
                    float[] gotBlock = base.clone();
                    Im2col.col2im(g, wide, colOff, ld, gotBlock, off);
                    assertArrayEquals(want, gotBlock, s + " col2im block " + g);
                    cases++;
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(cases > 50, "cases " + cases);
    }
}
