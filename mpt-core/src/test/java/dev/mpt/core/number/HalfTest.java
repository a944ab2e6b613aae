package dev.mpt.core.number;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** {@link Half} against the exact FP16 model; the shared cases live in {@link FormatContractTest}. */
class HalfTest extends FormatContractTest {

    @Override ExactFormat fmt() { return ExactFormat.FP16; }
    @Override float toFloat(short h) { return Half.toFloat(h); }
    @Override short fromFloat(float f) { return Half.fromFloat(f); }
    @Override short fromDouble(double d) { return Half.fromDouble(d); }
    @Override short parse(String s) { return Half.valueOf(s).toBits(); }
    @Override String toStr(short h) { return Half.fromBits(h).toString(); }
    @Override String toHex(short h) { return Half.fromBits(h).toHexString(); }
    @Override boolean isNaN(short h) { return Half.isNaN(h); }
    @Override boolean isInfinite(short h) { return Half.isInfinite(h); }
    @Override boolean isFinite(short h) { return Half.isFinite(h); }
    @Override boolean isSubnormal(short h) { return Half.isSubnormal(h); }
    @Override boolean[] boxedClassification(short h) {
        Half x = Half.fromBits(h);
        return new boolean[] {x.isNaN(), x.isInfinite(), x.isFinite(), x.isSubnormal()};
    }
    @Override short nextUp(short h) { return Half.nextUp(h); }
    @Override short nextDown(short h) { return Half.nextDown(h); }
    @Override short boxedNextUp(short h) { return Half.fromBits(h).nextUp().toBits(); }
    @Override short boxedNextDown(short h) { return Half.fromBits(h).nextDown().toBits(); }
    @Override short ulp(short h) { return Half.fromBits(h).ulp().toBits(); }
    @Override short add(short a, short b) { return Half.fromBits(a).add(Half.fromBits(b)).toBits(); }
    @Override short subtract(short a, short b) { return Half.fromBits(a).subtract(Half.fromBits(b)).toBits(); }
    @Override short multiply(short a, short b) { return Half.fromBits(a).multiply(Half.fromBits(b)).toBits(); }
    @Override short divide(short a, short b) { return Half.fromBits(a).divide(Half.fromBits(b)).toBits(); }
    @Override short sqrt(short a) { return Half.fromBits(a).sqrt().toBits(); }
    @Override short fma(short a, short b, short c) {
        return Half.fromBits(a).fma(Half.fromBits(b), Half.fromBits(c)).toBits();
    }
    @Override int compare(short a, short b) { return Half.fromBits(a).compareTo(Half.fromBits(b)); }
    @Override boolean boxedEquals(short a, short b) { return Half.fromBits(a).equals(Half.fromBits(b)); }
    @Override int boxedHash(short a) { return Half.fromBits(a).hashCode(); }

    @Test
    void constantsHaveTheirDocumentedValues() {
        assertEquals(0, new BigDecimal("65504").compareTo(new BigDecimal(Half.MAX_VALUE.doubleValue())));
        assertEquals(0x1p-14, Half.MIN_NORMAL.doubleValue());
        assertEquals(0x1p-24, Half.MIN_VALUE.doubleValue());
        assertEquals(0x1p-10, Half.EPSILON.doubleValue());
        assertEquals(Half.ONE.add(Half.EPSILON), Half.ONE.nextUp());
        assertEquals(1.0, Half.ONE.doubleValue());
        assertEquals(0.0, Half.ZERO.doubleValue());
        assertEquals("-0.0", Half.NEGATIVE_ZERO.toString());
        assertEquals(Double.POSITIVE_INFINITY, Half.POSITIVE_INFINITY.doubleValue());
        assertEquals(Double.NEGATIVE_INFINITY, Half.NEGATIVE_INFINITY.doubleValue());
        assertTrue(Half.NaN.isNaN());
        assertEquals(16, Half.SIZE);
        assertEquals(2, Half.BYTES);
        assertEquals(Math.getExponent(Half.MAX_VALUE.floatValue()), Half.MAX_EXPONENT);
        assertEquals(Math.getExponent(Half.MIN_NORMAL.floatValue()), Half.MIN_EXPONENT);
        assertEquals(Half.POSITIVE_INFINITY, Half.valueOf(65520.0));
        assertEquals(Half.MAX_VALUE, Half.valueOf(Math.nextDown(65520.0)));
    }

