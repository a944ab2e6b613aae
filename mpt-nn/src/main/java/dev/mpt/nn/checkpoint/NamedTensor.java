package dev.mpt.nn.checkpoint;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * One named tensor of a checkpoint: its dtype, shape, and elements in row-major order, as
 * {@code float[]} for FP32 or as {@code short[]} bit patterns for FP16 and BF16 (exactly one of the
 * two is non-null). The arrays are not copied.
 *
 * @param name   the tensor's name, unique in a file, not empty and not {@code __metadata__}
 * @param dtype  element type
 * @param shape  dimensions, each >= 0; {@code []} is a scalar of one element
 * @param floats the elements when {@code dtype} is FP32, else {@code null}
 * @param bits   the elements' bit patterns when {@code dtype} is FP16 or BF16, else {@code null}
 */
public record NamedTensor(String name, DType dtype, int[] shape, float[] floats, short[] bits) {

    /** Validates the name, that the array matches the dtype, and that its length is the shape's product. */
    public NamedTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
        if (name.isEmpty() || name.equals(Safetensors.METADATA_KEY)) {
            throw new IllegalArgumentException("NamedTensor: name must be non-empty and not \"" + Safetensors.METADATA_KEY
                    + "\", got \"" + name + "\"");
        }
        if ((dtype == DType.FP32) != (floats != null) || (dtype != DType.FP32) != (bits != null)) {
            throw new IllegalArgumentException("NamedTensor '" + name + "': " + dtype + " needs "
                    + (dtype == DType.FP32 ? "floats" : "bits") + " and only that; got floats="
                    + (floats == null ? "null" : "float[" + floats.length + "]") + ", bits="
                    + (bits == null ? "null" : "short[" + bits.length + "]"));
        }
        long n = numel(shape);
        if (n < 0) {
            throw new IllegalArgumentException("NamedTensor '" + name + "': shape " + Arrays.toString(shape)
                    + " has a negative dimension or more than 2^31-1 elements");
        }
        int len = floats != null ? floats.length : bits.length;
        if (len != n) {
            throw new IllegalArgumentException("NamedTensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + n + " elements, data has " + len);
        }
    }

    /** An FP32 tensor. */
    public static NamedTensor ofFloats(String name, int[] shape, float[] data) {
        return new NamedTensor(name, DType.FP32, shape, Objects.requireNonNull(data, "data"), null);
    }

    /** An FP16 or BF16 tensor of bit patterns. */
    public static NamedTensor ofBits(String name, DType dtype, int[] shape, short[] data) {
        Objects.requireNonNull(dtype, "dtype");
        if (dtype == DType.FP32) {
            throw new IllegalArgumentException("NamedTensor.ofBits '" + name + "': dtype must be FP16 or BF16, got FP32"
                    + " (use ofFloats)");
        }
        return new NamedTensor(name, dtype, shape, null, Objects.requireNonNull(data, "data"));
    }

    /** The product of {@code shape}, or -1 when a dimension is negative or the product exceeds an int. */
    static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                return -1;
            }
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                return -1;
            }
        }
        return n;
    }

    /** The dimensions (a copy). */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public int numel() {
        return floats != null ? floats.length : bits.length;
    }

    /** Bytes the elements take in a file. */
    public long byteSize() {
        return (long) numel() * dtype.byteSize();
    }

    /** The elements widened to FP32 (exact for all three dtypes); a new array. */
    public float[] toFloats() {
        if (floats != null) {
            return floats.clone();
        }
        float[] out = new float[bits.length];
        if (dtype == DType.FP16) {
            Convert.halfToFloat(bits, 0, out, 0, bits.length);
        } else {
            Convert.bfloat16ToFloat(bits, 0, out, 0, bits.length);
        }
        return out;
    }

    /** Equal when name, dtype, shape and elements are equal (floats compared as {@code Float.equals} does). */
    @Override
    public boolean equals(Object o) {
        return o instanceof NamedTensor t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && Arrays.equals(t.floats, floats) && Arrays.equals(t.bits, bits);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), Arrays.hashCode(floats), Arrays.hashCode(bits));
    }

    @Override
    public String toString() {
        return "NamedTensor[" + name + " " + dtype + " " + Arrays.toString(shape) + "]";
    }
}
