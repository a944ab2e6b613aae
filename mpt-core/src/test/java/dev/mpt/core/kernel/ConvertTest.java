package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.Half;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.function.Executable;

/**
 * The bulk conversions: the plain loops of {@link ScalarConvert} are checked element by element
 * against {@link Half} and {@link BFloat16}, and the Vector API kernel and the public facade
 * (parallel for large arrays) against the plain loops, bit for bit, NaN payloads included.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConvertTest {

    private static final int[] LENGTHS = {0, 1, 3, 13, 4097, 70_001};
    private static final int[] OFFSETS = {0, 1, 7};
    /** Long enough for {@link Convert} to split the work into parallel chunks. */
    private static final int LARGE = 2 * Grain.CONVERT + 13;

    private static final ScalarConvert PLAIN = new ScalarConvert();
    /** The Vector API kernel, or null in a JVM without {@code jdk.incubator.vector} (the scalar-path run). */
    private static final ConvertKernel VECTOR = vectorKernel();

    private static ConvertKernel vectorKernel() {
        return Simd.VECTOR_ENABLED ? new VectorConvert() : null;
    }

    /** Every 16-bit pattern. */
    private static short[] allPatterns() {
        short[] h = new short[65536];
        for (int i = 0; i < h.length; i++) {
            h[i] = (short) i;
        }
        return h;
    }

    /**
     * Floats that exercise rounding: every half and every bfloat16 widened, each with its two
     * float neighbours (midpoints of the narrow formats lie between them), and random bit
     * patterns over all exponents, NaNs with random payloads among them.
     */
    private static float[] awkwardFloats() {
        SplittableRandom r = new SplittableRandom(42);
        float[] f = new float[65536 * 6 + 100_000];
        int n = 0;
        for (int i = 0; i < 65536; i++) {
            float h = Half.toFloat((short) i);
            float b = BFloat16.toFloat((short) i);
            f[n++] = h;
            f[n++] = Math.nextUp(h);
            f[n++] = Math.nextDown(h);
            f[n++] = b;
            f[n++] = Math.nextUp(b);
            f[n++] = Math.nextDown(b);
        }
        while (n < f.length) {
            int bits = r.nextInt();
            if (r.nextInt(8) == 0) {
                bits |= 0x7f800000; // NaN (or infinity) with a random payload and sign
            }
            f[n++] = Float.intBitsToFloat(bits);
        }
        return f;
    }

    @Test
    void plainLoopsAreTheElementDefinitions() {
        short[] h = allPatterns();
        float[] wide = new float[h.length];
        PLAIN.halfToFloat(h, 0, wide, 0, h.length);
        for (int i = 0; i < h.length; i++) {
            assertEquals(Float.floatToRawIntBits(Half.toFloat(h[i])), Float.floatToRawIntBits(wide[i]));
        }
        PLAIN.bfloat16ToFloat(h, 0, wide, 0, h.length);
        for (int i = 0; i < h.length; i++) {
            assertEquals(Float.floatToRawIntBits(BFloat16.toFloat(h[i])), Float.floatToRawIntBits(wide[i]));
        }
        float[] f = awkwardFloats();
        short[] narrow = new short[f.length];
        PLAIN.floatToHalf(f, 0, narrow, 0, f.length);
        for (int i = 0; i < f.length; i++) {
            assertEquals(Half.fromFloat(f[i]), narrow[i]);
        }
        PLAIN.floatToBFloat16(f, 0, narrow, 0, f.length);
        for (int i = 0; i < f.length; i++) {
            assertEquals(BFloat16.fromFloat(f[i]), narrow[i]);
        }
    }

    @Test
    void vectorKernelEqualsPlainLoopsOnAllPatternsAndAwkwardFloats() {
        assumeTrue(VECTOR != null, "the Vector API is not enabled in this JVM");
        short[] h = allPatterns();
        float[] f = awkwardFloats();
        assertWidenSame("halfToFloat", PLAIN::halfToFloat, VECTOR::halfToFloat, h, h.length, 0, 0);
        assertWidenSame("bfloat16ToFloat", PLAIN::bfloat16ToFloat, VECTOR::bfloat16ToFloat, h, h.length, 0, 0);
        assertNarrowSame("floatToHalf", PLAIN::floatToHalf, VECTOR::floatToHalf, f, f.length, 0, 0);
        assertNarrowSame("floatToBFloat16", PLAIN::floatToBFloat16, VECTOR::floatToBFloat16, f, f.length, 0, 0);
    }

    @Test
    void kernelsAndFacadeEqualPlainLoopsOverAwkwardLengthsAndOffsets() {
        short[] h = allPatterns();
        float[] f = awkwardFloats();
        for (int len : LENGTHS) {
            for (int srcOff : OFFSETS) {
                for (int dstOff : OFFSETS) {
                    assertWidenSame("halfToFloat", PLAIN::halfToFloat, Convert::halfToFloat, h, len, srcOff, dstOff);
                    assertWidenSame("bfloat16ToFloat", PLAIN::bfloat16ToFloat, Convert::bfloat16ToFloat, h, len, srcOff, dstOff);
                    assertNarrowSame("floatToHalf", PLAIN::floatToHalf, Convert::floatToHalf, f, len, srcOff, dstOff);
                    assertNarrowSame("floatToBFloat16", PLAIN::floatToBFloat16, Convert::floatToBFloat16, f, len, srcOff, dstOff);
                    if (VECTOR != null) {
                        assertWidenSame("halfToFloat", PLAIN::halfToFloat, VECTOR::halfToFloat, h, len, srcOff, dstOff);
                        assertWidenSame("bfloat16ToFloat", PLAIN::bfloat16ToFloat, VECTOR::bfloat16ToFloat, h, len, srcOff, dstOff);
                        assertNarrowSame("floatToHalf", PLAIN::floatToHalf, VECTOR::floatToHalf, f, len, srcOff, dstOff);
                        assertNarrowSame("floatToBFloat16", PLAIN::floatToBFloat16, VECTOR::floatToBFloat16, f, len, srcOff, dstOff);
                    }
                }
            }
        }
    }

    /**
     * Runs last, after the other tests have made C2 compile the Vector API loops: interpreted or
     * C1-compiled, Vector API code boxes every vector and runs about 100x slower.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void facadeSplitsLargeArraysWithoutChangingResults() {
        float[] f = Arrays.copyOf(awkwardFloats(), LARGE + 3);
        short[] h = new short[LARGE + 3];
        for (int i = 0; i < h.length; i++) {
            h[i] = (short) (i * 40503);
        }
        assertWidenSame("halfToFloat", PLAIN::halfToFloat, Convert::halfToFloat, h, LARGE, 3, 5);
        assertWidenSame("bfloat16ToFloat", PLAIN::bfloat16ToFloat, Convert::bfloat16ToFloat, h, LARGE, 3, 5);
        assertNarrowSame("floatToHalf", PLAIN::floatToHalf, Convert::floatToHalf, f, LARGE, 3, 5);
        assertNarrowSame("floatToBFloat16", PLAIN::floatToBFloat16, Convert::floatToBFloat16, f, LARGE, 3, 5);
    }

    /**
     * {@link Convert#roundToHalf} is a narrowing followed by a widening, bit for bit: on the awkward
     * floats plus the exact midpoint between every pair of adjacent FP16 values (where nearest
     * even decides), at every offset and length, and on an array long enough to run in parallel.
     * Elements outside the range are left alone.
     */
    @Test
    void roundToHalfIsNarrowThenWiden() {
        float[] awkward = awkwardFloats();
        float[] v = Arrays.copyOf(awkward, awkward.length + 2 * 65535);
        int n = awkward.length;
        for (int i = 0; i < 65535; i++) {
            float lo = Half.toFloat((short) i);
            float hi = Half.toFloat((short) (i + 1));
            if (Float.isFinite(lo) && Float.isFinite(hi)) {
                v[n++] = (lo + hi) / 2; // exact: FP16 neighbours are 11 bits, float has 24
                v[n++] = -(lo + hi) / 2;
            }
        }
        float[] all = Arrays.copyOf(v, n);
        for (int off : OFFSETS) {
            for (int len : new int[] {0, 1, 13, 4097, all.length - off}) {
                float[] got = all.clone();
                Convert.roundToHalf(got, off, len);
                for (int i = 0; i < all.length; i++) {
                    float want = i >= off && i < off + len ? Half.toFloat(Half.fromFloat(all[i])) : all[i];
                    if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got[i])) {
                        fail("roundToHalf(" + all[i] + ") at " + i + ": want " + want + ", got " + got[i]
                                + " (off " + off + ", len " + len + ")");
                    }
                }
            }
        }
        float[] large = new float[LARGE];
        for (int i = 0; i < LARGE; i++) {
            large[i] = all[i % all.length];
        }
        float[] got = large.clone();
        Convert.roundToHalf(got, 0, LARGE);
        short[] h = new short[LARGE];
        PLAIN.floatToHalf(large, 0, h, 0, LARGE);
        float[] want = new float[LARGE];
        PLAIN.halfToFloat(h, 0, want, 0, LARGE);
        for (int i = 0; i < LARGE; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "large, element " + i);
        }
        expect(NullPointerException.class, "roundToHalf", () -> Convert.roundToHalf(null, 0, 0));
        expect(IndexOutOfBoundsException.class, "roundToHalf", () -> Convert.roundToHalf(new float[3], 2, 2));
    }

    @Test
    void badArgumentsAreRejectedWithTheirNames() {
        float[] f = new float[10];
        short[] h = new short[10];
        expect(NullPointerException.class, "Convert.floatToHalf: src is null", () -> Convert.floatToHalf(null, 0, h, 0, 1));
        expect(NullPointerException.class, "Convert.halfToFloat: dst is null", () -> Convert.halfToFloat(h, 0, null, 0, 1));
        expect(NullPointerException.class, "Convert.floatToBFloat16: dst is null", () -> Convert.floatToBFloat16(f, 0, null, 0, 1));
        expect(NullPointerException.class, "Convert.bfloat16ToFloat: src is null", () -> Convert.bfloat16ToFloat(null, 0, f, 0, 1));
        expect(IllegalArgumentException.class, "len must be >= 0, got -1", () -> Convert.floatToHalf(f, 0, h, 0, -1));
        expect(IndexOutOfBoundsException.class, "src range [8, 8 + 3) is outside src of length 10",
                () -> Convert.floatToBFloat16(f, 8, h, 0, 3));
        expect(IndexOutOfBoundsException.class, "dst range [-1, -1 + 3) is outside dst of length 10",
                () -> Convert.halfToFloat(h, 0, f, -1, 3));
        expect(IndexOutOfBoundsException.class, "dst range [9, 9 + 2) is outside dst of length 10",
                () -> Convert.bfloat16ToFloat(h, 0, f, 9, 2));
        expect(IndexOutOfBoundsException.class, "src range [2147483647, 2147483647 + 1)",
                () -> Convert.floatToHalf(f, Integer.MAX_VALUE, h, 0, 1));
        Convert.floatToHalf(f, 10, h, 10, 0); // empty ranges at the end are fine
    }

    private static void expect(Class<? extends RuntimeException> type, String message, Executable call) {
        RuntimeException e = assertThrows(type, call);
        assertTrue(e.getMessage().contains(message), () -> "message \"" + e.getMessage() + "\" lacks \"" + message + "\"");
    }

    // ---------------------------------------------------------------- helpers

    @FunctionalInterface
    interface Widen {
        void run(short[] src, int srcOff, float[] dst, int dstOff, int len);
    }

    @FunctionalInterface
    interface Narrow {
        void run(float[] src, int srcOff, short[] dst, int dstOff, int len);
    }

    /** Runs both on the same input; outputs must match bit for bit and sentinels around the range survive. */
    private static void assertWidenSame(String op, Widen spec, Widen fast, short[] src, int len, int srcOff, int dstOff) {
        short[] in = Arrays.copyOfRange(src, 0, Math.min(src.length, len + srcOff));
        if (in.length < len + srcOff) {
            in = Arrays.copyOf(in, len + srcOff);
        }
        float[] expected = sentinelFloats(len + dstOff + 3);
        float[] actual = expected.clone();
        spec.run(in, srcOff, expected, dstOff, len);
        fast.run(in, srcOff, actual, dstOff, len);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(op + " len=" + len + " srcOff=" + srcOff + " dstOff=" + dstOff + ": element " + i
                        + " expected " + Integer.toHexString(Float.floatToRawIntBits(expected[i]))
                        + " got " + Integer.toHexString(Float.floatToRawIntBits(actual[i])));
            }
        }
    }

    private static void assertNarrowSame(String op, Narrow spec, Narrow fast, float[] src, int len, int srcOff, int dstOff) {
        float[] in = Arrays.copyOf(src, len + srcOff);
        short[] expected = new short[len + dstOff + 3];
        Arrays.fill(expected, (short) 0x5a5a);
        short[] actual = expected.clone();
        spec.run(in, srcOff, expected, dstOff, len);
        fast.run(in, srcOff, actual, dstOff, len);
        assertArrayEquals(expected, actual, () -> op + " len=" + len + " srcOff=" + srcOff + " dstOff=" + dstOff);
    }

    private static float[] sentinelFloats(int n) {
        float[] f = new float[n];
        Arrays.fill(f, Float.intBitsToFloat(0x7fa5a5a5)); // a NaN with a payload no kernel writes
        return f;
    }
}
