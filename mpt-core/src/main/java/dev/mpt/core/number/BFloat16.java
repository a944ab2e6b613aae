package dev.mpt.core.number;

import java.util.Objects;

/**
 * A bfloat16 (BF16) number: 1 sign bit, 8 exponent bits (bias 127, the range of float), 7 fraction
 * bits; 8 significant bits for normal numbers. A BF16 is the upper half of a float's bits.
 *
 * <p>Every conversion and operation is correctly rounded to nearest, ties to even; subnormals are
 * kept, zeros are signed, and NaN and the infinities behave as IEEE 754 says. {@code BFloat16} is a
 * value-based class: compare with {@link #equals(Object)}, not {@code ==}. Equality and ordering
 * follow {@link Float}: every NaN equals every NaN and is greater than {@code +Infinity}, and
 * {@code -0.0} is less than, and not equal to, {@code +0.0}.
 *
 * <p>Tensors store BF16 as {@code short} bit patterns; the static methods on {@code short} (such
 * as {@link #toFloat(short)}, {@link #fromFloat(float)}, {@link #isNaN(short)}) work on those bits
 * without allocating.
 */
public final class BFloat16 extends Number implements Comparable<BFloat16> {

    private static final long serialVersionUID = 1L;

    /** Bits of the representation: {@value}. */
    public static final int SIZE = 16;
    /** Bytes of the representation: {@value}. */
    public static final int BYTES = 2;
    /** Significant bits of a normal number, the implicit leading bit included: {@value}. */
    public static final int PRECISION = 8;
    /** Largest exponent of a finite number: {@value} (MAX_VALUE = (2 - 2^-7) * 2^127). */
    public static final int MAX_EXPONENT = 127;
    /** Smallest exponent of a normal number: {@value} (MIN_NORMAL = 2^-126). */
    public static final int MIN_EXPONENT = -126;

    /** {@code +0.0}, bits {@code 0x0000}. */
    public static final BFloat16 ZERO = new BFloat16((short) 0x0000);
    /** {@code -0.0}, bits {@code 0x8000}. */
    public static final BFloat16 NEGATIVE_ZERO = new BFloat16((short) 0x8000);
    /** {@code 1.0}, bits {@code 0x3c00}. */
    public static final BFloat16 ONE = new BFloat16((short) 0x3f80);
    /**
     * Largest finite value, (2 - 2^-7) * 2^127 = 2^128 - 2^120 = 338953138925153547590470800371487866880
     * (about 3.3895314E38), bits {@code 0x7f7f}.
     */
    public static final BFloat16 MAX_VALUE = new BFloat16((short) 0x7f7f);
    /** Smallest positive normal value, 2^-126 (about 1.1754944E-38, as Float.MIN_NORMAL), bits {@code 0x0080}. */
    public static final BFloat16 MIN_NORMAL = new BFloat16((short) 0x0080);
    /** Smallest positive (subnormal) value, 2^-133 (about 9.1835496E-41), bits {@code 0x0001}. */
    public static final BFloat16 MIN_VALUE = new BFloat16((short) 0x0001);
    /** Distance from 1.0 to the next larger bfloat16, 2^-7 = 0.0078125, bits {@code 0x3c00}. */
    public static final BFloat16 EPSILON = new BFloat16((short) 0x3c00);
    /** Positive infinity, bits {@code 0x7f80}. */
    public static final BFloat16 POSITIVE_INFINITY = new BFloat16((short) 0x7f80);
    /** Negative infinity, bits {@code 0xff80}. */
    public static final BFloat16 NEGATIVE_INFINITY = new BFloat16((short) 0xff80);
    /** The canonical quiet NaN, bits {@code 0x7fc0}. */
    public static final BFloat16 NaN = new BFloat16((short) 0x7fc0);

    private static final int SIGN = 0x8000;
    private static final int EXP = 0x7f80;
    private static final int FRACTION = 0x007f;

    private final short bits;

    private BFloat16(short bits) {
        this.bits = bits;
    }

    // ---------------------------------------------------------------- bit-level statics

