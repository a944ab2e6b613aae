package dev.mpt.core.number;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The tests that {@link Half} and {@link BFloat16} share, run by {@link HalfTest} and
 * {@link BFloat16Test}: every result is compared with {@link ExactFormat}, an exact BigDecimal
 * model of the format built from the IEEE 754 definition. Patterns are handled as {@code short}
 * bits; the subclasses map each operation to the class under test.
 */
abstract class FormatContractTest {

    private static final long SEED = 0x6d70745f6e756dL;

    abstract ExactFormat fmt();

    abstract float toFloat(short h);

    abstract short fromFloat(float f);

    abstract short fromDouble(double d);

    abstract short parse(String s);

    abstract String toStr(short h);

    abstract String toHex(short h);

    abstract boolean isNaN(short h);

    abstract boolean isInfinite(short h);

    abstract boolean isFinite(short h);

    abstract boolean isSubnormal(short h);

    /** The instance methods isNaN, isInfinite, isFinite, isSubnormal of the boxed value, in that order. */
    abstract boolean[] boxedClassification(short h);

    abstract short nextUp(short h);

    abstract short nextDown(short h);

    abstract short boxedNextUp(short h);

    abstract short boxedNextDown(short h);

    abstract short ulp(short h);

    abstract short add(short a, short b);

    abstract short subtract(short a, short b);

    abstract short multiply(short a, short b);

    abstract short divide(short a, short b);

    abstract short sqrt(short a);

    abstract short fma(short a, short b, short c);

    abstract int compare(short a, short b);

    abstract boolean boxedEquals(short a, short b);

    abstract int boxedHash(short a);

    // ---------------------------------------------------------------- helpers

    static String hex(short h) {
        return String.format("0x%04x", h & 0xffff);
    }

    void assertNaN16(short actual, String what) {
        assertTrue(fmt().isNaN(actual), () -> what + ": expected NaN, got " + hex(actual));
    }

    int finiteCount() {
        return fmt().infBits;
    }

    /** A random finite pattern of either sign, uniform over the patterns. */
    short randomFinite(SplittableRandom r) {
        return (short) (r.nextInt(finiteCount()) | (r.nextBoolean() ? 0x8000 : 0));
    }

    // ---------------------------------------------------------------- exhaustive

    @Test
    void toFloatIsExactAndConvertsBackExhaustively() {
        ExactFormat f = fmt();
        for (int b = 0; b < 65536; b++) {
            short h = (short) b;
            float x = toFloat(h);
            if (f.isNaN(b)) {
                assertTrue(Float.isNaN(x), hex(h));
                assertEquals(b & 0x8000, (Float.floatToRawIntBits(x) >>> 16) & 0x8000, () -> "NaN sign " + hex(h));
                assertNaN16(fromFloat(x), "fromFloat(toFloat(" + hex(h) + "))");
                continue;
            }
            assertEquals(f.negative(b), (Float.floatToRawIntBits(x) < 0), () -> "sign of " + hex(h));
            if (f.isInfinite(b)) {
                assertTrue(Float.isInfinite(x), hex(h));
            } else {
                assertEquals(0, f.value(b).compareTo(new BigDecimal(x)), () -> "value of " + hex(h));
            }
            assertEquals(h, fromFloat(x), () -> "fromFloat(toFloat(" + hex(h) + "))");
            assertEquals(h, fromDouble(x), () -> "fromDouble(toFloat(" + hex(h) + "))");
        }
    }

    @Test
    void classificationExhaustive() {
        ExactFormat f = fmt();
        int expMask = f.infBits;
        int fracMask = (1 << f.fracBits) - 1;
        for (int b = 0; b < 65536; b++) {
            short h = (short) b;
            boolean expAllOnes = (b & expMask) == expMask;
            boolean nan = expAllOnes && (b & fracMask) != 0;
            boolean inf = expAllOnes && (b & fracMask) == 0;
            boolean sub = (b & expMask) == 0 && (b & fracMask) != 0;
            assertEquals(nan, isNaN(h), () -> "isNaN " + hex(h));
            assertEquals(inf, isInfinite(h), () -> "isInfinite " + hex(h));
            assertEquals(!expAllOnes, isFinite(h), () -> "isFinite " + hex(h));
            assertEquals(sub, isSubnormal(h), () -> "isSubnormal " + hex(h));
            assertTrue(Arrays.equals(new boolean[] {nan, inf, !expAllOnes, sub}, boxedClassification(h)),
                    () -> "boxed classification " + hex(h));
        }
    }

