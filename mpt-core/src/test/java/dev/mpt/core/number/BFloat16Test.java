package dev.mpt.core.number;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** {@link BFloat16} against the exact BF16 model; the shared cases live in {@link FormatContractTest}. */
class BFloat16Test extends FormatContractTest {

    @Override ExactFormat fmt() { return ExactFormat.BF16; }
    @Override float toFloat(short h) { return BFloat16.toFloat(h); }
    @Override short fromFloat(float f) { return BFloat16.fromFloat(f); }
    @Override short fromDouble(double d) { return BFloat16.fromDouble(d); }
    @Override short parse(String s) { return BFloat16.valueOf(s).toBits(); }
    @Override String toStr(short h) { return BFloat16.fromBits(h).toString(); }
    @Override String toHex(short h) { return BFloat16.fromBits(h).toHexString(); }
    @Override boolean isNaN(short h) { return BFloat16.isNaN(h); }
    @Override boolean isInfinite(short h) { return BFloat16.isInfinite(h); }
    @Override boolean isFinite(short h) { return BFloat16.isFinite(h); }
    @Override boolean isSubnormal(short h) { return BFloat16.isSubnormal(h); }
    @Override boolean[] boxedClassification(short h) {
        BFloat16 x = BFloat16.fromBits(h);
        return new boolean[] {x.isNaN(), x.isInfinite(), x.isFinite(), x.isSubnormal()};
    }
    @Override short nextUp(short h) { return BFloat16.nextUp(h); }
    @Override short nextDown(short h) { return BFloat16.nextDown(h); }
    @Override short boxedNextUp(short h) { return BFloat16.fromBits(h).nextUp().toBits(); }
    @Override short boxedNextDown(short h) { return BFloat16.fromBits(h).nextDown().toBits(); }
    @Override short ulp(short h) { return BFloat16.fromBits(h).ulp().toBits(); }
    @Override short add(short a, short b) { return BFloat16.fromBits(a).add(BFloat16.fromBits(b)).toBits(); }
    @Override short subtract(short a, short b) { return BFloat16.fromBits(a).subtract(BFloat16.fromBits(b)).toBits(); }
    @Override short multiply(short a, short b) { return BFloat16.fromBits(a).multiply(BFloat16.fromBits(b)).toBits(); }
    @Override short divide(short a, short b) { return BFloat16.fromBits(a).divide(BFloat16.fromBits(b)).toBits(); }
    @Override short sqrt(short a) { return BFloat16.fromBits(a).sqrt().toBits(); }
    @Override short fma(short a, short b, short c) {
        return BFloat16.fromBits(a).fma(BFloat16.fromBits(b), BFloat16.fromBits(c)).toBits();
    }
    @Override int compare(short a, short b) { return BFloat16.fromBits(a).compareTo(BFloat16.fromBits(b)); }
    @Override boolean boxedEquals(short a, short b) { return BFloat16.fromBits(a).equals(BFloat16.fromBits(b)); }
    @Override int boxedHash(short a) { return BFloat16.fromBits(a).hashCode(); }

    @Test
    void constantsHaveTheirDocumentedValues() {
        assertEquals(0, new BigDecimal("338953138925153547590470800371487866880")
                .compareTo(new BigDecimal(BFloat16.MAX_VALUE.doubleValue())));
        assertEquals(0x1p-126, BFloat16.MIN_NORMAL.doubleValue());
        assertEquals(0x1p-133, BFloat16.MIN_VALUE.doubleValue());
        assertEquals(0x1p-7, BFloat16.EPSILON.doubleValue());
        assertEquals(BFloat16.ONE.add(BFloat16.EPSILON), BFloat16.ONE.nextUp());
        assertEquals(1.0, BFloat16.ONE.doubleValue());
        assertEquals(0.0, BFloat16.ZERO.doubleValue());
        assertEquals("-0.0", BFloat16.NEGATIVE_ZERO.toString());
        assertEquals(Double.POSITIVE_INFINITY, BFloat16.POSITIVE_INFINITY.doubleValue());
        assertEquals(Double.NEGATIVE_INFINITY, BFloat16.NEGATIVE_INFINITY.doubleValue());
        assertTrue(BFloat16.NaN.isNaN());
        assertEquals(16, BFloat16.SIZE);
        assertEquals(2, BFloat16.BYTES);
        assertEquals(Math.getExponent(BFloat16.MAX_VALUE.floatValue()), BFloat16.MAX_EXPONENT);
        assertEquals(Math.getExponent(BFloat16.MIN_NORMAL.floatValue()), BFloat16.MIN_EXPONENT);
        assertEquals(BFloat16.POSITIVE_INFINITY, BFloat16.valueOf(0x1p128 - 0x1p119));
        assertEquals(BFloat16.MAX_VALUE, BFloat16.valueOf(Math.nextDown(0x1p128 - 0x1p119)));
    }

