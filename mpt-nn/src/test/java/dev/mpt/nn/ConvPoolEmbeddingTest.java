package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Conv2dSpec;
import dev.mpt.core.Pool2dSpec;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvPoolEmbeddingTest {

    @Test
    void conv2dMatchesDirectDoubleConvolutionAndGradients() {
        var rng = new SplittableRandom(1);
        var conv = new Conv2d(2, 3, 3, 1, 1, rng);
        Tensor x = Tensor.randn(rng, DType.FP32, 2, 2, 4, 5);
        Tensor y = conv.forward(x);
        assertArrayEquals(new int[] {2, 3, 4, 5}, y.shape());
        float[] w = conv.weight().value().toFloatArray();
        float[] b = conv.bias().value().toFloatArray();
        for (int n = 0; n < 2; n++) {
            for (int o = 0; o < 3; o++) {
                for (int r = 0; r < 4; r++) {
                    for (int q = 0; q < 5; q++) {
                        double ref = b[o];
                        double s = Math.abs(b[o]);
                        for (int c = 0; c < 2; c++) {
                            for (int i = 0; i < 3; i++) {
                                for (int j = 0; j < 3; j++) {
                                    int rr = r + i - 1;
                                    int qq = q + j - 1;
                                    if (rr >= 0 && rr < 4 && qq >= 0 && qq < 5) {
                                        double p = (double) x.get(n, c, rr, qq) * w[((o * 2 + c) * 3 + i) * 3 + j];
                                        ref += p;
                                        s += Math.abs(p);
                                    }
                                }
                            }
                        }
                        // 18 products summed in FP32 plus the bias: (18 + 2) 2^-24 sum |terms|
                        assertEquals(ref, y.get(n, o, r, q), 20 * 0x1p-24 * s);
                    }
                }
            }
        }
        GradCheck.assertGradients(in -> {
            conv.weight().set(in[1]);
            conv.bias().set(in[2]);
            return conv.forward(in[0]);
        }, Tensor.randn(rng, DType.FP32, 1, 2, 3, 3), conv.weight().value().detach(), conv.bias().value().detach());
        double bound = 1 / Math.sqrt(2 * 9);
        for (float v : conv.weight().value().toFloatArray()) {
            assertTrue(Math.abs(v) <= bound);
        }
        conv.to(DType.FP16);
        assertEquals(DType.FP16, conv.forward(x.to(DType.FP16)).dtype());
        assertThrows(IllegalArgumentException.class, () -> conv.forward(x));
        assertThrows(IllegalArgumentException.class, () -> conv.forward(Tensor.ones(DType.FP16, 1, 3, 4, 4)));
        assertThrows(IllegalArgumentException.class, () -> conv.forward(Tensor.ones(DType.FP16, 2, 4, 4)));
        assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(3, 4, 3, Conv2dSpec.DEFAULT.withGroups(2), true, new SplittableRandom(1)));
    }

    @Test
    void convTransposeShapesAndGradients() {
        var rng = new SplittableRandom(2);
        var up = new ConvTranspose2d(3, 2, 3, Conv2dSpec.of(2, 1), 1, true, rng);
        Tensor x = Tensor.randn(rng, DType.FP32, 1, 3, 3, 3);
        // (3 - 1) 2 - 2 + (3 - 1) + 1 + 1 = 6
        assertArrayEquals(new int[] {1, 2, 6, 6}, up.forward(x).shape());
        assertArrayEquals(new int[] {3, 2, 3, 3}, up.weight().shape());
        GradCheck.assertGradients(in -> {
            up.weight().set(in[1]);
            return up.forward(in[0]);
        }, x, up.weight().value().detach());
        assertThrows(IllegalArgumentException.class,
                () -> new ConvTranspose2d(3, 2, 3, Conv2dSpec.of(2, 1), 2, true, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> up.forward(Tensor.ones(1, 2, 3, 3)));
    }

    /**
     * A (kh, kw) kernel with per-dim stride, padding and dilation (PyTorch's
     * {@code nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2))}) against a
     * direct double loop: 12 products and the bias in FP32, {@code (12 + 1) u_32 sum|terms|}.
     */
    @Test
    void conv2dWithNonSquareKernelStridePaddingAndDilation() {
        var rng = new SplittableRandom(4);
        Conv2dSpec spec = Conv2dSpec.DEFAULT.withStride(2, 1).withPadding(1, 1).withDilation(1, 2);
        var conv = new Conv2d(2, 3, 3, 2, spec, true, rng);
        assertArrayEquals(new int[] {3, 2, 3, 2}, conv.weight().shape());
        // fanIn = 2 * 3 * 2 = 12
        double bound = 1 / Math.sqrt(12);
        for (float v : conv.bias().value().toFloatArray()) {
            assertTrue(Math.abs(v) <= bound);
        }
        int h = 7;
        int w = 5;
        Tensor x = Tensor.randn(rng, DType.FP32, 2, 2, h, w);
        Tensor y = conv.forward(x);
        // floor((7 + 2 - 2 - 1) / 2) + 1 = 4, floor((5 + 2 - 2 - 1) / 1) + 1 = 5
        assertArrayEquals(new int[] {2, 3, 4, 5}, y.shape());
        float[] wv = conv.weight().value().toFloatArray();
        float[] bv = conv.bias().value().toFloatArray();
        for (int n = 0; n < 2; n++) {
            for (int o = 0; o < 3; o++) {
                for (int r = 0; r < 4; r++) {
                    for (int q = 0; q < 5; q++) {
                        double ref = bv[o];
                        double s = Math.abs(bv[o]);
                        for (int c = 0; c < 2; c++) {
                            for (int i = 0; i < 3; i++) {
                                for (int j = 0; j < 2; j++) {
                                    int rr = 2 * r - 1 + i;
                                    int qq = q - 1 + 2 * j;
                                    if (rr >= 0 && rr < h && qq >= 0 && qq < w) {
                                        double p = (double) x.get(n, c, rr, qq) * wv[((o * 2 + c) * 3 + i) * 2 + j];
                                        ref += p;
                                        s += Math.abs(p);
                                    }
                                }
                            }
                        }
                        assertEquals(ref, y.get(n, o, r, q), 13 * 0x1p-24 * s);
                    }
                }
            }
        }
        GradCheck.assertGradients(in -> {
            conv.weight().set(in[1]);
            return conv.forward(in[0]);
        }, Tensor.randn(rng, DType.FP32, 1, 2, 5, 4), conv.weight().value().detach());
        assertTrue(conv.toString().contains("kernel=3x2"), conv.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> new Conv2d(2, 3, 3, 0, spec, true, rng));
        assertEquals("Conv2d: kernelW must be >= 1, got 0", e.getMessage());
        var up = new ConvTranspose2d(2, 4, 3, 1, Conv2dSpec.DEFAULT.withStride(2, 1), 0, true, rng);
        assertArrayEquals(new int[] {2, 4, 3, 1}, up.weight().shape());
        // (in - 1) stride + (k - 1) + 1: (3 - 1) 2 + 2 + 1 = 7 rows, (3 - 1) 1 + 0 + 1 = 3 columns
        assertArrayEquals(new int[] {1, 4, 7, 3}, up.forward(Tensor.ones(1, 2, 3, 3)).shape());
    }

    @Test
    void poolingLayersTakeASpec() {
        Tensor x = Tensor.arange(15).reshape(1, 1, 3, 5);
        // nn.MaxPool2d((2, 3), stride=(1, 2), ceil_mode=True): rows 0-1 and 1-2; columns 0-2, 2-4
        var max = new MaxPool2d(Pool2dSpec.of(2, 3).withStride(1, 2).withCeilMode(true));
        assertArrayEquals(new float[] {7, 9, 12, 14}, max.forward(x).toFloatArray());
        // nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False): the corner window holds
        // pixels 0, 1, 5, 6 (mean 3); with the padding counted it divides by 9
        var avg = new AvgPool2d(Pool2dSpec.of(3, 2, 1).withCountIncludePad(false));
        assertEquals(3f, avg.forward(x).toFloatArray()[0]);
        // 12 times the rounded 1/9, rounded: two roundings of u_32 each
        assertEquals(12.0 / 9, new AvgPool2d(3, 2, 1).forward(x).toFloatArray()[0], 2 * 0x1p-24 * 12.0 / 9);
        assertEquals("MaxPool2d(kernel=2x3, stride=1x2, padding=0x0, dilation=1x1, ceilMode=true)", max.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(Pool2dSpec.of(3).withDilation(2, 2)));
        assertEquals("AvgPool2d: dilation must be 1x1 (PyTorch's AvgPool2d has none), got 2x2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(3, 1, 2));
        assertEquals("Pool2dSpec: padding 2x2 exceeds half the kernel 3x3 (at most 1x1, as in PyTorch)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> max.forward(Tensor.ones(1, 1, 1, 5)));
        assertTrue(e.getMessage().startsWith("maxPool2d: kernel 2x3 (dilation 1x1) does not fit input [1, 1, 1, 5]"),
                e.getMessage());
    }

    @Test
    void poolingValuesAndGradients() {
        Tensor x = Tensor.arange(16).reshape(1, 1, 4, 4);
        assertArrayEquals(new float[] {5, 7, 13, 15}, new MaxPool2d(2).forward(x).toFloatArray());
        assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f}, new AvgPool2d(2).forward(x).toFloatArray());
        Tensor r = Tensor.randn(new SplittableRandom(3), DType.FP32, 2, 2, 4, 4);
        GradCheck.assertGradients(in -> new MaxPool2d(2).forward(in[0]), r);
        GradCheck.assertGradients(in -> new AvgPool2d(3, 1, 1).forward(in[0]), r);
        assertEquals(DType.FP16, new MaxPool2d(2).forward(r.to(DType.FP16)).dtype());
        assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(0));
        assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(2).forward(Tensor.ones(4, 4)));
    }

    @Test
    void embeddingLooksUpRowsAndScattersGradients() {
        var emb = new Embedding(5, 3, new SplittableRandom(4));
        float[] table = emb.weight().value().toFloatArray();
        Tensor y = emb.lookup(new int[] {4, 0, 4, 2}, 2, 2);
        assertArrayEquals(new int[] {2, 2, 3}, y.shape());
        float[] ys = y.toFloatArray();
        int[] ids = {4, 0, 4, 2};
        for (int k = 0; k < 4; k++) {
            for (int d = 0; d < 3; d++) {
                assertEquals(table[ids[k] * 3 + d], ys[k * 3 + d]);
            }
        }
        assertArrayEquals(ys, emb.forward(Tensor.of(new float[] {4, 0, 4, 2}, 2, 2)).toFloatArray());
        emb.lookup(ids, 4).sum().backward();
        float[] g = emb.weight().grad().toFloatArray();
        float[] counts = {1, 0, 1, 0, 2};
        for (int r = 0; r < 5; r++) {
            for (int d = 0; d < 3; d++) {
                assertEquals(counts[r], g[r * 3 + d], "row " + r);
            }
        }
        emb.to(DType.FP16);
        assertEquals(DType.FP16, emb.lookup(ids, 4).dtype());
        var e = assertThrows(IllegalArgumentException.class, () -> emb.lookup(new int[] {5}, 1));
        assertTrue(e.getMessage().contains("id 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> emb.lookup(new int[] {1, 2}, 3));
        assertThrows(IllegalArgumentException.class, () -> emb.forward(Tensor.of(new float[] {0.5f}, 1)));
        assertThrows(IllegalArgumentException.class, () -> emb.forward(Tensor.of(new float[] {-1f}, 1)));
    }
}
