package dev.mpt.optim.amp;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Where gradient values fall relative to FP16's range (Micikevicius et al., ICLR 2018,
 * Figure 3): a histogram of {@code floor(log2 |g|)} of the true (unscaled) magnitudes, and how
 * many values would be zero, subnormal, normal or overflow in FP16 at a given loss scale.
 *
 * <p>FP16 classes of a scaled value {@code v = |g| * scale}, from round-to-nearest-even:
 * <ul>
 *   <li>zero: {@code v <= 2^-25} (half the smallest subnormal 2^-24; the tie rounds to even 0)</li>
 *   <li>subnormal: {@code 2^-25 < v < 2^-14 - 2^-25} (above it, rounding reaches 2^-14)</li>
 *   <li>normal: {@code 2^-14 - 2^-25 <= v < 65520}</li>
 *   <li>overflow: {@code v >= 65520} (halfway between 65504 and 2^16; rounds to infinity), and
 *       infinities</li>
 * </ul>
 * NaNs are counted apart and belong to no class and no histogram bin. For FP32 input the
 * product {@code |g| * scale} is formed in double, exact when the scale is a power of two. For
 * FP16 input (gradients already scaled by {@code scaleUsed}) the class is read from the bits.
 *
 * <p>Histogram bins are exponents {@link #MIN_EXPONENT} to {@link #MAX_EXPONENT}: bin {@code e}
 * counts {@code 2^e <= |g| < 2^(e+1)}; nonzero values below {@code 2^MIN_EXPONENT} and at or
 * above {@code 2^(MAX_EXPONENT+1)} have their own counts, and so do exact zeros.
 */
public final class GradientStats {

    /** The smallest histogram exponent: -60. */
    public static final int MIN_EXPONENT = -60;
    /** The largest histogram exponent: 20. */
    public static final int MAX_EXPONENT = 20;

    /** Largest |v| that rounds to FP16 zero: 2^-25. */
    static final double FP16_ZERO_LIMIT = 0x1p-25;
    /** Smallest |v| that rounds to an FP16 normal: 2^-14 - 2^-25. */
    static final double FP16_NORMAL_FROM = 0x1p-14 - 0x1p-25;
    /** Smallest |v| that rounds to FP16 infinity: 65520. */
    static final double FP16_OVERFLOW_FROM = 65520;
    /** The largest finite FP16 value. */
    static final double FP16_MAX = 65504;

    private final double scale;
    private final long[] bins;
    private final long zeros;
    private final long below;
    private final long above;
    private final long nans;
    private final long fp16Zero;
    private final long fp16Subnormal;
    private final long fp16Normal;
    private final long fp16Overflow;
    private final double maxFinite;

    private GradientStats(double scale, long[] bins, long zeros, long below, long above, long nans,
                          long fp16Zero, long fp16Subnormal, long fp16Normal, long fp16Overflow, double maxFinite) {
        this.scale = scale;
        this.bins = bins;
        this.zeros = zeros;
        this.below = below;
        this.above = above;
        this.nans = nans;
        this.fp16Zero = fp16Zero;
        this.fp16Subnormal = fp16Subnormal;
        this.fp16Normal = fp16Normal;
        this.fp16Overflow = fp16Overflow;
        this.maxFinite = maxFinite;
    }

    /** Statistics of the whole array of true FP32 gradients at loss scale {@code scale}. */
    public static GradientStats of(float[] grads, double scale) {
        Objects.requireNonNull(grads, "GradientStats.of: grads is null");
        return of(grads, 0, grads.length, scale);
    }

    /**
     * Statistics of true (unscaled) FP32 gradients {@code grads[off, off+len)}, with their FP16
     * classes at loss scale {@code scale}.
     *
     * @throws IllegalArgumentException  if {@code scale} is not finite and {@code > 0}
     * @throws IndexOutOfBoundsException if the range falls outside the array
     */
    public static GradientStats of(float[] grads, int off, int len, double scale) {
        Objects.requireNonNull(grads, "GradientStats.of: grads is null");
        Objects.checkFromIndexSize(off, len, grads.length);
        checkScale("GradientStats.of", scale);
        var acc = new Accumulator(scale);
        for (int i = off; i < off + len; i++) {
            double a = Math.abs((double) grads[i]);
            if (Double.isNaN(a)) {
                acc.nans++;
                continue;
            }
            acc.bin(a);
            double v = a * scale;
            if (v <= FP16_ZERO_LIMIT) {
                acc.fp16Zero++;
            } else if (v < FP16_NORMAL_FROM) {
                acc.fp16Subnormal++;
            } else if (v < FP16_OVERFLOW_FROM) {
                acc.fp16Normal++;
            } else {
                acc.fp16Overflow++;
            }
        }
        return acc.build();
    }

    /**
     * Statistics of FP16 gradients {@code half[off, off+len)} (bit patterns) that were computed
     * with loss scale {@code scaleUsed}: the histogram bins the true magnitudes
     * {@code |h| / scaleUsed}, the FP16 classes are those of the stored values.
     *
     * @throws IllegalArgumentException  if {@code scaleUsed} is not finite and {@code > 0}
     * @throws IndexOutOfBoundsException if the range falls outside the array
     */
    public static GradientStats ofHalf(short[] half, int off, int len, double scaleUsed) {
        Objects.requireNonNull(half, "GradientStats.ofHalf: half is null");
        Objects.checkFromIndexSize(off, len, half.length);
        checkScale("GradientStats.ofHalf", scaleUsed);
        var acc = new Accumulator(scaleUsed);
        for (int i = off; i < off + len; i++) {
            int bits = half[i] & 0x7fff;
            int exp = bits >>> 10;
            if (exp == 0x1f && bits != 0x7c00) {
                acc.nans++;
                continue;
            }
            if (bits == 0) {
                acc.fp16Zero++;
            } else if (exp == 0) {
                acc.fp16Subnormal++;
            } else if (exp < 0x1f) {
                acc.fp16Normal++;
            } else {
                acc.fp16Overflow++;
            }
            double h = Float.float16ToFloat((short) bits);
            if (h == 0 || Double.isInfinite(h)) {
                acc.bin(h);
            } else {
                acc.binQuotient(h, scaleUsed);
            }
        }
        return acc.build();
    }

    /**
     * Statistics per named gradient array (e.g. per layer), in the map's iteration order.
     *
     * @throws NullPointerException if the map, a name or an array is null
     */
    public static Map<String, GradientStats> perLayer(Map<String, float[]> grads, double scale) {
        Objects.requireNonNull(grads, "GradientStats.perLayer: grads is null");
        Map<String, GradientStats> out = new LinkedHashMap<>();
        grads.forEach((name, g) -> {
            Objects.requireNonNull(name, "GradientStats.perLayer: a layer name is null");
            if (g == null) {
                throw new NullPointerException("GradientStats.perLayer: gradients of '" + name + "' are null");
            }
            out.put(name, of(g, scale));
        });
        return out;
    }

    /**
     * The statistics of both sets together (e.g. all layers).
     *
     * @throws IllegalArgumentException if the two were taken at different scales
     */
    public GradientStats merge(GradientStats other) {
        Objects.requireNonNull(other, "GradientStats.merge: other is null");
        if (other.scale != scale) {
            throw new IllegalArgumentException("GradientStats.merge: scales differ, " + scale + " and " + other.scale);
        }
        long[] b = bins.clone();
        for (int i = 0; i < b.length; i++) {
            b[i] += other.bins[i];
        }
        return new GradientStats(scale, b, zeros + other.zeros, below + other.below, above + other.above,
                nans + other.nans, fp16Zero + other.fp16Zero, fp16Subnormal + other.fp16Subnormal,
                fp16Normal + other.fp16Normal, fp16Overflow + other.fp16Overflow,
                Math.max(maxFinite, other.maxFinite));
    }

    /** The loss scale the FP16 classes refer to. */
    public double scale() {
        return scale;
    }

    /** Number of values seen, NaNs included. */
    public long count() {
        return fp16Zero + fp16Subnormal + fp16Normal + fp16Overflow + nans;
    }

    /**
     * Number of values with {@code 2^exponent <= |g| < 2^(exponent+1)}.
     *
     * @throws IllegalArgumentException if {@code exponent} is outside [MIN_EXPONENT, MAX_EXPONENT]
     */
    public long countAtExponent(int exponent) {
        if (exponent < MIN_EXPONENT || exponent > MAX_EXPONENT) {
            throw new IllegalArgumentException("GradientStats.countAtExponent: exponent must be in [" + MIN_EXPONENT
                    + ", " + MAX_EXPONENT + "], got " + exponent);
        }
        return bins[exponent - MIN_EXPONENT];
    }

    /** Number of exact zeros. */
    public long zeroCount() {
        return zeros;
    }

    /** Number of nonzero values below {@code 2^MIN_EXPONENT}. */
    public long belowRangeCount() {
        return below;
    }

    /** Number of values at or above {@code 2^(MAX_EXPONENT+1)}, infinities included. */
    public long aboveRangeCount() {
        return above;
    }

    /** Number of NaNs. */
    public long nanCount() {
        return nans;
    }

    /** Values that are zero in FP16 at {@link #scale()} (exact zeros included). */
    public long fp16ZeroCount() {
        return fp16Zero;
    }

    /** Values that are FP16 subnormals at {@link #scale()}. */
    public long fp16SubnormalCount() {
        return fp16Subnormal;
    }

    /** Values that are FP16 normals at {@link #scale()}. */
    public long fp16NormalCount() {
        return fp16Normal;
    }

    /** Values that overflow FP16 at {@link #scale()}. */
    public long fp16OverflowCount() {
        return fp16Overflow;
    }

    /** {@link #fp16ZeroCount()} over {@link #count()}; 0 when empty. */
    public double fractionZero() {
        return fraction(fp16Zero);
    }

    /** {@link #fp16SubnormalCount()} over {@link #count()}; 0 when empty. */
    public double fractionSubnormal() {
        return fraction(fp16Subnormal);
    }

    /** {@link #fp16NormalCount()} over {@link #count()}; 0 when empty. */
    public double fractionNormal() {
        return fraction(fp16Normal);
    }

    /** {@link #fp16OverflowCount()} over {@link #count()}; 0 when empty. */
    public double fractionOverflow() {
        return fraction(fp16Overflow);
    }

    private double fraction(long n) {
        long c = count();
        return c == 0 ? 0 : (double) n / c;
    }

    /** The largest finite true magnitude seen (0 when none). */
    public double maxAbs() {
        return maxFinite;
    }

    /**
     * The largest power of two {@code S} with {@code maxAbs() * S <= 65504}: the largest static
     * scale under which no value seen here overflows FP16.
     *
     * @throws IllegalStateException if no nonzero finite value was seen
     */
    public double suggestScale() {
        if (!(maxFinite > 0)) {
            throw new IllegalStateException("GradientStats.suggestScale: no nonzero finite gradient value was seen");
        }
        int k = Math.getExponent(FP16_MAX / maxFinite);
        while (Math.scalb(maxFinite, k) > FP16_MAX) {
            k--;
        }
        while (Math.scalb(maxFinite, k + 1) <= FP16_MAX) {
            k++;
        }
        return Math.scalb(1.0, k);
    }

    /**
     * The smallest power of two {@code S} that lifts at least the fraction {@code quantile} of the
     * nonzero finite values to {@code 2^-24} or above (so they do not flush to zero in FP16),
     * capped at {@link #suggestScale()} so that nothing seen overflows. Worked out from the
     * histogram: with {@code e} the largest exponent such that the bins from {@code e} up hold
     * at least {@code quantile} of the nonzero values, {@code S = 2^(-24 - e)} puts every value
     * of those bins at {@code >= 2^-24}. Values below {@code 2^MIN_EXPONENT} count as exponent
     * {@code MIN_EXPONENT - 1}, values above the range as {@code MAX_EXPONENT + 1}.
     *
     * @param quantile in (0, 1]
     * @throws IllegalArgumentException if {@code quantile} is out of range
     * @throws IllegalStateException    if no nonzero finite value was seen
     */
    public double suggestScale(double quantile) {
        if (!(quantile > 0 && quantile <= 1)) {
            throw new IllegalArgumentException("GradientStats.suggestScale: quantile must be in (0, 1], got " + quantile);
        }
        double cap = suggestScale();
        long nonzero = below + above + Arrays.stream(bins).sum();
        double need = quantile * nonzero;
        long survivors = above;
        int e = MAX_EXPONENT + 1;
        while (survivors < need && e > MIN_EXPONENT - 1) {
            e--;
            survivors += e >= MIN_EXPONENT ? bins[e - MIN_EXPONENT] : below;
        }
        return Math.min(Math.scalb(1.0, -24 - e), cap);
    }

    @Override
    public String toString() {
        return String.format("GradientStats[count=%d, scale=%s, fp16 zero=%.4f subnormal=%.4f normal=%.4f "
                        + "overflow=%.4f, nan=%d, maxAbs=%s]", count(), scale, fractionZero(), fractionSubnormal(),
                fractionNormal(), fractionOverflow(), nans, maxFinite);
    }

    private static void checkScale(String op, double scale) {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException(op + ": scale must be finite and > 0, got " + scale);
        }
    }

    /** Counts gathered by one pass; becomes an immutable {@link GradientStats}. */
    private static final class Accumulator {
        final double scale;
        final long[] bins = new long[MAX_EXPONENT - MIN_EXPONENT + 1];
        long zeros;
        long below;
        long above;
        long nans;
        long fp16Zero;
        long fp16Subnormal;
        long fp16Normal;
        long fp16Overflow;
        double maxFinite;

        Accumulator(double scale) {
            this.scale = scale;
        }

        /** Bins a non-negative true magnitude {@code a} (exact, or zero, or infinite). */
        void bin(double a) {
            if (a == 0) {
                zeros++;
            } else if (Double.isInfinite(a)) {
                above++;
            } else {
                maxFinite = Math.max(maxFinite, a);
                count(Math.getExponent(a));
            }
        }

        /** Bins the true magnitude {@code h / s} for positive finite {@code h}. */
        void binQuotient(double h, double s) {
            double q = h / s;
            maxFinite = Math.max(maxFinite, q);
            // q is rounded and may have reached 2^e from just below; 2^e * s is exact, so test it.
            int e = Math.getExponent(q);
            if (Math.scalb(s, e) > h) {
                e--;
            }
            count(e);
        }

        private void count(int e) {
            if (e < MIN_EXPONENT) {
                below++;
            } else if (e > MAX_EXPONENT) {
                above++;
            } else {
                bins[e - MIN_EXPONENT]++;
            }
        }

        GradientStats build() {
            return new GradientStats(scale, bins, zeros, below, above, nans, fp16Zero, fp16Subnormal, fp16Normal,
                    fp16Overflow, maxFinite);
        }
    }
}