    @Test
    void textForms() {
        assertEquals("0.1", BFloat16.valueOf(0.1).toString());
        assertEquals("3.39E38", BFloat16.MAX_VALUE.toString());
        assertEquals("9.0E-41", BFloat16.MIN_VALUE.toString()); // 9E-41 is within half an ulp of 2^-133
        assertEquals("-1.0", BFloat16.valueOf(-1).toString());
        assertEquals("NaN", BFloat16.NaN.toString());
        assertEquals("-Infinity", BFloat16.NEGATIVE_INFINITY.toString());
        assertEquals("0x1.fep127", BFloat16.MAX_VALUE.toHexString());
        assertEquals("0x0.02p-126", BFloat16.MIN_VALUE.toHexString());
        assertEquals("0x1.0p0", BFloat16.ONE.toHexString());
    }

    @Test
    void numberViewsAndFactories() {
        BFloat16 x = BFloat16.valueOf(-2.75f);
        assertEquals(-2.75f, x.floatValue());
        assertEquals(-2.75, x.doubleValue());
        assertEquals(-2, x.intValue());
        assertEquals(-2L, x.longValue());
        assertEquals(256.0, BFloat16.valueOf(257).doubleValue()); // tie to even
        assertEquals(260.0, BFloat16.valueOf(259).doubleValue()); // tie to even
        assertEquals(0x1p31, BFloat16.valueOf(Integer.MAX_VALUE).doubleValue());
        assertEquals(BFloat16.valueOf(2.75f), x.abs());
        assertEquals(BFloat16.valueOf(2.75f), x.negate());
        assertEquals(x, BFloat16.min(x, BFloat16.ONE));
        assertEquals(BFloat16.ONE, BFloat16.max(x, BFloat16.ONE));
        assertEquals(BFloat16.NEGATIVE_ZERO, BFloat16.min(BFloat16.ZERO, BFloat16.NEGATIVE_ZERO));
        assertEquals(BFloat16.ZERO, BFloat16.max(BFloat16.NEGATIVE_ZERO, BFloat16.ZERO));
        assertTrue(BFloat16.min(BFloat16.NaN, BFloat16.ONE).isNaN());
        assertTrue(BFloat16.max(BFloat16.ONE, BFloat16.NaN).isNaN());
        // a NaN whose payload lies only in the low 16 float bits stays NaN (not Infinity)
        assertTrue(BFloat16.isNaN(BFloat16.fromFloat(Float.intBitsToFloat(0x7f800001))));
    }

    @Test
    void nullArgumentsAreRejectedByName() {
        BFloat16 one = BFloat16.ONE;
        for (var call : new org.junit.jupiter.api.function.Executable[] {
                () -> one.add(null), () -> one.subtract(null), () -> one.multiply(null), () -> one.divide(null),
                () -> one.fma(null, one), () -> one.fma(one, null), () -> one.compareTo(null),
                () -> BFloat16.min(null, one), () -> BFloat16.max(one, null), () -> BFloat16.compare(null, one)}) {
            NullPointerException e = assertThrows(NullPointerException.class, call);
            assertTrue(e.getMessage() != null && e.getMessage().startsWith("BFloat16."), String.valueOf(e.getMessage()));
        }
    }

    @Test
    void fmaIsNotComputedThroughDouble() {
        // 1.75 * 0.578125 = 1 + 3 * 2^-8 exactly (a midpoint); - 2^-133 must round down to 1 + 2^-7,
        // whereas rounding the exact sum to double first gives the midpoint, which ties up to 1 + 2^-6
        BFloat16 a = BFloat16.valueOf(1.75);
        BFloat16 b = BFloat16.valueOf(0.578125);
        assertEquals((short) 0x3f81, a.fma(b, BFloat16.MIN_VALUE.negate()).toBits());
        assertEquals((short) 0x3f82, a.fma(b, BFloat16.MIN_VALUE).toBits());
        assertEquals((short) 0x3f82, BFloat16.fromDouble(1.75 * 0.578125 - 0x1p-133), "the trap exists");
    }

    @Test
    void fromDoubleIsNotThroughFloat() {
        double d = 1 + 0x1p-8 + 0x1p-40; // rounds to the float midpoint 1 + 2^-8, which ties down
        assertEquals((short) 0x3f80, BFloat16.fromFloat((float) d), "the trap exists");
        assertEquals((short) 0x3f81, BFloat16.fromDouble(d));
    }
}
