package dev.mpt.core.number;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.function.DoublePredicate;

/**
 * The rounding machinery that {@link Half} and {@link BFloat16} share.
 *
 * <p>Rounding twice to nearest can go wrong (a value just above a midpoint of the narrow format is
 * first rounded onto the midpoint, then the tie goes to even). Rounding the first time to
 * <em>odd</em> (truncate, then set the last bit when inexact) cannot: if the wide format has at
 * least two more significand bits than the narrow one, round-to-nearest-even of the round-to-odd
 * result equals round-to-nearest-even of the exact value (Boldo and Melquiond, "Emulation of FMA
 * and correctly rounded sums: proved algorithms using rounding to odd", IEEE Trans. Computers 57(4),
 * 2008, Theorem 1). Round-to-odd also composes: rounding to odd at 53 bits and then at 24 bits is
 * rounding to odd at 24 bits. FP32 (24 bits, sub-normal grid 2^-149) has at least two bits more
 * than FP16 (11 bits, grid 2^-24) and BF16 (8 bits, grid 2^-133) over both formats' whole ranges.
 */
final class Rounding {

    private Rounding() {
    }

    /** Rounds {@code d} to a float, to odd: truncation toward zero, last bit set when inexact. */
    static float toFloatOdd(double d) {
        float f = (float) d;
        if ((double) f == d || d != d) {
            return f;
        }
        int bits = Float.floatToRawIntBits(f);
        if (Math.abs((double) f) > Math.abs(d)) {
            bits--; // one step toward zero; +-Infinity steps to +-MAX_VALUE
        }
        return Float.intBitsToFloat(bits | 1);
    }

    /**
     * Returns {@code a + b} rounded to a double, to odd. The error of the nearest-even sum is exact
     * (Knuth's TwoSum, valid without overflow, which the callers' magnitudes exclude).
     */
    static double sumOdd(double a, double b) {
        double s = a + b;
        if (Double.isInfinite(s) || s != s) {
            return s;
        }
        double bb = s - a;
        double err = (a - (s - bb)) + (b - bb);
        if (err == 0 || (Double.doubleToRawLongBits(s) & 1) != 0) {
            return s;
        }
        return err > 0 ? Math.nextUp(s) : Math.nextDown(s);
    }

    /**
     * Parses {@code s} with the grammar of {@link Double#valueOf(String)} (decimal or hexadecimal,
     * {@code NaN}, {@code Infinity}) and returns its exact value rounded to a double, to odd.
     *
     * @throws NullPointerException if {@code s} is null
     * @throws NumberFormatException if {@code s} is not a number
     */
    static double parseOdd(String s, String op) {
        if (s == null) {
            throw new NullPointerException(op + ": the string to parse is null");
        }
        double nearest;
        try {
            nearest = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new NumberFormatException(op + ": not a number: \"" + s + "\"");
        }
        if (nearest == 0 || Double.isInfinite(nearest) || nearest != nearest) {
            // the exact value is below half of Double.MIN_VALUE or above the double range: far below
            // or above every 16-bit format's rounding thresholds, so the sign is all that matters
            return nearest;
        }
        BigDecimal exact;
        try {
            exact = exactValue(s.trim()); // trim() as Double.parseDouble does
        } catch (NumberFormatException | ArithmeticException e) {
            throw new NumberFormatException(op + ": cannot represent \"" + s + "\" exactly: " + e.getMessage());
        }
        return toDoubleOdd(exact, nearest);
    }

    /** {@code exact} rounded to a double, to odd, given {@code nearest}, its nearest double. */
    private static double toDoubleOdd(BigDecimal exact, double nearest) {
        int c = exact.compareTo(new BigDecimal(nearest));
        if (c == 0 || (Double.doubleToRawLongBits(nearest) & 1) != 0) {
            return nearest;
        }
        return c > 0 ? Math.nextUp(nearest) : Math.nextDown(nearest);
    }

    /** The exact value of a finite string already accepted by {@link Double#parseDouble}. */
    private static BigDecimal exactValue(String t) {
        char last = t.charAt(t.length() - 1);
        if ("fFdD".indexOf(last) >= 0) {
            t = t.substring(0, t.length() - 1);
        }
        int i = 0;
        boolean negative = false;
        if (t.charAt(0) == '+' || t.charAt(0) == '-') {
            negative = t.charAt(0) == '-';
            i = 1;
        }
        if (!t.regionMatches(true, i, "0x", 0, 2)) {
            return new BigDecimal(t);
        }
        int p = Math.max(t.indexOf('p'), t.indexOf('P'));
        String digits = t.substring(i + 2, p);
        int dot = digits.indexOf('.');
        int fractionDigits = dot < 0 ? 0 : digits.length() - dot - 1;
        BigInteger m = new BigInteger(digits.replace(".", ""), 16);
        long e = Long.parseLong(t.substring(p + 1).replace("+", "")) - 4L * fractionDigits;
        if (negative) {
            m = m.negate();
        }
        if (e >= 0) {
            return new BigDecimal(m.shiftLeft(Math.toIntExact(e)));
        }
        int n = Math.toIntExact(-e); // m * 2^-n = m * 5^n / 10^n
        return new BigDecimal(m.multiply(BigInteger.valueOf(5).pow(n)), n);
    }

    /**
     * Formats the finite value {@code v} (exact in double) as the shortest decimal that
     * {@code roundTrips} accepts (it is given the decimal rounded to a double, to odd, as
     * {@link #parseOdd} would return it), among those of that length the nearest to {@code v}, in the layout of {@link Float#toString(float)}: plain for
     * magnitudes in [10^-3, 10^7), else computerized scientific notation ({@code 6.0E-8}).
     */
    static String shortest(double v, DoublePredicate roundTrips) {
        if (v == 0) {
            return (Double.doubleToRawLongBits(v) < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(v);
        for (int digits = 1; ; digits++) {
            // the nearest decimal of this length; if it does not read back, the only other
            // candidate of this length inside the (convex) rounding interval is its neighbour on
            // the other side of v
            BigDecimal nearest = exact.round(new MathContext(digits, RoundingMode.HALF_EVEN));
            if (roundTrips.test(toDoubleOdd(nearest, nearest.doubleValue()))) {
                return layout(nearest.stripTrailingZeros());
            }
            RoundingMode other = nearest.compareTo(exact) < 0 ? RoundingMode.CEILING : RoundingMode.FLOOR;
            BigDecimal second = exact.round(new MathContext(digits, other));
            if (roundTrips.test(toDoubleOdd(second, second.doubleValue()))) {
                return layout(second.stripTrailingZeros());
            }
        }
    }

    private static String layout(BigDecimal d) {
        String digits = d.unscaledValue().abs().toString();
        int exp10 = digits.length() - 1 - d.scale();
        String sign = d.signum() < 0 ? "-" : "";
        if (exp10 >= -3 && exp10 < 7) {
            String plain = d.abs().toPlainString();
            return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
        }
        String rest = digits.length() > 1 ? digits.substring(1) : "0";
        return sign + digits.charAt(0) + "." + rest + "E" + exp10;
    }
}
