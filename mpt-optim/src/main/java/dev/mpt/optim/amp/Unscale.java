package dev.mpt.optim.amp;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.optim.GradientClipping;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fused unscale and overflow check of a mixed-precision step: one pass over the scaled
 * gradients that writes {@code dst[i] = g[i] / scale} in FP32 and reports whether every result
 * is finite (Micikevicius et al., ICLR 2018, section 3.2: a step whose gradients hold an inf or
 * NaN is skipped).
 *
 * <p>Precision: each FP16/BF16 input is widened to FP32 exactly, then divided in FP32 by
 * {@code s = (float) scale}, one correctly rounded division. Dividing by {@code s} (rather than
 * multiplying by {@code 1/s}) is exact whenever the true quotient is representable, for every
 * scale. For a power-of-two scale the quotient only shifts the exponent, so it is exact unless it
 * falls below FP32's smallest normal 2^-126: always for FP16 inputs (smallest subnormal 2^-24)
 * with scales up to 2^102, and for BF16 and FP32 inputs of normal magnitude.
 * The loss should be multiplied by the same FP32 value {@code (float) scale}, so the division is
 * the inverse of the scaling that produced the gradients. The check is done on the FP32 results,
 * so it also catches a finite gradient that overflows FP32 when divided by a scale below 1.
 *
 * <p>Speed: the loops keep a running {@code max(|y|)} (NaN-propagating) instead of branching, so
 * C2 vectorizes them: a stand-alone copy of the FP16 and FP32 loops ran at about 5 G elements/s
 * per core in cache on JDK 25 (machine shared, noisy), where an integer OR- or max-reduction of
 * the exponent bits stayed scalar at about 1 G elements/s. BF16 is widened with the SIMD
 * {@link Convert#bfloat16ToFloat} first (C2 does not vectorize the {@code short}-to-{@code int}
 * shift that widens BF16, which kept a fused loop near 1 G elements/s) and then unscaled in place.
 * Arrays longer than {@link #PARALLEL_GRAIN} are split over {@link Parallel#forRange}.
 */
public final class Unscale {

    /**
     * Elements per task below which one thread does the whole range: about 10 microseconds of
     * work at 5 G elements/s, well above the fork/join cost of a few microseconds.
     */
    static final int PARALLEL_GRAIN = 1 << 16;

    private Unscale() {
    }

    /**
     * Unscales {@code len} 16-bit gradients into FP32: {@code dst[dstOff+i] = g[srcOff+i] / scale}
     * where {@code g} is read as {@code dtype} (FP16 or BF16 bit patterns).
     *
     * @return true if every written value is finite (no inf, no NaN)
     * @throws NullPointerException      if an array or {@code dtype} is null
     * @throws IllegalArgumentException  if {@code dtype} is FP32 or the scale is not usable
     * @throws IndexOutOfBoundsException if a range falls outside its array
     */
    public static boolean unscale(DType dtype, short[] src, int srcOff, float[] dst, int dstOff, int len,
                                  double scale) {
        check16("Unscale.unscale", dtype, src, srcOff, dst, dstOff, len);
        float s = checkScale(scale);
        boolean half = dtype == DType.FP16;
        if (len <= PARALLEL_GRAIN) {
            return half ? half(src, srcOff, dst, dstOff, len, s) : bf16(src, srcOff, dst, dstOff, len, s);
        }
        var overflow = new AtomicBoolean();
        Parallel.forRange(len, PARALLEL_GRAIN, (from, to) -> {
            boolean ok = half ? half(src, srcOff + from, dst, dstOff + from, to - from, s)
                    : bf16(src, srcOff + from, dst, dstOff + from, to - from, s);
            if (!ok) {
                overflow.set(true);
            }
        });
        return !overflow.get();
    }

    /**
     * Unscales {@code len} FP32 gradients: {@code dst[dstOff+i] = src[srcOff+i] / scale}. The
     * arrays may be the same (in place) when the offsets are equal.
     *
     * @return true if every written value is finite (no inf, no NaN)
     * @throws NullPointerException      if an array is null
     * @throws IllegalArgumentException  if the scale is not usable
     * @throws IndexOutOfBoundsException if a range falls outside its array
     */
    public static boolean unscale(float[] src, int srcOff, float[] dst, int dstOff, int len, double scale) {
        Objects.requireNonNull(src, "Unscale.unscale: src is null");
        Objects.requireNonNull(dst, "Unscale.unscale: dst is null");
        Objects.checkFromIndexSize(srcOff, len, src.length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        float s = checkScale(scale);
        if (len <= PARALLEL_GRAIN) {
            return fp32(src, srcOff, dst, dstOff, len, s);
        }
        var overflow = new AtomicBoolean();
        Parallel.forRange(len, PARALLEL_GRAIN, (from, to) -> {
            if (!fp32(src, srcOff + from, dst, dstOff + from, to - from, s)) {
                overflow.set(true);
            }
        });
        return !overflow.get();
    }

    /**
     * Whether every FP16/BF16 value in the range is finite, without unscaling (for a trainer that
     * only needs the skip decision). An FP16 or BF16 value is finite iff its exponent bits are
     * not all ones.
     */
    public static boolean allFinite(DType dtype, short[] src, int off, int len) {
        Objects.requireNonNull(dtype, "Unscale.allFinite: dtype is null");
        Objects.requireNonNull(src, "Unscale.allFinite: src is null");
        if (!dtype.isHalfWidth()) {
            throw new IllegalArgumentException("Unscale.allFinite: short[] values must be FP16 or BF16, got " + dtype);
        }
        Objects.checkFromIndexSize(off, len, src.length);
        int expMask = dtype == DType.FP16 ? 0x7c00 : 0x7f80;
        int acc = 0;
        for (int i = 0; i < len; i++) {
            acc = Math.max(acc, (src[off + i] & expMask));
        }
        return acc != expMask;
    }

    /**
     * {@link #unscale(DType, short[], int, float[], int, int, double)} fused with the sum of squares
     * of the results that the global gradient norm needs: block by block ({@link GradientClipping#BLOCK}
     * elements, counted from {@code dstOff}), the unscaled block is written to {@code dst} and its
     * {@link GradientClipping#blockSum} is taken while it is still in the L1 cache, and the partial
     * sums are added in block order starting from 0. So {@code dst} holds the same bits as
     * {@code unscale} writes, and for {@code dstOff == 0, len == dst.length} the result is bit for
     * bit {@code GradientClipping.globalNorm(List.of(dst))} squared before its square root: one pass
     * over the gradient's memory instead of two.
     *
     * <p>The result is finite exactly when every unscaled value is finite (the overflow check of
     * {@code unscale}): a finite FP32 value squares to at most 2^256 in double, and fewer than 2^31
     * of them sum to less than 2^287, while an inf makes the sum inf or NaN and a NaN makes it NaN.
     *
     * @return the sum of the squares of the unscaled values, in double; not finite on overflow
     * @throws IllegalArgumentException as {@link #unscale(DType, short[], int, float[], int, int, double)}
     */
    public static double unscaleSumOfSquares(DType dtype, short[] src, int srcOff, float[] dst, int dstOff, int len,
                                             double scale) {
        check16("Unscale.unscaleSumOfSquares", dtype, src, srcOff, dst, dstOff, len);
        float s = checkScale(scale);
        boolean half = dtype == DType.FP16;
        return sumOfBlocks(len, (from, to) -> {
            if (half) {
                half(src, srcOff + from, dst, dstOff + from, to - from, s);
            } else {
                bf16(src, srcOff + from, dst, dstOff + from, to - from, s);
            }
            return GradientClipping.blockSum(dst, dstOff + from, dstOff + to);
        });
    }

    /**
     * {@link #unscale(float[], int, float[], int, int, double)} fused with the sum of squares of
     * the results, as {@link #unscaleSumOfSquares(DType, short[], int, float[], int, int, double)}.
     */
    public static double unscaleSumOfSquares(float[] src, int srcOff, float[] dst, int dstOff, int len, double scale) {
        Objects.requireNonNull(src, "Unscale.unscaleSumOfSquares: src is null");
        Objects.requireNonNull(dst, "Unscale.unscaleSumOfSquares: dst is null");
        Objects.checkFromIndexSize(srcOff, len, src.length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        float s = checkScale(scale);
        return sumOfBlocks(len, (from, to) -> {
            fp32(src, srcOff + from, dst, dstOff + from, to - from, s);
            return GradientClipping.blockSum(dst, dstOff + from, dstOff + to);
        });
    }

    /**
     * The sum of squares of {@code len} FP32 values in the blocks and order of
     * {@link #unscaleSumOfSquares(float[], int, float[], int, int, double)}: bit for bit what that
     * returns for {@code scale = 1} (dividing by 1 changes no value), without writing a copy.
     *
     * @throws NullPointerException      if {@code src} is null
     * @throws IndexOutOfBoundsException if the range falls outside {@code src}
     */
    public static double sumOfSquares(float[] src, int srcOff, int len) {
        Objects.requireNonNull(src, "Unscale.sumOfSquares: src is null");
        Objects.checkFromIndexSize(srcOff, len, src.length);
        return sumOfBlocks(len, (from, to) -> GradientClipping.blockSum(src, srcOff + from, srcOff + to));
    }

    /** One block's work: unscale {@code [from, to)} and return its sum of squares. */
    private interface Block {
        double run(int from, int to);
    }

    /**
     * The partial sums of {@code ceil(len / BLOCK)} blocks added in block order from 0 (the order of
     * {@code GradientClipping.sumOfSquares}); when {@code len > PARALLEL_GRAIN} the blocks are split
     * into contiguous runs of at least {@code PARALLEL_GRAIN} elements over {@link Parallel#forRange}
     * (one fork/join task per thread, not per block), each block on one thread, so the result does
     * not depend on the thread count.
     */
    private static double sumOfBlocks(int len, Block block) {
        int blocks = (len + GradientClipping.BLOCK - 1) / GradientClipping.BLOCK;
        double total = 0;
        if (len <= PARALLEL_GRAIN) {
            for (int b = 0; b < blocks; b++) {
                total += block.run(b * GradientClipping.BLOCK, Math.min(len, (b + 1) * GradientClipping.BLOCK));
            }
            return total;
        }
        double[] partial = new double[blocks];
        Parallel.forRange(blocks, PARALLEL_GRAIN / GradientClipping.BLOCK, (first, end) -> {
            for (int b = first; b < end; b++) {
                partial[b] = block.run(b * GradientClipping.BLOCK, Math.min(len, (b + 1) * GradientClipping.BLOCK));
            }
        });
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    /** The argument checks of the 16-bit entry points, with messages naming {@code op}. */
    private static void check16(String op, DType dtype, short[] src, int srcOff, float[] dst, int dstOff, int len) {
        Objects.requireNonNull(dtype, () -> op + ": dtype is null");
        Objects.requireNonNull(src, () -> op + ": src is null");
        Objects.requireNonNull(dst, () -> op + ": dst is null");
        if (!dtype.isHalfWidth()) {
            throw new IllegalArgumentException(op + ": short[] gradients must be FP16 or BF16, got " + dtype);
        }
        Objects.checkFromIndexSize(srcOff, len, src.length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
    }

    /** The FP32 divisor for {@code scale}, after checking that it is finite and positive in FP32. */
    static float checkScale(double scale) {
        float s = (float) scale;
        if (!(scale > 0) || !Double.isFinite(scale) || !(s > 0) || s == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("Unscale: scale must be finite and > 0 in FP32, got " + scale);
        }
        return s;
    }

    // The three kernels: max(m, |y|) is NaN once any y is NaN and +inf once any y is infinite,
    // so "m < +inf" is exactly "all finite". Their plain twins are the *Plain methods below.

    static boolean half(short[] g, int gOff, float[] dst, int dOff, int len, float s) {
        float m = 0f;
        for (int i = 0; i < len; i++) {
            float y = Float.float16ToFloat(g[gOff + i]) / s;
            dst[dOff + i] = y;
            m = Math.max(m, Math.abs(y));
        }
        return m < Float.POSITIVE_INFINITY;
    }

    /**
     * The BF16 kernel, block by block in two passes over {@code dst}: widen exactly
     * ({@link Convert#bfloat16ToFloat}, SIMD), then the FP32 kernel in place while the block is in
     * L1. C2 does not vectorize BF16's short-to-int shift, so the fused loop
     * {@code y = intBitsToFloat(g << 16) / s} ran at about 1 G elements/s. The values written are
     * the same: the widening is exact either way.
     */
    static boolean bf16(short[] g, int gOff, float[] dst, int dOff, int len, float s) {
        boolean finite = true;
        for (int done = 0; done < len; done += GradientClipping.BLOCK) {
            int n = Math.min(GradientClipping.BLOCK, len - done);
            Convert.bfloat16ToFloat(g, gOff + done, dst, dOff + done, n);
            finite &= fp32(dst, dOff + done, dst, dOff + done, n, s);
        }
        return finite;
    }

    static boolean fp32(float[] g, int gOff, float[] dst, int dOff, int len, float s) {
        float m = 0f;
        for (int i = 0; i < len; i++) {
            float y = g[gOff + i] / s;
            dst[dOff + i] = y;
            m = Math.max(m, Math.abs(y));
        }
        return m < Float.POSITIVE_INFINITY;
    }

    /** The specification of {@link #half}, {@link #bf16} and {@link #fp32}: widen, divide, test. */
    static boolean plain(float[] widened, float[] dst, float s) {
        boolean finite = true;
        for (int i = 0; i < widened.length; i++) {
            dst[i] = widened[i] / s;
            if (Float.isNaN(dst[i]) || Float.isInfinite(dst[i])) {
                finite = false;
            }
        }
        return finite;
    }
}
