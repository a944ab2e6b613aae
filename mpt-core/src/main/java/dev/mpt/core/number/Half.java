package dev.mpt.core.number;

import java.util.Objects;

/**
 * An IEEE 754 binary16 ("half precision", FP16) number: 1 sign bit, 5 exponent bits (bias 15), 10
 * fraction bits; 11 significant bits for normal numbers.
 *
 * <p>Every conversion and operation is correctly rounded to nearest, ties to even; subnormals are
 * kept, zeros are signed, and NaN and the infinities behave as IEEE 754 says. {@code Half} is a
 * value-based class: compare with {@link #equals(Object)}, not {@code ==}. Equality and ordering
 * follow {@link Float}: every NaN equals every NaN and is greater than {@code +Infinity}, and
 * {@code -0.0} is less than, and not equal to, {@code +0.0}.
 *
 * <p>Tensors store FP16 as {@code short} bit patterns; the static methods on {@code short} (such
 * as {@link #toFloat(short)}, {@link #fromFloat(float)}, {@link #isNaN(short)}) work on those bits
 * without allocating.
 */
public final class Half extends Number implements Comparable<Half> {

    private static final long serialVersionUID = 1L;

    /** Bits of the representation: {@value}. */
    public static final int SIZE = 16;
    /** Bytes of the representation: {@value}. */
    public static final int BYTES = 2;
    /** Significant bits of a normal number, the implicit leading bit included: {@value}. */
    public static final int PRECISION = 11;
    /** Largest exponent of a finite number: {@value} (MAX_VALUE = (2 - 2^-10) * 2^15). */
    public static final int MAX_EXPONENT = 15;
    /** Smallest exponent of a normal number: {@value} (MIN_NORMAL = 2^-14). */
    public static final int MIN_EXPONENT = -14;

    /** {@code +0.0}, bits {@code 0x0000}. */
    public static final Half ZERO = new Half((short) 0x0000);
    /** {@code -0.0}, bits {@code 0x8000}. */
    public static final Half NEGATIVE_ZERO = new Half((short) 0x8000);
    /** {@code 1.0}, bits {@code 0x3c00}. */
    public static final Half ONE = new Half((short) 0x3c00);
    /** Largest finite value, (2 - 2^-10) * 2^15 = 65504, bits {@code 0x7bff}. */
    public static final Half MAX_VALUE = new Half((short) 0x7bff);
    /** Smallest positive normal value, 2^-14 = 6.103515625E-5, bits {@code 0x0400}. */
    public static final Half MIN_NORMAL = new Half((short) 0x0400);
    /** Smallest positive (subnormal) value, 2^-24 = 5.9604644775390625E-8, bits {@code 0x0001}. */
    public static final Half MIN_VALUE = new Half((short) 0x0001);
    /** Distance from 1.0 to the next larger half, 2^-10 = 9.765625E-4, bits {@code 0x1400}. */
    public static final Half EPSILON = new Half((short) 0x1400);
    /** Positive infinity, bits {@code 0x7c00}. */
    public static final Half POSITIVE_INFINITY = new Half((short) 0x7c00);
    /** Negative infinity, bits {@code 0xfc00}. */
    public static final Half NEGATIVE_INFINITY = new Half((short) 0xfc00);
    /** The canonical quiet NaN, bits {@code 0x7e00}. */
    public static final Half NaN = new Half((short) 0x7e00);

    private static final int SIGN = 0x8000;
    private static final int EXP = 0x7c00;
    private static final int FRACTION = 0x03ff;

    private final short bits;

    private Half(short bits) {
        this.bits = bits;
    }

    // ---------------------------------------------------------------- bit-level statics

    /** The float equal to the half with bits {@code h} (exact; NaN stays NaN). */
    public static float toFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** The bits of {@code f} rounded to the nearest half, ties to even. */
    public static short fromFloat(float f) {
        return Float.floatToFloat16(f);
    }

    /**
     * The bits of {@code d} rounded to the nearest half, ties to even, in one rounding (rounding
     * to float first and then to half would round twice; {@code d} is rounded to float to odd
     * instead, see {@link Rounding}).
     */
    public static short fromDouble(double d) {
        return Float.floatToFloat16(Rounding.toFloatOdd(d));
    }

    /** Whether the half with bits {@code h} is a NaN. */
    public static boolean isNaN(short h) {
        return (h & 0x7fff) > EXP;
    }

    /** Whether the half with bits {@code h} is an infinity. */
    public static boolean isInfinite(short h) {
        return (h & 0x7fff) == EXP;
    }

    /** Whether the half with bits {@code h} is neither an infinity nor NaN. */
    public static boolean isFinite(short h) {
        return (h & EXP) != EXP;
    }

    /** Whether the half with bits {@code h} is subnormal (non-zero with a zero exponent field). */
    public static boolean isSubnormal(short h) {
        return (h & EXP) == 0 && (h & FRACTION) != 0;
    }