    @Test
    void nextUpNextDownExhaustive() {
        // independent definition (as Math.nextUp/nextDown): the neighbours in the list of all
        // non-NaN patterns sorted by value, -0 before +0; the zeros step to +-MIN_VALUE, the
        // infinities are fixed points
        ExactFormat f = fmt();
        List<Short> ordered = new ArrayList<>();
        for (int b = f.infBits; b >= 0; b--) {
            ordered.add((short) (0x8000 | b)); // -Infinity up to -0
        }
        for (int b = 0; b <= f.infBits; b++) {
            ordered.add((short) b); // +0 up to +Infinity
        }
        int[] position = new int[65536];
        for (int i = 0; i < ordered.size(); i++) {
            position[ordered.get(i) & 0xffff] = i;
        }
        for (int b = 0; b < 65536; b++) {
            short h = (short) b;
            short up;
            short down;
            if (f.isNaN(b)) {
                up = h;
                down = h;
            } else if ((b & 0x7fff) == 0) {
                up = 0x0001;
                down = (short) 0x8001;
            } else {
                int i = position[b];
                up = ordered.get(Math.min(i + 1, ordered.size() - 1));
                down = ordered.get(Math.max(i - 1, 0));
            }
            assertEquals(up, nextUp(h), () -> "nextUp " + hex(h));
            assertEquals(down, nextDown(h), () -> "nextDown " + hex(h));
            assertEquals(up, boxedNextUp(h), () -> "boxed nextUp " + hex(h));
            assertEquals(down, boxedNextDown(h), () -> "boxed nextDown " + hex(h));
        }
    }

    @Test
    void ulpExhaustive() {
        ExactFormat f = fmt();
        for (int b = 0; b < 65536; b++) {
            short h = (short) b;
            short u = ulp(h);
            if (f.isNaN(b)) {
                assertNaN16(u, "ulp " + hex(h));
            } else if (f.isInfinite(b)) {
                assertEquals((short) f.infBits, u, () -> "ulp " + hex(h));
            } else {
                int m = b & 0x7fff;
                // the gap above |h|; for MAX_VALUE the gap below it, which has the same exponent
                BigDecimal gap = m + 1 < f.infBits
                        ? f.value(m + 1).subtract(f.value(m))
                        : f.value(m).subtract(f.value(m - 1));
                assertEquals(0, gap.compareTo(f.value(u)), () -> "ulp " + hex(h));
                assertFalse(f.negative(u), () -> "ulp sign " + hex(h));
            }
        }
    }

    @Test
    void toStringRoundTripsAndIsShortestExhaustively() {
        ExactFormat f = fmt();
        for (int b = 0; b < 65536; b++) {
            short h = (short) b;
            String s = toStr(h);
            if (f.isNaN(b)) {
                assertEquals("NaN", s);
                assertNaN16(parse(s), "valueOf(toString(" + hex(h) + "))");
                continue;
            }
            assertEquals(h, parse(s), () -> "valueOf(toString(" + hex(h) + ")) of \"" + s + "\"");
            if (f.isInfinite(b)) {
                continue;
            }
            assertEquals(Float.floatToRawIntBits(toFloat(h)) < 0, s.startsWith("-"), s);
            assertTrue(s.matches("-?\\d+\\.\\d+(E-?\\d+)?"), () -> "layout of \"" + s + "\"");
            BigDecimal shown = new BigDecimal(s);
            // the exact reference reads it back too
            assertEquals(h, f.round(shown, f.negative(b)), () -> "reference reading of \"" + s + "\"");
            // shortest: no decimal with one digit fewer rounds to h; if one did, rounding the
            // exact value to that many digits downwards or upwards would give one (the interval of
            // decimals that round to h contains the value and is convex)
            int digits = shown.stripTrailingZeros().precision();
            if (digits > 1 && !f.value(b).equals(BigDecimal.ZERO)) {
                for (RoundingMode mode : new RoundingMode[] {RoundingMode.FLOOR, RoundingMode.CEILING}) {
                    BigDecimal shorter = f.value(b).round(new MathContext(digits - 1, mode));
                    assertTrue(f.round(shorter, f.negative(b)) != h,
                            () -> "\"" + s + "\" is not shortest: " + shorter + " also reads as " + hex(h));
                }
            }
        }
    }