    /** The float equal to the bfloat16 with bits {@code h}: the float whose upper 16 bits are {@code h} (exact). */
    public static float toFloat(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    /**
     * The bits of {@code f} rounded to the nearest bfloat16, ties to even: the upper 16 bits of
     * {@code f}'s bits after adding {@code 0x7fff} plus the lowest kept bit (overflow carries into
     * the exponent and reaches infinity exactly at the IEEE threshold). A NaN keeps its sign and
     * upper payload bits and becomes quiet ({@code | 0x0040}), so it cannot turn into an infinity.
     * This is the definition the bulk kernels in {@code dev.mpt.core.kernel.Convert} are tested against.
     */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /**
     * The bits of {@code d} rounded to the nearest bfloat16, ties to even, in one rounding
     * (rounding to float first and then to bfloat16 would round twice; {@code d} is rounded to
     * float to odd instead, see {@link Rounding}).
     */
    public static short fromDouble(double d) {
        return fromFloat(Rounding.toFloatOdd(d));
    }

    /** Whether the bfloat16 with bits {@code h} is a NaN. */
    public static boolean isNaN(short h) {
        return (h & 0x7fff) > EXP;
    }

    /** Whether the bfloat16 with bits {@code h} is an infinity. */
    public static boolean isInfinite(short h) {
        return (h & 0x7fff) == EXP;
    }

    /** Whether the bfloat16 with bits {@code h} is neither an infinity nor NaN. */
    public static boolean isFinite(short h) {
        return (h & EXP) != EXP;
    }

    /** Whether the bfloat16 with bits {@code h} is subnormal (non-zero with a zero exponent field). */
    public static boolean isSubnormal(short h) {
        return (h & EXP) == 0 && (h & FRACTION) != 0;
    }

    /** The bits of the next bfloat16 toward +Infinity (NaN and +Infinity unchanged, +-0 to MIN_VALUE). */
    public static short nextUp(short h) {
        if (isNaN(h) || h == (short) 0x7f80) {
            return h;
        }
        if ((h & 0x7fff) == 0) {
            return 0x0001;
        }
        return (short) (h >= 0 ? h + 1 : h - 1);
    }

    /** The bits of the next bfloat16 toward -Infinity (NaN and -Infinity unchanged, +-0 to -MIN_VALUE). */
    public static short nextDown(short h) {
        if (isNaN(h) || h == (short) 0xff80) {
            return h;
        }
        if ((h & 0x7fff) == 0) {
            return (short) 0x8001;
        }
        return (short) (h > 0 ? h - 1 : h + 1);
    }

    // ---------------------------------------------------------------- factories

    /** The bfloat16 with bit pattern {@code bits}. */
    public static BFloat16 fromBits(short bits) {
        return new BFloat16(bits);
    }

    /** {@code f} rounded to the nearest bfloat16, ties to even. */
    public static BFloat16 valueOf(float f) {
        return new BFloat16(fromFloat(f));
    }

    /** {@code d} rounded to the nearest bfloat16, ties to even (one rounding). */
    public static BFloat16 valueOf(double d) {
        return new BFloat16(fromDouble(d));
    }

    /** {@code i} rounded to the nearest bfloat16, ties to even. */
    public static BFloat16 valueOf(int i) {
        return new BFloat16(fromDouble(i)); // int -> double is exact
    }

    /**
     * The number that {@code s} denotes, rounded to the nearest bfloat16, ties to even, in one rounding
     * from the exact decimal or hexadecimal value. Accepts what {@link Float#valueOf(String)}
     * accepts: surrounding whitespace, a sign, {@code NaN}, {@code Infinity}, decimal notation with
     * an optional exponent, hexadecimal notation ({@code 0x1.8p1}), an optional {@code f/F/d/D}
     * suffix.
     *
     * @throws NullPointerException if {@code s} is null
     * @throws NumberFormatException if {@code s} is not a number
     */
    public static BFloat16 valueOf(String s) {
        return new BFloat16(fromDouble(Rounding.parseOdd(s, "BFloat16.valueOf")));
    }

    // ---------------------------------------------------------------- accessors

    /** The bit pattern of this bfloat16. */
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

    // The sum, difference, product, quotient and square root of bfloat16s are computed in double and
    // rounded once to bfloat16. This is correctly rounded: rounding to a format of p >= 2q + 2 bits
    // and then to q bits equals one rounding to q bits for + - * / sqrt (Figueroa, "When is double
    // rounding innocuous?", ACM SIGNUM Newsletter 30(3), 1995); double has p = 53 >= 2 * 8 + 2.
    // Float (p = 24) meets the bound as well, but in float's subnormal range it has fewer than 24
    // bits and the theorem no longer applies as stated; in double every bfloat16 result lies in the
    // normal range (2^-266 <= |x| <= 2^261 or x exact), so the argument holds without exceptions.

    /** {@code this + b}, correctly rounded. */
    public BFloat16 add(BFloat16 b) {
        return new BFloat16(fromDouble(doubleValue() + arg(b, "add").doubleValue()));
    }

    /** {@code this - b}, correctly rounded. */
    public BFloat16 subtract(BFloat16 b) {
        return new BFloat16(fromDouble(doubleValue() - arg(b, "subtract").doubleValue()));
    }

    /** {@code this * b}, correctly rounded. */
    public BFloat16 multiply(BFloat16 b) {
        return new BFloat16(fromDouble(doubleValue() * arg(b, "multiply").doubleValue()));
    }

    /** {@code this / b}, correctly rounded. */
    public BFloat16 divide(BFloat16 b) {
        return new BFloat16(fromDouble(doubleValue() / arg(b, "divide").doubleValue()));
    }

    /** The square root of this value, correctly rounded (NaN for values below zero, -0 for -0). */
    public BFloat16 sqrt() {
        return new BFloat16(fromDouble(Math.sqrt(doubleValue())));
    }

    /**
     * {@code this * b + c} with a single rounding. The product of two bfloat16s has at most 16
     * significant bits and is exact in double (no overflow or underflow); the sum with {@code c}
     * is rounded to double to odd and then to bfloat16 once, which is correctly rounded (see
     * {@link Rounding}). Rounding the sum to nearest double instead can land on a midpoint:
     * {@code 1.75 * 0.578125 - 2^-133}.
     */
    public BFloat16 fma(BFloat16 b, BFloat16 c) {
        double p = doubleValue() * arg(b, "fma").doubleValue();
        return new BFloat16(fromDouble(Rounding.sumOdd(p, arg(c, "fma").doubleValue())));
    }

    /** {@code -this} (flips the sign bit, NaN included). */
    public BFloat16 negate() {
        return new BFloat16((short) (bits ^ SIGN));
    }

    /** {@code |this|} (clears the sign bit, NaN included). */
    public BFloat16 abs() {
        return new BFloat16((short) (bits & 0x7fff));
    }

    private static BFloat16 arg(BFloat16 b, String op) {
        return Objects.requireNonNull(b, () -> "BFloat16." + op + ": the argument is null");
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
     * The distance from this value to the next bfloat16 of larger magnitude: 2^(max(e, -126) - 7)
     * for a finite value with exponent e ({@link #MIN_VALUE} for zero and subnormals, 2^120 for
     * {@link #MAX_VALUE}); +Infinity for infinities, NaN for NaN (as {@link Math#ulp(float)}).
     */
    public BFloat16 ulp() {
        if (isNaN()) {
            return NaN;
        }
        if (isInfinite()) {
            return POSITIVE_INFINITY;
        }
        int e = Math.max((bits & EXP) >> 7, 1) - 127; // unbiased exponent, subnormals as -126
        int ulpExp = e - 7;
        return ulpExp >= MIN_EXPONENT
                ? new BFloat16((short) ((ulpExp + 127) << 7))
                : new BFloat16((short) (1 << (ulpExp + 133)));
    }

    /** The next bfloat16 toward +Infinity (as {@link Math#nextUp(float)}). */
    public BFloat16 nextUp() {
        return new BFloat16(nextUp(bits));
    }

    /** The next bfloat16 toward -Infinity (as {@link Math#nextDown(float)}). */
    public BFloat16 nextDown() {
        return new BFloat16(nextDown(bits));
    }

    // ---------------------------------------------------------------- comparison

    /** Compares as {@link Float#compare(float, float)}: -0 < +0, NaN above everything. */
    public static int compare(BFloat16 a, BFloat16 b) {
        Objects.requireNonNull(a, "BFloat16.compare: a is null");
        Objects.requireNonNull(b, "BFloat16.compare: b is null");
        return Float.compare(a.floatValue(), b.floatValue());
    }

    @Override
    public int compareTo(BFloat16 other) {
        Objects.requireNonNull(other, "BFloat16.compareTo: the argument is null");
        return Float.compare(floatValue(), other.floatValue());
    }

    /** The smaller of {@code a} and {@code b} as {@link Math#min(float, float)}: NaN if either is NaN, -0 < +0. */
    public static BFloat16 min(BFloat16 a, BFloat16 b) {
        Objects.requireNonNull(a, "BFloat16.min: a is null");
        Objects.requireNonNull(b, "BFloat16.min: b is null");
        if (a.isNaN()) {
            return a;
        }
        if (b.isNaN()) {
            return b;
        }
        return compare(a, b) <= 0 ? a : b;
    }

    /** The larger of {@code a} and {@code b} as {@link Math#max(float, float)}: NaN if either is NaN, -0 < +0. */
    public static BFloat16 max(BFloat16 a, BFloat16 b) {
        Objects.requireNonNull(a, "BFloat16.max: a is null");
        Objects.requireNonNull(b, "BFloat16.max: b is null");
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
        return o instanceof BFloat16 h && (h.bits == bits || (isNaN() && h.isNaN()));
    }

    @Override
    public int hashCode() {
        return isNaN() ? 0x7fc0 : bits & 0xffff;
    }

    // ---------------------------------------------------------------- text

    /**
     * The shortest decimal that {@link #valueOf(String)} reads back as this bfloat16 (the nearest to
     * this value among equally short ones), laid out as {@link Float#toString(float)} does:
     * {@code "1.0"}, {@code "0.1"}, {@code "3.39E38"}, {@code "9.0E-41"}, {@code "-0.0"},
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
     * {@code 0x1.8p1}, subnormals as {@code 0x0.02p-126}, {@code NaN}, {@code Infinity}.
     */
    public String toHexString() {
        if (!isFinite()) {
            return Float.toString(floatValue());
        }
        String sign = bits < 0 ? "-" : "";
        int exp = (bits & EXP) >> 7;
        int frac = bits & FRACTION;
        if (exp == 0 && frac == 0) {
            return sign + "0x0.0p0";
        }
        String digits = String.format("%02x", frac << 1).replaceAll("0+$", "");
        if (digits.isEmpty()) {
            digits = "0";
        }
        return exp == 0
                ? sign + "0x0." + digits + "p-126"
                : sign + "0x1." + digits + "p" + (exp - 127);
    }
}
