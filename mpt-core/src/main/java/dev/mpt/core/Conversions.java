package dev.mpt.core;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;

/**
 * Dtype conversion shared by the op drivers: whole tensors to FP32 ({@link #f32}), FP32 arrays
 * into new tensors of a dtype ({@link #wrap}), runs of 16-bit storage widened and narrowed, and
 * FP32 values rounded to a 16-bit dtype.
 */
final class Conversions {

    private Conversions() {
    }

    /** The tensor itself when FP32, else an FP32 copy (exact widening). Not recorded. */
    static Tensor f32(Tensor t) {
        return t.dtype == DType.FP32 ? t : wrap(t.readFloats(), DType.FP32, t.shape);
    }

    /**
     * A new contiguous tensor of {@code dtype} and {@code shape} holding {@code values} (row-major
     * FP32), rounded once to {@code dtype}. FP32 adopts the array itself.
     */
    static Tensor wrap(float[] values, DType dtype, int[] shape) {
        int n = values.length;
        return switch (dtype) {
            case FP32 -> new Tensor(DType.FP32, values, null, 0, shape.clone(), Strided.contiguousStrides(shape));
            case FP16 -> {
                short[] h = new short[n];
                Convert.floatToHalf(values, 0, h, 0, n);
                yield new Tensor(DType.FP16, null, h, 0, shape.clone(), Strided.contiguousStrides(shape));
            }
            case BF16 -> {
                short[] h = new short[n];
                Convert.floatToBFloat16(values, 0, h, 0, n);
                yield new Tensor(DType.BF16, null, h, 0, shape.clone(), Strided.contiguousStrides(shape));
            }
        };
    }

    /** Widens {@code n} 16-bit values of {@code dtype} to FP32 (exact). */
    static void widen(DType dtype, short[] src, int srcOff, float[] dst, int dstOff, int n) {
        if (dtype == DType.FP16) {
            Convert.halfToFloat(src, srcOff, dst, dstOff, n);
        } else {
            Convert.bfloat16ToFloat(src, srcOff, dst, dstOff, n);
        }
    }

    /** {@code v} rounded to {@code dtype} (to nearest even) and widened back; {@code v} itself for FP32. */
    static float round(DType dtype, float v) {
        return switch (dtype) {
            case FP32 -> v;
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> BFloat16.toFloat(BFloat16.fromFloat(v));
        };
    }

    /** {@code v} rounded to the 16-bit {@code dtype}, as bits. */
    static short narrow(DType dtype, float v) {
        return dtype == DType.FP16 ? Float.floatToFloat16(v) : BFloat16.fromFloat(v);
    }

    /** The 16-bit value {@code bits} of {@code dtype} as FP32 (exact). */
    static float widen(DType dtype, short bits) {
        return dtype == DType.FP16 ? Float.float16ToFloat(bits) : BFloat16.toFloat(bits);
    }

    /** Rounds {@code n} FP32 values to the 16-bit {@code dtype}. */
    static void narrow(DType dtype, float[] src, int srcOff, short[] dst, int dstOff, int n) {
        if (dtype == DType.FP16) {
            Convert.floatToHalf(src, srcOff, dst, dstOff, n);
        } else {
            Convert.floatToBFloat16(src, srcOff, dst, dstOff, n);
        }
    }

    /** Rounds the values of the contiguous FP32 tensor {@code g} to {@code dtype}, in place. */
    static Tensor roundInPlace(Tensor g, DType dtype) {
        int n = g.numel;
        if (dtype == DType.FP16) {
            Convert.roundToHalf(g.floats, g.offset, n);
            return g;
        }
        short[] tmp = new short[Math.min(n, Pointwise.BLOCK)];
        for (int s = 0; s < n; s += Pointwise.BLOCK) {
            int len = Math.min(Pointwise.BLOCK, n - s);
            narrow(dtype, g.floats, g.offset + s, tmp, 0, len);
            widen(dtype, tmp, 0, g.floats, g.offset + s, len);
        }
        return g;
    }

    /** A new FP32 tensor with the values of {@code g} rounded to {@code dtype}. */
    static Tensor roundCopy(Tensor g, DType dtype) {
        float[] v = g.readFloats();
        if (v == g.floats) {
            v = v.clone();
        }
        Tensor c = wrap(v, DType.FP32, g.shape);
        return roundInPlace(c, dtype);
    }
}