    @Test
    void toHexStringRoundTripsExhaustively() {
        for (int b = 0; b < 65536; b++) {
            short h = (short) b;
            String s = toHex(h);
            if (fmt().isNaN(b)) {
                assertNaN16(parse(s), "valueOf(toHexString(" + hex(h) + "))");
            } else {
                assertEquals(h, parse(s), () -> "valueOf(toHexString(" + hex(h) + ")) of \"" + s + "\"");
            }
            float x = toFloat(h);
            if (!Float.isNaN(x)) {
                assertEquals(Float.floatToRawIntBits(x), Float.floatToRawIntBits(Float.parseFloat(s)), s);
            }
        }
    }

    // ---------------------------------------------------------------- conversions

    @Test
    void fromFloatAndDoubleAtEveryMidpointAndItsNeighbours() {
        ExactFormat f = fmt();
        for (int m = 0; m < f.infBits; m++) {
            // midpoint between m and m + 1; above MAX_VALUE the midpoint is the overflow threshold
            BigDecimal upper = m + 1 < f.infBits
                    ? f.value(m + 1)
                    : f.value(m).multiply(BigDecimal.TWO).subtract(f.value(m - 1));
            double mid = f.value(m).add(upper).divide(BigDecimal.TWO).doubleValue(); // exact: 1 more bit
            for (double sign : new double[] {1, -1}) {
                double d = sign * mid;
                checkDouble(d);
                checkDouble(Math.nextUp(d));
                checkDouble(Math.nextDown(d));
                float x = (float) d;
                assertEquals(d, x, "midpoints are floats");
                checkFloat(x);
                checkFloat(Math.nextUp(x));
                checkFloat(Math.nextDown(x));
                // and the representable value itself with its neighbours
                double v = sign * f.value(m).doubleValue();
                checkDouble(v);
                checkDouble(Math.nextUp(v));
                checkDouble(Math.nextDown(v));
                checkFloat(Math.nextUp((float) v));
                checkFloat(Math.nextDown((float) v));
            }
        }
    }

    @Test
    void fromFloatAndDoubleExtremes() {
        for (double d : new double[] {0.0, -0.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE,
                -Double.MAX_VALUE, 1e-300, Float.MIN_VALUE, Float.MAX_VALUE, Float.MIN_NORMAL, 65519.99,
                65520.0, 65520.01, 0x1p-25, Math.nextUp(0x1p-25), 0x1p-134, Math.nextUp(0x1p-134),
                0x1p128 - 0x1p119, Math.nextDown(0x1p128 - 0x1p119)}) {
            checkDouble(d);
            checkDouble(-d);
            checkFloat((float) d);
            checkFloat(-(float) d);
        }
        assertEquals((short) fmt().infBits, fromDouble(Double.POSITIVE_INFINITY));
        assertEquals((short) (0x8000 | fmt().infBits), fromFloat(Float.NEGATIVE_INFINITY));
    }

