package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * GradientStats against direct counts: FP16 classes from the JDK's correctly rounded
 * {@code Float.floatToFloat16} of the scaled value (exact in FP32 for a power-of-two scale), and
 * exponents found by comparing with exact powers of two.
 */
class GradientStatsTest {

    private enum Fp16Class { ZERO, SUBNORMAL, NORMAL, OVERFLOW, NAN }

    private static Fp16Class classOf(short h) {
        float f = Float.float16ToFloat(h);
        if (Float.isNaN(f)) {
            return Fp16Class.NAN;
        } else if (f == 0) {
            return Fp16Class.ZERO;
        } else if (Float.isInfinite(f)) {
            return Fp16Class.OVERFLOW;
        }
        return Math.abs(f) < 0x1p-14f ? Fp16Class.SUBNORMAL : Fp16Class.NORMAL;
    }

    /** The e with 2^e * unit <= a < 2^(e+1) * unit, by exact comparisons (a > 0 finite). */
    private static int exponent(double a, double unit) {
        int e = -200;
        while (Math.scalb(unit, e + 1) <= a) {
            e++;
        }
        return e;
    }

    private static final class Direct {
        final long[] classes = new long[Fp16Class.values().length];
        final Map<Integer, Long> bins = new java.util.HashMap<>();
        long zeros;
        long below;
        long above;

        void bin(double a, double unit) {
            if (a == 0) {
                zeros++;
            } else if (Double.isInfinite(a)) {
                above++;
            } else {
                int e = exponent(a, unit);
                if (e < GradientStats.MIN_EXPONENT) {
                    below++;
                } else if (e > GradientStats.MAX_EXPONENT) {
                    above++;
                } else {
                    bins.merge(e, 1L, Long::sum);
                }
            }
        }

        void assertMatches(GradientStats s) {
            assertEquals(classes[Fp16Class.ZERO.ordinal()], s.fp16ZeroCount(), "zero");
            assertEquals(classes[Fp16Class.SUBNORMAL.ordinal()], s.fp16SubnormalCount(), "subnormal");
            assertEquals(classes[Fp16Class.NORMAL.ordinal()], s.fp16NormalCount(), "normal");
            assertEquals(classes[Fp16Class.OVERFLOW.ordinal()], s.fp16OverflowCount(), "overflow");
            assertEquals(classes[Fp16Class.NAN.ordinal()], s.nanCount(), "nan");
            assertEquals(zeros, s.zeroCount(), "exact zeros");
            assertEquals(below, s.belowRangeCount(), "below");
            assertEquals(above, s.aboveRangeCount(), "above");
            for (int e = GradientStats.MIN_EXPONENT; e <= GradientStats.MAX_EXPONENT; e++) {
                assertEquals(bins.getOrDefault(e, 0L), s.countAtExponent(e), "bin " + e);
            }
        }
    }