    /** The bits of the next half toward +Infinity (NaN and +Infinity unchanged, +-0 to MIN_VALUE). */
    public static short nextUp(short h) {
        if (isNaN(h) || h == (short) 0x7c00) {
            return h;
        }
        if ((h & 0x7fff) == 0) {
            return 0x0001;
        }
        return (short) (h >= 0 ? h + 1 : h - 1);
    }

    /** The bits of the next half toward -Infinity (NaN and -Infinity unchanged, +-0 to -MIN_VALUE). */
    public static short nextDown(short h) {
        if (isNaN(h) || h == (short) 0xfc00) {
            return h;
        }
        if ((h & 0x7fff) == 0) {
            return (short) 0x8001;
        }
        return (short) (h > 0 ? h - 1 : h + 1);
    }

    // ---------------------------------------------------------------- factories

    /** The half with bit pattern {@code bits}. */
    public static Half fromBits(short bits) {
        return new Half(bits);
    }

    /** {@code f} rounded to the nearest half, ties to even. */
    public static Half valueOf(float f) {
        return new Half(fromFloat(f));
    }

    /** {@code d} rounded to the nearest half, ties to even (one rounding). */
    public static Half valueOf(double d) {
        return new Half(fromDouble(d));
    }

    /** {@code i} rounded to the nearest half, ties to even. */
    public static Half valueOf(int i) {
        return new Half(fromDouble(i)); // int -> double is exact
    }

    /**
     * The number that {@code s} denotes, rounded to the nearest half, ties to even, in one rounding
     * from the exact decimal or hexadecimal value. Accepts what {@link Float#valueOf(String)}
     * accepts: surrounding whitespace, a sign, {@code NaN}, {@code Infinity}, decimal notation with
     * an optional exponent, hexadecimal notation ({@code 0x1.8p1}), an optional {@code f/F/d/D}
     * suffix.
     *
     * @throws NullPointerException if {@code s} is null
     * @throws NumberFormatException if {@code s} is not a number
     */
    public static Half valueOf(String s) {
        return new Half(fromDouble(Rounding.parseOdd(s, "Half.valueOf")));
    }

    // ---------------------------------------------------------------- accessors

    /** The bit pattern of this half. */
    public short toBits() {
        return bits;
    }

    @Override
    public float floatValue() {
        return toFloat(bits);
    }

    @Override
    public double doubleValue() {
        return toFloat(bits);
    }

    /** This value converted as {@code (int) floatValue()} (truncation, saturation, NaN to 0). */
    @Override
    public int intValue() {
        return (int) toFloat(bits);
    }

    /** This value converted as {@code (long) floatValue()} (truncation, NaN to 0). */
    @Override
    public long longValue() {
        return (long) toFloat(bits);
    }

    // ---------------------------------------------------------------- arithmetic

    // The sum, difference, product, quotient and square root of halves are computed in float and
    // rounded once to half. This is correctly rounded: rounding to a format of p >= 2q + 2 bits and
    // then to q bits equals one rounding to q bits for + - * / sqrt (Figueroa, "When is double
    // rounding innocuous?", ACM SIGNUM Newsletter 30(3), 1995); float has p = 24 >= 2 * 11 + 2.
    // Every result lies in float's normal range (2^-48 <= |x| <= 2^40) or is exact.

    /** {@code this + b}, correctly rounded. */
    public Half add(Half b) {
        return new Half(fromFloat(floatValue() + arg(b, "add").floatValue()));
    }

    /** {@code this - b}, correctly rounded. */
    public Half subtract(Half b) {
        return new Half(fromFloat(floatValue() - arg(b, "subtract").floatValue()));
    }

    /** {@code this * b}, correctly rounded. */
    public Half multiply(Half b) {
        return new Half(fromFloat(floatValue() * arg(b, "multiply").floatValue()));
    }

    /** {@code this / b}, correctly rounded. */
    public Half divide(Half b) {
        return new Half(fromFloat(floatValue() / arg(b, "divide").floatValue()));
    }

    /** The square root of this value, correctly rounded (NaN for values below zero, -0 for -0). */
    public Half sqrt() {
        return new Half(fromFloat((float) Math.sqrt(floatValue())));
    }

    /**
     * {@code this * b + c} with a single rounding. The product of two halves has at most 22
     * significant bits and is exact in double; the sum with {@code c} is rounded to double to odd
     * and then to half once, which is correctly rounded (see {@link Rounding}).
     */
    public Half fma(Half b, Half c) {
        double p = doubleValue() * arg(b, "fma").doubleValue();
        return new Half(fromDouble(Rounding.sumOdd(p, arg(c, "fma").doubleValue())));
    }

    /** {@code -this} (flips the sign bit, NaN included). */
    public Half negate() {
        return new Half((short) (bits ^ SIGN));
    }

    /** {@code |this|} (clears the sign bit, NaN included). */
    public Half abs() {
        return new Half((short) (bits & 0x7fff));
    }

    private static Half arg(Half b, String op) {
        return Objects.requireNonNull(b, () -> "Half." + op + ": the argument is null");
    }

