package dev.mpt.core.number;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;

/**
 * An independent, exact model of a 16-bit binary floating-point format (FP16 or BF16), built from
 * the IEEE 754 definition with BigDecimal only: the value of every bit pattern, and rounding of an
 * exact value to nearest, ties to even. The tests check mpt's float arithmetic against it.
 */
final class ExactFormat {

    static final ExactFormat FP16 = new ExactFormat(5, 10);
    static final ExactFormat BF16 = new ExactFormat(8, 7);


    final int expBits;
    final int fracBits;
    final int bias;
    final int infBits;
    /**
     * Significant digits that hold every value and every midpoint of this format exactly: they are
     * m * 2^-n with m < 2^(fracBits + 2) and n <= bias + fracBits, whose decimal expansion
     * m * 5^n / 10^n has at most 0.7 n + 5 significant digits (integers up to 2^(bias + 1) have
     * fewer). Quotients and square roots are computed to this many digits plus a margin.
     */
    final MathContext exactDigits;
    /** Exact values of the positive finite patterns 0 .. infBits - 1, increasing with the bits. */
    private final BigDecimal[] values;
    /** The same values as doubles (exact: 16-bit formats are subsets of double). */
    private final double[] doubles;
    /** The value one ulp above MAX_VALUE: 2^(emax + 1), where rounding reaches infinity. */
    private final BigDecimal overflowValue;

    private ExactFormat(int expBits, int fracBits) {
        this.expBits = expBits;
        this.fracBits = fracBits;
        this.bias = (1 << (expBits - 1)) - 1;
        this.infBits = ((1 << expBits) - 1) << fracBits;
        this.exactDigits = new MathContext((int) Math.ceil(0.7 * (bias + fracBits)) + 5 + 20);
        values = new BigDecimal[infBits];
        doubles = new double[infBits];
        for (int b = 0; b < infBits; b++) {
            int e = b >> fracBits;
            int f = b & ((1 << fracBits) - 1);
            BigInteger significand = BigInteger.valueOf(e == 0 ? f : (1 << fracBits) + f);
            int scale = (e == 0 ? 1 : e) - bias - fracBits; // value = significand * 2^scale
            values[b] = times2(new BigDecimal(significand), scale);
            doubles[b] = values[b].doubleValue();
        }
        overflowValue = times2(BigDecimal.ONE, (1 << expBits) - 1 - bias);
    }

    static BigDecimal times2(BigDecimal x, int n) {
        return n >= 0
                ? x.multiply(new BigDecimal(BigInteger.TWO.pow(n)))
                : x.multiply(BigDecimal.valueOf(5).pow(-n)).scaleByPowerOfTen(n);
    }

    boolean isNaN(int bits) {
        return (bits & 0x7fff) > infBits;
    }

    boolean isInfinite(int bits) {
        return (bits & 0x7fff) == infBits;
    }

    boolean negative(int bits) {
        return (bits & 0x8000) != 0;
    }

    /** The exact value of a finite pattern (a zero of either sign is BigDecimal zero). */
    BigDecimal value(int bits) {
        BigDecimal v = values[bits & 0x7fff];
        return negative(bits) ? v.negate() : v;
    }

    /**
     * {@code x} rounded to nearest, ties to even (the even pattern of the two neighbours; at the
     * top the neighbours are MAX_VALUE and infinity, so 2^emax * (2 - 2^-(p)) and above round to
     * infinity). A zero result takes the sign {@code negativeIfZero}.
     */
    short round(BigDecimal x, boolean negativeIfZero) {
        int sign = x.signum() < 0 || (x.signum() == 0 && negativeIfZero) ? 0x8000 : 0;
        BigDecimal a = x.abs();
        int lo = 0;
        int hi = infBits - 1;
        while (lo < hi) { // largest pattern whose value is <= a
            int mid = (lo + hi + 1) >>> 1;
            if (values[mid].compareTo(a) <= 0) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if (values[lo].compareTo(a) == 0) {
            return (short) (sign | lo);
        }
        BigDecimal upper = lo + 1 < infBits ? values[lo + 1] : overflowValue;
        int c = a.subtract(values[lo]).compareTo(upper.subtract(a));
        int chosen = c < 0 || (c == 0 && (lo & 1) == 0) ? lo : lo + 1;
        return (short) (sign | chosen);
    }

    /**
     * {@code d} rounded to this format, the sign of a zero result taken from {@code d}. Every value
     * of the format and every midpoint between neighbours is a double, so comparing {@code d} with
     * the midpoint in double arithmetic is exact (no subtraction, which could round).
     */
    short round(double d) {
        int sign = Double.doubleToRawLongBits(d) < 0 ? 0x8000 : 0;
        if (Double.isInfinite(d)) {
            return (short) (sign | infBits);
        }
        double a = Math.abs(d);
        int lo = 0;
        int hi = infBits - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (doubles[mid] <= a) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if (doubles[lo] == a) {
            return (short) (sign | lo);
        }
        double upper = lo + 1 < infBits ? doubles[lo + 1] : overflowValue.doubleValue();
        double midpoint = (doubles[lo] + upper) / 2; // exact: one bit more than the format has
        int chosen = a < midpoint || (a == midpoint && (lo & 1) == 0) ? lo : lo + 1;
        return (short) (sign | chosen);
    }
}
