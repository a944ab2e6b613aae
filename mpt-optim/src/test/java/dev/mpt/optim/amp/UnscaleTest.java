package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.optim.GradientClipping;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Reference: {@code (float) ((double) g / (double) (float) scale)}. A float quotient computed in
 * double and rounded to float is correctly rounded, because double's 53 bits are at least
 * 2 * 24 + 2 (Figueroa, "When is double rounding innocuous?", 1995), so the reference is the
 * exact quotient rounded once, and the kernels must match it bit for bit.
 */
class UnscaleTest {

    private static final double[] SCALES = {1, 0x1p16, 0x1p24, 0x1p-8, 3, 1000, 0.1};

    private static float reference(float g, double scale) {
        return (float) ((double) g / (double) (float) scale);
    }

    private static boolean isFinite(float x) {
        return !Float.isNaN(x) && !Float.isInfinite(x);
    }

    @Test
    void everyFp16PatternMatchesReference() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        for (double scale : SCALES) {
            float[] dst = new float[all.length];
            boolean expectedFinite = true;
            Unscale.unscale(DType.FP16, all, 0, dst, 0, all.length, scale);
            for (int i = 0; i < all.length; i++) {
                float want = reference(Float.float16ToFloat(all[i]), scale);
                assertSameFloat(want, dst[i], "fp16 0x" + Integer.toHexString(i) + " / " + scale);
                expectedFinite &= isFinite(want);
            }
            assertFalse(expectedFinite, "the full pattern set holds inf and NaN");
        }
    }

    @Test
    void everyBf16PatternMatchesReference() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        for (double scale : SCALES) {
            float[] dst = new float[all.length];
            assertFalse(Unscale.unscale(DType.BF16, all, 0, dst, 0, all.length, scale));
            for (int i = 0; i < all.length; i++) {
                float want = reference(Float.intBitsToFloat(i << 16), scale);
                assertSameFloat(want, dst[i], "bf16 0x" + Integer.toHexString(i) + " / " + scale);
            }
        }
    }

    @Test
    void powerOfTwoScaleUnscalesFp16Exactly() {
        // Every finite FP16 value divided by 2^k (k <= 24) is an FP32 normal or zero: exact.
        for (int k : new int[] {0, 1, 8, 16, 24}) {
            double scale = Math.scalb(1.0, k);
            float[] dst = new float[1];
            for (int bits = 0; bits < 0x7c00; bits++) {
                short h = (short) bits;
                assertTrue(Unscale.unscale(DType.FP16, new short[] {h}, 0, dst, 0, 1, scale));
                assertEquals((double) Float.float16ToFloat(h), (double) dst[0] * scale, 0.0);
            }
        }
    }

    @Test
    void extremeFiniteValuesAreFiniteAndExact() {
        short max = Float.floatToFloat16(65504f);
        short minSub = (short) 0x0001;        // 2^-24
        short maxSub = (short) 0x03ff;        // 2^-14 - 2^-24
        short minNormal = (short) 0x0400;     // 2^-14
        short[] g = {max, (short) (max | 0x8000), minSub, (short) 0x8001, maxSub, minNormal, 0, (short) 0x8000};
        float[] dst = new float[g.length];
        assertTrue(Unscale.unscale(DType.FP16, g, 0, dst, 0, g.length, 0x1p16));
        double[] want = {65504 * 0x1p-16, -65504 * 0x1p-16, 0x1p-40, -0x1p-40, (0x1p-14 - 0x1p-24) * 0x1p-16,
                0x1p-30, 0, -0.0};
        for (int i = 0; i < g.length; i++) {
            assertEquals(want[i], dst[i], 0.0, "index " + i);
        }
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(dst[7]), "-0 keeps its sign");
    }

    @Test
    void detectsInfAndEveryNaNPayloadAtEveryPosition() {
        short[] specials = {0x7c00, (short) 0xfc00, 0x7c01, 0x7e00, 0x7fff, (short) 0xfc01, (short) 0xfe00,
                (short) 0xffff, 0x7d55};
        int n = 37;
        for (short special : specials) {
            for (int pos : new int[] {0, 1, 7, 8, 15, 16, 18, n - 1}) {
                short[] g = new short[n];
                for (int i = 0; i < n; i++) {
                    g[i] = Float.floatToFloat16(i * 0.25f - 3f);
                }
                g[pos] = special;
                float[] dst = new float[n];
                assertFalse(Unscale.unscale(DType.FP16, g, 0, dst, 0, n, 1024),
                        "0x" + Integer.toHexString(special & 0xffff) + " at " + pos);
                // outside the range it is not seen
                int from = pos + 1;
                if (from < n) {
                    assertTrue(Unscale.unscale(DType.FP16, g, from, dst, 0, n - from, 1024));
                }
                assertTrue(Unscale.unscale(DType.FP16, g, 0, dst, 0, pos, 1024));
            }
        }
    }

    @Test
    void detectsNonFiniteBf16AndFp32() {
        short[] b = new short[21];
        b[13] = (short) 0x7fc1; // BF16 NaN
        assertFalse(Unscale.unscale(DType.BF16, b, 0, new float[21], 0, 21, 8));
        b[13] = (short) 0xff80; // BF16 -inf
        assertFalse(Unscale.unscale(DType.BF16, b, 0, new float[21], 0, 21, 8));
        b[13] = (short) 0x7f7f; // BF16 max finite
        assertTrue(Unscale.unscale(DType.BF16, b, 0, new float[21], 0, 21, 8));
        for (float bad : new float[] {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY}) {
            float[] f = new float[19];
            f[18] = bad;
            assertFalse(Unscale.unscale(f, 0, new float[19], 0, 19, 2));
            assertTrue(Unscale.unscale(f, 0, new float[19], 0, 18, 2));
        }
    }

    @Test
    void fp32RandomValuesMatchReferenceAndMayRunInPlace() {
        var rnd = new Random(7);
        float[] g = new float[1001];
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(60) - 40));
        }
        g[5] = Float.MIN_VALUE;
        g[6] = Float.MAX_VALUE;
        for (double scale : SCALES) {
            float[] copy = g.clone();
            boolean finite = Unscale.unscale(copy, 0, copy, 0, copy.length, scale);
            boolean expectedFinite = true;
            for (int i = 0; i < g.length; i++) {
                float want = reference(g[i], scale);
                assertSameFloat(want, copy[i], "fp32 " + g[i] + " / " + scale);
                expectedFinite &= isFinite(want);
            }
            // Float.MAX_VALUE divided by a scale below 1 overflows FP32, and must be reported
            assertEquals(expectedFinite, finite, "in place, scale " + scale);
            assertEquals(scale >= 1, finite, "scale " + scale);
        }
    }

    @Test
    void finiteGradientThatOverflowsFp32WhenUnscaledIsReported() {
        short[] g = {Float.floatToFloat16(65504f)};
        assertFalse(Unscale.unscale(DType.FP16, g, 0, new float[1], 0, 1, 0x1p-120));
        assertTrue(Unscale.unscale(DType.FP16, g, 0, new float[1], 0, 1, 0x1p-100));
    }

    @Test
    void kernelsMatchTheirPlainTwin() {
        var rnd = new Random(11);
        for (int len : new int[] {0, 1, 3, 13, 64, 4097}) {
            short[] h = new short[len];
            float[] f = new float[len];
            for (int i = 0; i < len; i++) {
                h[i] = (short) rnd.nextInt(65536);
                f[i] = Float.intBitsToFloat(rnd.nextInt());
            }
            for (double scale : SCALES) {
                float s = Unscale.checkScale(scale);
                float[] fast = new float[len];
                float[] plain = new float[len];
                float[] widened = new float[len];
                for (int i = 0; i < len; i++) {
                    widened[i] = Float.float16ToFloat(h[i]);
                }
                assertEquals(Unscale.plain(widened, plain, s), Unscale.half(h, 0, fast, 0, len, s));
                assertArrayEquals(plain, fast);
                for (int i = 0; i < len; i++) {
                    widened[i] = Float.intBitsToFloat(h[i] << 16);
                }
                assertEquals(Unscale.plain(widened, plain, s), Unscale.bf16(h, 0, fast, 0, len, s));
                assertArrayEquals(plain, fast);
                assertEquals(Unscale.plain(f, plain, s), Unscale.fp32(f, 0, fast, 0, len, s));
                assertArrayEquals(plain, fast);
            }
        }
    }

    @Test
    void parallelPathMatchesOneThreadForEveryPosition() {
        int n = 3 * Unscale.PARALLEL_GRAIN + 17;
        var rnd = new Random(3);
        short[] g = new short[n + 5];
        for (int i = 0; i < g.length; i++) {
            g[i] = Float.floatToFloat16((float) rnd.nextGaussian());
        }
        float[] serial = new float[n];
        boolean finite = Unscale.half(g, 5, serial, 0, n, 4096f);
        assertTrue(finite);
        float[] parallel = new float[n + 2];
        assertTrue(Unscale.unscale(DType.FP16, g, 5, parallel, 2, n, 4096));
        for (int i = 0; i < n; i++) {
            assertEquals(serial[i], parallel[i + 2]);
        }
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(Math.max(2, threads));
            for (int pos : new int[] {5, 5 + n / 2, n + 4}) {
                short keep = g[pos];
                g[pos] = 0x7e00;
                assertFalse(Unscale.unscale(DType.FP16, g, 5, parallel, 2, n, 4096), "NaN at " + pos);
                g[pos] = keep;
            }
            float[] f = new float[n];
            for (int i = 0; i < n; i++) {
                f[i] = (float) rnd.nextGaussian();
            }
            f[n - 1] = Float.NEGATIVE_INFINITY;
            assertFalse(Unscale.unscale(f, 0, new float[n], 0, n, 2));
            f[n - 1] = 1;
            assertTrue(Unscale.unscale(f, 0, new float[n], 0, n, 2));
        } finally {
            Parallel.setThreads(threads);
        }
    }

    /**
     * The fused pass against its two unfused halves: {@code dst} bit for bit as {@code unscale}
     * writes it, the overflow verdict the same, and the square root of the sum bit for bit
     * {@link GradientClipping#globalNorm} of {@code dst}; on 1 and 3 threads, over lengths around
     * the block and the parallel grain.
     */
    @Test
    void fusedSumOfSquaresMatchesUnscaleThenGlobalNorm() {
        var rnd = new Random(17);
        int threads = Parallel.threads();
        try {
            for (int t : new int[] {1, 3}) {
                Parallel.setThreads(t);
                for (int len : new int[] {0, 1, 3, 13, 4097, 3 * GradientClipping.BLOCK + 5,
                        Unscale.PARALLEL_GRAIN, 2 * Unscale.PARALLEL_GRAIN + 13}) {
                    short[] h = new short[len + 3];
                    float[] f = new float[len + 3];
                    for (int i = 0; i < h.length; i++) {
                        h[i] = Float.floatToFloat16((float) (rnd.nextGaussian() * 100));
                        f[i] = (float) (rnd.nextGaussian() * 1e30);
                    }
                    for (double scale : SCALES) {
                        for (DType dtype : new DType[] {DType.FP16, DType.BF16, DType.FP32}) {
                            float[] want = new float[len];
                            boolean finite = dtype == DType.FP32 ? Unscale.unscale(f, 3, want, 0, len, scale)
                                    : Unscale.unscale(dtype, h, 3, want, 0, len, scale);
                            float[] got = new float[len];
                            double sum = dtype == DType.FP32 ? Unscale.unscaleSumOfSquares(f, 3, got, 0, len, scale)
                                    : Unscale.unscaleSumOfSquares(dtype, h, 3, got, 0, len, scale);
                            String what = dtype + " len=" + len + " scale=" + scale + " threads=" + t;
                            assertArrayEquals(want, got, what);
                            assertEquals(finite, Double.isFinite(sum), what);
                            assertEquals(Double.doubleToRawLongBits(GradientClipping.globalNorm(List.of(want))),
                                    Double.doubleToRawLongBits(Math.sqrt(sum)), what);
                            if (dtype == DType.FP32 && scale == 1) {
                                // the no-copy path of FP32 training: the same blocks and order, so the same bits
                                assertEquals(Double.doubleToRawLongBits(sum),
                                        Double.doubleToRawLongBits(Unscale.sumOfSquares(f, 3, len)), what);
                            }
                        }
                    }
                    if (len > 0) {
                        for (short bad : new short[] {0x7c00, (short) 0xfc00, 0x7e01}) {
                            int pos = rnd.nextInt(len);
                            short keep = h[3 + pos];
                            h[3 + pos] = bad;
                            assertFalse(Double.isFinite(Unscale.unscaleSumOfSquares(DType.FP16, h, 3, new float[len], 0,
                                    len, 1024)), "FP16 " + bad + " at " + pos + " len=" + len);
                            h[3 + pos] = keep;
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void allFiniteReadsExponentBits() {
        for (int bits = 0; bits < 65536; bits++) {
            short h = (short) bits;
            assertEquals(isFinite(Float.float16ToFloat(h)), Unscale.allFinite(DType.FP16, new short[] {h}, 0, 1));
            assertEquals(isFinite(Float.intBitsToFloat(bits << 16)),
                    Unscale.allFinite(DType.BF16, new short[] {h}, 0, 1));
        }
        assertTrue(Unscale.allFinite(DType.FP16, new short[0], 0, 0));
    }

    @Test
    void rejectsBadArguments() {
        short[] h = new short[4];
        float[] f = new float[4];
        var e = assertThrows(IllegalArgumentException.class, () -> Unscale.unscale(DType.FP32, h, 0, f, 0, 4, 2));
        assertTrue(e.getMessage().contains("FP32"), e.getMessage());
        for (double bad : new double[] {0, -2, Double.NaN, Double.POSITIVE_INFINITY, 1e39, 1e-50}) {
            var s = assertThrows(IllegalArgumentException.class, () -> Unscale.unscale(DType.FP16, h, 0, f, 0, 4, bad));
            assertTrue(s.getMessage().contains("scale"), s.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Unscale.unscale(f, 0, f, 0, 4, bad));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> Unscale.unscale(DType.FP16, h, 1, f, 0, 4, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> Unscale.unscale(DType.BF16, h, 0, f, 2, 3, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> Unscale.unscale(f, 0, f, 0, -1, 2));
        assertThrows(NullPointerException.class, () -> Unscale.unscale(null, h, 0, f, 0, 4, 2));
        assertThrows(NullPointerException.class, () -> Unscale.unscale(DType.FP16, null, 0, f, 0, 4, 2));
        assertThrows(NullPointerException.class, () -> Unscale.unscale(f, 0, null, 0, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> Unscale.allFinite(DType.FP32, h, 0, 4));
        var fused = assertThrows(IllegalArgumentException.class,
                () -> Unscale.unscaleSumOfSquares(DType.FP32, h, 0, f, 0, 4, 2));
        assertTrue(fused.getMessage().contains("unscaleSumOfSquares") && fused.getMessage().contains("FP32"),
                fused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Unscale.unscaleSumOfSquares(DType.FP16, h, 0, f, 0, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> Unscale.unscaleSumOfSquares(f, 0, f, 0, 4, Double.NaN));
        assertThrows(IndexOutOfBoundsException.class, () -> Unscale.unscaleSumOfSquares(DType.BF16, h, 1, f, 0, 4, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> Unscale.unscaleSumOfSquares(f, 0, f, 1, 4, 2));
        assertThrows(NullPointerException.class, () -> Unscale.unscaleSumOfSquares(null, h, 0, f, 0, 4, 2));
        assertThrows(NullPointerException.class, () -> Unscale.unscaleSumOfSquares(f, 0, null, 0, 4, 2));
        assertThrows(NullPointerException.class, () -> Unscale.sumOfSquares(null, 0, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> Unscale.sumOfSquares(f, 1, 4));
    }

    private static void assertSameFloat(float want, float got, String what) {
        if (Float.isNaN(want)) {
            assertTrue(Float.isNaN(got), what + ": want NaN, got " + got);
        } else {
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what + ": want " + want
                    + ", got " + got);
        }
    }
}