    // ---------------------------------------------------------------- classification

    /** Whether this value is a NaN. */
    public boolean isNaN() {
        return isNaN(bits);
    }

    /** Whether this value is an infinity. */
    public boolean isInfinite() {
        return isInfinite(bits);
    }

    /** Whether this value is neither an infinity nor NaN. */
    public boolean isFinite() {
        return isFinite(bits);
    }

    /** Whether this value is subnormal. */
    public boolean isSubnormal() {
        return isSubnormal(bits);
    }

    /**
     * The distance from this value to the next half of larger magnitude: 2^(max(e, -14) - 10) for
     * a finite value with exponent e ({@link #MIN_VALUE} for zero and subnormals, 32 for
     * {@link #MAX_VALUE}); +Infinity for infinities, NaN for NaN (as {@link Math#ulp(float)}).
     */
    public Half ulp() {
        if (isNaN()) {
            return NaN;
        }
        if (isInfinite()) {
            return POSITIVE_INFINITY;
        }
        int e = Math.max((bits & EXP) >> 10, 1) - 15; // unbiased exponent, subnormals as -14
        int ulpExp = e - 10;
        return ulpExp >= MIN_EXPONENT
                ? new Half((short) ((ulpExp + 15) << 10))
                : new Half((short) (1 << (ulpExp + 24)));
    }

    /** The next half toward +Infinity (as {@link Math#nextUp(float)}). */
    public Half nextUp() {
        return new Half(nextUp(bits));
    }

    /** The next half toward -Infinity (as {@link Math#nextDown(float)}). */
    public Half nextDown() {
        return new Half(nextDown(bits));
    }

    // ---------------------------------------------------------------- comparison

    /** Compares as {@link Float#compare(float, float)}: -0 < +0, NaN above everything. */
    public static int compare(Half a, Half b) {
        Objects.requireNonNull(a, "Half.compare: a is null");
        Objects.requireNonNull(b, "Half.compare: b is null");
        return Float.compare(a.floatValue(), b.floatValue());
    }

    @Override
    public int compareTo(Half other) {
        Objects.requireNonNull(other, "Half.compareTo: the argument is null");
        return Float.compare(floatValue(), other.floatValue());
    }

    /** The smaller of {@code a} and {@code b} as {@link Math#min(float, float)}: NaN if either is NaN, -0 < +0. */
    public static Half min(Half a, Half b) {
        Objects.requireNonNull(a, "Half.min: a is null");
        Objects.requireNonNull(b, "Half.min: b is null");
        if (a.isNaN()) {
            return a;
        }
        if (b.isNaN()) {
            return b;
        }
        return compare(a, b) <= 0 ? a : b;
    }

    /** The larger of {@code a} and {@code b} as {@link Math#max(float, float)}: NaN if either is NaN, -0 < +0. */
    public static Half max(Half a, Half b) {
        Objects.requireNonNull(a, "Half.max: a is null");
        Objects.requireNonNull(b, "Half.max: b is null");
        if (a.isNaN()) {
            return a;
        }
        if (b.isNaN()) {
            return b;
        }
        return compare(a, b) >= 0 ? a : b;
    }

    /** Equal when the bits are equal, or both are NaN (as {@link Float#equals(Object)}). */
    @Override
    public boolean equals(Object o) {
        return o instanceof Half h && (h.bits == bits || (isNaN() && h.isNaN()));
    }

    @Override
    public int hashCode() {
        return isNaN() ? 0x7e00 : bits & 0xffff;
    }

    // ---------------------------------------------------------------- text

    /**
     * The shortest decimal that {@link #valueOf(String)} reads back as this half (the nearest to
     * this value among equally short ones), laid out as {@link Float#toString(float)} does:
     * {@code "1.0"}, {@code "0.1"}, {@code "65500.0"}, {@code "6.0E-8"}, {@code "-0.0"},
     * {@code "NaN"}, {@code "Infinity"}.
     */
    @Override
    public String toString() {
        if (!isFinite()) {
            return Float.toString(floatValue());
        }
        return Rounding.shortest(doubleValue(), d -> fromDouble(d) == bits);
    }

    /**
     * This value in hexadecimal as {@link Float#toHexString(float)} lays it out:
     * {@code 0x1.8p1}, subnormals as {@code 0x0.004p-14}, {@code NaN}, {@code Infinity}.
     */
    public String toHexString() {
        if (!isFinite()) {
            return Float.toString(floatValue());
        }
        String sign = bits < 0 ? "-" : "";
        int exp = (bits & EXP) >> 10;
        int frac = bits & FRACTION;
        if (exp == 0 && frac == 0) {
            return sign + "0x0.0p0";
        }
        String digits = String.format("%03x", frac << 2).replaceAll("0+$", "");
        if (digits.isEmpty()) {
            digits = "0";
        }
        return exp == 0
                ? sign + "0x0." + digits + "p-14"
                : sign + "0x1." + digits + "p" + (exp - 15);
    }
}