    @Test
    void fromFloatAndDoubleRandomOverAllExponents() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int i = 0; i < 100_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (!Float.isNaN(x) && !Float.isInfinite(x)) {
                checkFloat(x);
            }
            // doubles with exponents around the format's range (and a little beyond both ends)
            int e = r.nextInt(-160, 140);
            double d = Math.scalb(1 + r.nextDouble(), e) * (r.nextBoolean() ? 1 : -1);
            checkDouble(d);
            checkFloat((float) d);
        }
    }

    @Test
    void nanPayloadsStayNaNWithTheirSign() {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        for (int i = 0; i < 10_000; i++) {
            int sign = r.nextBoolean() ? 0x80000000 : 0;
            float x = Float.intBitsToFloat(sign | 0x7f800000 | (1 + r.nextInt(0x7fffff)));
            short h = fromFloat(x);
            assertNaN16(h, "fromFloat of NaN " + Integer.toHexString(Float.floatToRawIntBits(x)));
            assertEquals(sign != 0, h < 0, "NaN sign");
            long dsign = sign != 0 ? Long.MIN_VALUE : 0;
            double d = Double.longBitsToDouble(dsign | 0x7ff0000000000000L | (1 + r.nextLong(0xfffffffffffffL)));
            short hd = fromDouble(d);
            assertNaN16(hd, "fromDouble of NaN");
            assertEquals(sign != 0, hd < 0, "NaN sign");
        }
    }

    void checkFloat(float x) {
        short expected = fmt().round(x);
        assertEquals(expected, fromFloat(x), () -> "fromFloat(" + Float.toHexString(x) + ")");
    }

    void checkDouble(double d) {
        short expected = fmt().round(d);
        assertEquals(expected, fromDouble(d), () -> "fromDouble(" + Double.toHexString(d) + ")");
    }

    // ---------------------------------------------------------------- parsing

    @Test
    void valueOfStringRoundsOnceFromTheExactDecimal() {
        // decimals a hair (10^-40 relative) off every midpoint: reading them through float or
        // double would land on the midpoint and then tie to even
        ExactFormat f = fmt();
        for (int m = 0; m + 1 < f.infBits; m += 7) {
            BigDecimal mid = f.value(m).add(f.value(m + 1)).divide(BigDecimal.TWO);
            BigDecimal hair = mid.multiply(new BigDecimal("1e-40"));
            for (BigDecimal x : new BigDecimal[] {mid, mid.add(hair), mid.subtract(hair)}) {
                for (BigDecimal y : new BigDecimal[] {x, x.negate()}) {
                    String s = y.toString();
                    assertEquals(f.round(y, y.signum() < 0), parse(s), () -> "valueOf(\"" + s + "\")");
                }
            }
        }
    }

    @Test
    void valueOfStringRoundsOnceFromTheExactHexadecimal() {
        ExactFormat f = fmt();
        SplittableRandom r = new SplittableRandom(SEED + 2);
        for (int m = 1; m + 1 < f.infBits; m += 5) {
            // the midpoint as a hexadecimal string with 60 more bits, one of them set at random
            double lo = f.value(m).doubleValue();
            double hi = f.value(m + 1).doubleValue();
            double mid = (lo + hi) / 2; // exact
            int e = Math.getExponent(mid);
            long sig = (Double.doubleToRawLongBits(mid) & 0xfffffffffffffL) | 0x10000000000000L;
            int extra = r.nextInt(3); // 0: exact midpoint, 1: a hair above, 2: a hair below
            java.math.BigInteger big = java.math.BigInteger.valueOf(sig).shiftLeft(60);
            if (extra == 1) {
                big = big.add(java.math.BigInteger.ONE);
            } else if (extra == 2) {
                big = big.subtract(java.math.BigInteger.ONE);
            }
            String s = "0x" + big.toString(16) + "p" + (e - 52 - 60);
            BigDecimal exact = ExactFormat.times2(new BigDecimal(big), e - 52 - 60);
            assertEquals(f.round(exact, false), parse(s), () -> "valueOf(\"" + s + "\")");
        }
    }

    @Test
    void valueOfStringAcceptsTheFloatGrammar() {
        ExactFormat f = fmt();
        assertEquals(fromDouble(1.0), parse("1"));
        assertEquals(fromDouble(-2.5e3), parse("  -2.5e3f "));
        assertEquals(fromDouble(0.5), parse("+.5D"));
        assertEquals(fromDouble(3.0), parse("0x1.8p1"));
        assertEquals(fromDouble(3.0), parse("0X1.8P+1f"));
        assertEquals((short) 0x0001, parse(toStr((short) 0x0001)));
        assertEquals((short) f.infBits, parse("Infinity"));
        assertEquals((short) (0x8000 | f.infBits), parse("-Infinity"));
        assertEquals((short) f.infBits, parse("1e400"));
        assertEquals((short) 0, parse("1e-400"));
        assertEquals((short) 0x8000, parse("-1e-400"));
        assertEquals((short) 0x8000, parse("-0"));
        assertEquals((short) 0, parse("0e999999999999"));
        assertNaN16(parse("NaN"), "NaN");
        assertNaN16(parse("-NaN"), "-NaN");
    }

    @Test
    void valueOfStringRejectsBadInput() {
        assertThrows(NullPointerException.class, () -> parse(null));
        for (String bad : new String[] {"", " ", "abc", "1.2.3", "0x", "1e", "--1", "0x1.8", "Inf", "1,5"}) {
            NumberFormatException e = assertThrows(NumberFormatException.class, () -> parse(bad), bad);
            assertTrue(e.getMessage().contains("valueOf") && e.getMessage().contains("\"" + bad + "\""),
                    e.getMessage());
        }
    }

    // ---------------------------------------------------------------- arithmetic

    /** IEEE sign of an exact zero sum: negative only when both addends are negative zeros (or -x + -0 ...). */
    private static boolean zeroSumNegative(boolean aNeg, boolean bNeg, boolean bothZero) {
        return bothZero && aNeg && bNeg;
    }

    short refAdd(short a, short b) {
        ExactFormat f = fmt();
        BigDecimal s = f.value(a).add(f.value(b));
        boolean bothZero = f.value(a).signum() == 0 && f.value(b).signum() == 0;
        return f.round(s, zeroSumNegative(f.negative(a), f.negative(b), bothZero));
    }

    short refMultiply(short a, short b) {
        ExactFormat f = fmt();
        return f.round(f.value(a).multiply(f.value(b)), f.negative(a) != f.negative(b));
    }

    short refDivide(short a, short b) {
        // The quotient is computed to ExactFormat.exactDigits (>= 40) digits. If it is exactly a
        // representable value or a midpoint, it has that few digits and the division is exact.
        // Otherwise q = a / b differs from every midpoint M by |a - M b| / |b|, where a - M b is a
        // non-zero multiple of the product of M's and b's grids: at least 2^-(2p + 2) relatively
        // (p = 11 or 8 significant bits), far above the 10^-40 relative error of the division,
        // so rounding the approximation decides as rounding the exact quotient would.
        ExactFormat f = fmt();
        BigDecimal q = f.value(a).divide(f.value(b), f.exactDigits);
        return f.round(q, f.negative(a) != f.negative(b));
    }

    short refSqrt(short a) {
        // as in refDivide: an exact value or midpoint fits in exactDigits; otherwise
        // |sqrt(a) - M| = |a - M^2| / (sqrt(a) + M) is far above the relative error 10^-40
        ExactFormat f = fmt();
        BigDecimal v = f.value(a);
        return f.round(v.sqrt(f.exactDigits), f.negative(a));
    }

    short refFma(short a, short b, short c) {
        ExactFormat f = fmt();
        BigDecimal p = f.value(a).multiply(f.value(b));
        boolean pNeg = f.negative(a) != f.negative(b);
        BigDecimal s = p.add(f.value(c));
        boolean bothZero = p.signum() == 0 && f.value(c).signum() == 0;
        return f.round(s, zeroSumNegative(pNeg, f.negative(c), bothZero));
    }

    void checkArithmetic(short a, short b, short c) {
        String args = hex(a) + ", " + hex(b);
        assertEquals(refAdd(a, b), add(a, b), () -> "add " + args);
        assertEquals(refAdd(a, (short) (b ^ 0x8000)), subtract(a, b), () -> "subtract " + args);
        assertEquals(refMultiply(a, b), multiply(a, b), () -> "multiply " + args);
        if (fmt().value(b).signum() != 0) {
            assertEquals(refDivide(a, b), divide(a, b), () -> "divide " + args);
        }
        if (!fmt().negative(a) || fmt().value(a).signum() == 0) {
            assertEquals(refSqrt(a), sqrt(a), () -> "sqrt " + hex(a));
        }
        assertEquals(refFma(a, b, c), fma(a, b, c), () -> "fma " + args + ", " + hex(c));
    }

    @Test
    void arithmeticOnRandomFiniteOperandsMatchesExactReference() {
        SplittableRandom r = new SplittableRandom(SEED + 3);
        for (int i = 0; i < 10_000; i++) {
            short a = randomFinite(r);
            // half of the time b is near a (cancellation in add/subtract, quotients near 1)
            short b = r.nextBoolean()
                    ? randomFinite(r)
                    : (short) (Math.floorMod(a + r.nextInt(-40, 41), finiteCount()) | (r.nextBoolean() ? 0x8000 : 0));
            short c = randomFinite(r);
            checkArithmetic(a, b, c);
        }
    }

    @Test
    void fmaOnProductsNearMidpointsMatchesExactReference() {
        // a * b equal to a midpoint of the format (and a hair off it), plus a tiny c: the cases
        // where rounding the product-plus-c to an intermediate format and then again goes wrong
        ExactFormat f = fmt();
        int p = f.fracBits + 1;
        int one = f.bias << f.fracBits;
        short[] tinies = {0x0001, (short) 0x8001, (short) (one - (20 << f.fracBits)), (short) (0x8000 | one - (20 << f.fracBits))};
        int checked = 0;
        for (int odd = (1 << p) + 1; odd < (1 << (p + 1)); odd += 2) { // midpoint significands in [1, 2)
            for (int u = 3; u < (1 << p) && u * u <= odd; u += 2) {
                if (odd % u != 0) {
                    continue;
                }
                int v = odd / u; // odd = u * v with both factors p-bit integers
                short a = fromDouble(u);
                short b = fromDouble(Math.scalb((double) v, -p)); // a * b = odd * 2^-p in [1, 2)
                for (short c : tinies) {
                    for (short bb : new short[] {b, nextUp(b), nextDown(b)}) {
                        short expected = refFma(a, bb, c);
                        short got = fma(a, bb, c);
                        assertEquals(expected, got, () -> "fma " + hex(a) + ", " + hex(bb) + ", " + hex(c));
                    }
                    checked++;
                }
            }
        }
        assertTrue(checked > 50, "found " + checked + " factorised midpoints");
    }

    @Test
    void arithmeticOnSpecialValues() {
        ExactFormat f = fmt();
        short inf = (short) f.infBits;
        short ninf = (short) (0x8000 | f.infBits);
        short nan = (short) (f.infBits | (1 << (f.fracBits - 1)));
        short one = (short) (f.bias << f.fracBits);
        short max = (short) (f.infBits - 1);
        short zero = 0;
        short nzero = (short) 0x8000;
        assertNaN16(add(inf, ninf), "inf + -inf");
        assertNaN16(subtract(inf, inf), "inf - inf");
        assertNaN16(multiply(inf, zero), "inf * 0");
        assertNaN16(divide(zero, nzero), "0 / -0");
        assertNaN16(divide(inf, ninf), "inf / -inf");
        assertNaN16(sqrt((short) (one | 0x8000)), "sqrt(-1)");
        assertNaN16(fma(inf, zero, one), "fma(inf, 0, 1)");
        assertNaN16(fma(one, inf, ninf), "fma(1, inf, -inf)");
        assertNaN16(fma(one, one, nan), "fma(1, 1, NaN)");
        for (short x : new short[] {zero, one, inf, max}) {
            assertNaN16(add(nan, x), "NaN + x");
            assertNaN16(multiply(x, nan), "x * NaN");
            assertNaN16(divide(nan, x), "NaN / x");
        }
        assertEquals(inf, divide(one, zero));
        assertEquals(ninf, divide(one, nzero));
        assertEquals(inf, add(max, max));
        assertEquals(ninf, multiply(max, (short) (max ^ 0x8000)));
        assertEquals(inf, fma(max, one, max));
        assertEquals(max, fma(max, one, (short) 0x0001));
        assertEquals(nzero, sqrt(nzero));
        assertEquals(inf, sqrt(inf));
        assertEquals(zero, add(nzero, zero));
        assertEquals(nzero, add(nzero, nzero));
        assertEquals(zero, subtract(one, one));
        assertEquals(nzero, multiply(nzero, one));
        assertEquals(nzero, divide(zero, ninf));
        assertEquals(zero, fma(nzero, one, zero));
        assertEquals(nzero, fma(nzero, one, nzero));
        assertEquals(zero, fma(one, one, (short) (one | 0x8000)));
        short[] specials = {zero, nzero, one, (short) (one | 0x8000), max, (short) (max | 0x8000), 0x0001,
                (short) 0x8001, (short) (1 << f.fracBits), inf, ninf, nan};
        for (short a : specials) {
            for (short b : specials) {
                for (short c : specials) {
                    if (f.isNaN(a) || f.isNaN(b) || f.isNaN(c) || f.isInfinite(a) || f.isInfinite(b) || f.isInfinite(c)) {
                        continue; // covered by the explicit cases above
                    }
                    checkArithmetic(a, b, c);
                }
            }
        }
    }

    // ---------------------------------------------------------------- comparison

    @Test
    void compareEqualsHashCodeFollowFloatExhaustivelyOnAStride() {
        for (int a = 0; a < 65536; a += 61) {
            for (int b = 0; b < 65536; b += 59) {
                short x = (short) a;
                short y = (short) b;
                float fx = toFloat(x);
                float fy = toFloat(y);
                assertEquals(Integer.signum(Float.compare(fx, fy)), Integer.signum(compare(x, y)),
                        () -> "compare " + hex(x) + ", " + hex(y));
                boolean eq = Float.valueOf(fx).equals(fy);
                assertEquals(eq, boxedEquals(x, y), () -> "equals " + hex(x) + ", " + hex(y));
                if (eq) {
                    assertEquals(boxedHash(x), boxedHash(y), () -> "hashCode " + hex(x) + ", " + hex(y));
                }
            }
        }
        assertFalse(boxedEquals((short) 0, (short) 0x8000), "+0 equals -0");
        short nan1 = (short) (fmt().infBits | 1);
        short nan2 = (short) (0x8000 | fmt().infBits | 3);
        assertTrue(boxedEquals(nan1, nan2), "NaN equals NaN");
        assertEquals(boxedHash(nan1), boxedHash(nan2));
    }
}