    @Test
    void textForms() {
        assertEquals("0.1", Half.valueOf(0.1).toString());
        assertEquals("65500.0", Half.MAX_VALUE.toString());
        assertEquals("6.0E-8", Half.MIN_VALUE.toString());
        assertEquals("-1.0", Half.valueOf(-1).toString());
        assertEquals("NaN", Half.NaN.toString());
        assertEquals("-Infinity", Half.NEGATIVE_INFINITY.toString());
        assertEquals("0x1.ffcp15", Half.MAX_VALUE.toHexString());
        assertEquals("0x0.004p-14", Half.MIN_VALUE.toHexString());
        assertEquals("0x1.0p0", Half.ONE.toHexString());
    }

    @Test
    void numberViewsAndFactories() {
        Half x = Half.valueOf(-2.75f);
        assertEquals(-2.75f, x.floatValue());
        assertEquals(-2.75, x.doubleValue());
        assertEquals(-2, x.intValue());
        assertEquals(-2L, x.longValue());
        assertEquals(Half.valueOf(2049.0), Half.valueOf(2049)); // ties to even: 2048
        assertEquals(2048.0, Half.valueOf(2049).doubleValue());
        assertEquals(2052.0, Half.valueOf(2051).doubleValue());
        assertEquals(Half.POSITIVE_INFINITY, Half.valueOf(Integer.MAX_VALUE));
        assertEquals(Half.valueOf(2.75f), x.abs());
        assertEquals(Half.valueOf(2.75f), x.negate());
        assertEquals(Half.fromBits((short) 0x7e01).negate().toBits(), (short) 0xfe01);
        assertEquals(x, Half.min(x, Half.ONE));
        assertEquals(Half.ONE, Half.max(x, Half.ONE));
        assertEquals(Half.NEGATIVE_ZERO, Half.min(Half.ZERO, Half.NEGATIVE_ZERO));
        assertEquals(Half.ZERO, Half.max(Half.NEGATIVE_ZERO, Half.ZERO));
        assertTrue(Half.min(Half.NaN, Half.ONE).isNaN());
        assertTrue(Half.max(Half.ONE, Half.NaN).isNaN());
    }

    @Test
    void nullArgumentsAreRejectedByName() {
        Half one = Half.ONE;
        for (var call : new org.junit.jupiter.api.function.Executable[] {
                () -> one.add(null), () -> one.subtract(null), () -> one.multiply(null), () -> one.divide(null),
                () -> one.fma(null, one), () -> one.fma(one, null), () -> one.compareTo(null),
                () -> Half.min(null, one), () -> Half.max(one, null), () -> Half.compare(null, one)}) {
            NullPointerException e = assertThrows(NullPointerException.class, call);
            assertTrue(e.getMessage() != null && e.getMessage().startsWith("Half."), String.valueOf(e.getMessage()));
        }
    }

    @Test
    void fmaIsNotComputedThroughFloat() {
        // 1.5 * 0.6669921875 = 1 + 2^-11 exactly (a midpoint); + 2^-24 must round up to 1 + 2^-10,
        // whereas rounding the exact sum to float first gives the midpoint, which ties down to 1
        Half a = Half.valueOf(1.5);
        Half b = Half.valueOf(0.6669921875);
        assertEquals((short) 0x3c01, a.fma(b, Half.MIN_VALUE).toBits());
        assertEquals((short) 0x3c00, a.fma(b, Half.MIN_VALUE.negate()).toBits());
        assertEquals((short) 0x3c00, Half.fromFloat((float) (1.5 * 0.6669921875 + 0x1p-24)), "the trap exists");
    }

    @Test
    void fromDoubleIsNotThroughFloat() {
        double d = 1 + 0x1p-11 + 0x1p-40; // rounds to the float midpoint 1 + 2^-11, which ties down
        assertEquals((short) 0x3c00, Half.fromFloat((float) d), "the trap exists");
        assertEquals((short) 0x3c01, Half.fromDouble(d));
    }
}