    private static float[] awkwardValues(double scale) {
        var rnd = new Random(21);
        float s = (float) scale;
        float[] edges = {0x1p-25f / s, Math.nextUp(0x1p-25f / s), Math.nextDown(0x1p-25f / s),
                (0x1p-14f - 0x1p-25f) / s, Math.nextDown((0x1p-14f - 0x1p-25f) / s), 0x1p-14f / s,
                65504f / s, 65520f / s, Math.nextDown(65520f / s), Float.MIN_VALUE, -Float.MIN_VALUE,
                Float.MAX_VALUE, 0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                0x1p-60f, Math.nextDown(0x1p-60f), 0x1p21f, Math.nextDown(0x1p21f)};
        float[] g = new float[5000 + edges.length];
        for (int i = 0; i < 5000; i++) {
            g[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(100) - 75));
        }
        System.arraycopy(edges, 0, g, 5000, edges.length);
        return g;
    }

    @Test
    void fp32ValuesMatchDirectCountAtPowerOfTwoScales() {
        for (double scale : new double[] {1, 0x1p8, 0x1p16, 0x1p24, 0x1p-4}) {
            float[] g = awkwardValues(scale);
            var direct = new Direct();
            double max = 0;
            for (float x : g) {
                // g * scale is exact in FP32 (or overflows to infinity, which is the overflow class)
                direct.classes[classOf(Float.floatToFloat16(x * (float) scale)).ordinal()]++;
                if (!Float.isNaN(x)) {
                    direct.bin(Math.abs((double) x), 1.0);
                    if (!Float.isInfinite(x)) {
                        max = Math.max(max, Math.abs(x));
                    }
                }
            }
            GradientStats s = GradientStats.of(g, scale);
            direct.assertMatches(s);
            assertEquals(g.length, s.count());
            assertEquals(max, s.maxAbs());
            double sum = s.fractionZero() + s.fractionSubnormal() + s.fractionNormal() + s.fractionOverflow()
                    + (double) s.nanCount() / s.count();
            assertEquals(1.0, sum, 1e-12);
        }
    }

    @Test
    void everyFp16PatternMatchesDirectCount() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        for (double scaleUsed : new double[] {0x1p8, 1000}) {
            var direct = new Direct();
            for (short h : all) {
                direct.classes[classOf(h).ordinal()]++;
                float f = Float.float16ToFloat(h);
                if (!Float.isNaN(f)) {
                    // true magnitude |h| / scaleUsed: bin by exact comparison with 2^e * scaleUsed
                    direct.bin(Math.abs((double) f), scaleUsed);
                }
            }
            GradientStats s = GradientStats.ofHalf(all, 0, all.length, scaleUsed);
            direct.assertMatches(s);
            assertEquals(scaleUsed, s.scale());
        }
    }

    @Test
    void suggestedScaleIsLargestPowerOfTwoWithoutOverflow() {
        assertEquals(0x1p15, GradientStats.of(new float[] {1f, -0.5f}, 1).suggestScale());
        assertEquals(1.0, GradientStats.of(new float[] {65504f}, 1).suggestScale());
        assertEquals(0x1p14, GradientStats.of(new float[] {3f}, 1).suggestScale());
        var rnd = new Random(8);
        for (int i = 0; i < 200; i++) {
            float x = (float) Math.scalb(1 + rnd.nextDouble(), rnd.nextInt(60) - 40);
            double s = GradientStats.of(new float[] {x, x / 3}, 1).suggestScale();
            assertEquals(s, Math.scalb(1.0, Math.getExponent(s)), "power of two");
            assertTrue(x * s <= 65504 && 2 * x * s > 65504, x + " * " + s);
            // and it really does not overflow FP16
            assertTrue(GradientStats.of(new float[] {x}, s).fp16OverflowCount() == 0);
        }
    }

    @Test
    void quantileScaleLiftsTheRequestedFractionAboveFp16Zero() {
        float[] g = new float[100];
        for (int i = 0; i < 90; i++) {
            g[i] = 0x1.8p-30f;
        }
        for (int i = 90; i < 100; i++) {
            g[i] = 0x1p-10f;
        }
        GradientStats s = GradientStats.of(g, 1);
        assertEquals(0x1p-14, s.suggestScale(0.1));
        assertEquals(0x1p6, s.suggestScale(0.5));
        assertEquals(0x1p6, s.suggestScale(1.0));
        assertEquals(0x1p25, s.suggestScale());
        for (double q : new double[] {0.1, 0.5, 1.0}) {
            GradientStats at = GradientStats.of(g, s.suggestScale(q));
            assertTrue(at.count() - at.fp16ZeroCount() >= q * at.count(), "quantile " + q);
            assertEquals(0, at.fp16OverflowCount());
        }
        // the cap wins when lifting small values would overflow large ones
        float[] wide = {0x1p-40f, 0x1p10f};
        assertEquals(0x1p5, GradientStats.of(wide, 1).suggestScale(1.0));
    }

    @Test
    void perLayerStatsMergeToTheWhole() {
        var rnd = new Random(13);
        Map<String, float[]> layers = new LinkedHashMap<>();
        for (String name : List.of("fc1.weight", "fc1.bias", "fc2.weight")) {
            float[] g = new float[300];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(40) - 35));
            }
            layers.put(name, g);
        }
        Map<String, GradientStats> per = GradientStats.perLayer(layers, 0x1p10);
        assertEquals(List.copyOf(layers.keySet()), List.copyOf(per.keySet()), "keeps the layers' order");
        float[] all = new float[900];
        int k = 0;
        for (float[] g : layers.values()) {
            System.arraycopy(g, 0, all, k, g.length);
            k += g.length;
        }
        GradientStats whole = GradientStats.of(all, 0x1p10);
        GradientStats merged = per.values().stream().reduce(GradientStats::merge).orElseThrow();
        assertEquals(whole.toString(), merged.toString());
        for (int e = GradientStats.MIN_EXPONENT; e <= GradientStats.MAX_EXPONENT; e++) {
            assertEquals(whole.countAtExponent(e), merged.countAtExponent(e));
        }
        assertEquals(whole.suggestScale(), merged.suggestScale());
        assertTrue(merged.toString().contains("count=900"), merged.toString());
    }

    @Test
    void rejectsBadArguments() {
        assertMessage("scale", () -> GradientStats.of(new float[1], 0));
        assertMessage("scale", () -> GradientStats.ofHalf(new short[1], 0, 1, Double.NaN));
        assertMessage("exponent", () -> GradientStats.of(new float[1], 1).countAtExponent(21));
        assertMessage("quantile", () -> GradientStats.of(new float[] {1}, 1).suggestScale(0));
        assertMessage("scales differ",
                () -> GradientStats.of(new float[1], 1).merge(GradientStats.of(new float[1], 2)));
        var empty = assertThrows(IllegalStateException.class,
                () -> GradientStats.of(new float[] {0, Float.NaN, Float.POSITIVE_INFINITY}, 1).suggestScale());
        assertTrue(empty.getMessage().contains("no nonzero finite"), empty.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> GradientStats.of(new float[2], 1, 2, 1));
        assertThrows(NullPointerException.class, () -> GradientStats.of(null, 1));
        Map<String, float[]> withNull = new LinkedHashMap<>();
        withNull.put("w", null);
        var npe = assertThrows(NullPointerException.class, () -> GradientStats.perLayer(withNull, 1));
        assertTrue(npe.getMessage().contains("'w'"), npe.getMessage());
        assertEquals(0.0, GradientStats.of(new float[0], 1).fractionZero());
    }

    private static void assertMessage(String part, Runnable r) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
