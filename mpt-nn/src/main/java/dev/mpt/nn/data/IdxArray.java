package dev.mpt.nn.data;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * The content of one IDX file: element type, dimensions and the raw big-endian element bytes.
 *
 * @param type  element type
 * @param shape dimensions, outermost first (for images {@code [count, rows, columns]})
 * @param data  the elements' bytes as stored in the file (big-endian), not copied
 */
public record IdxArray(IdxType type, int[] shape, byte[] data) {

    /** Validates that {@code data} holds exactly {@code product(shape) * type.byteSize()} bytes. */
    public IdxArray {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        if (shape.length == 0 || shape.length > 255) {
            throw new IllegalArgumentException("IdxArray: shape must have 1..255 dimensions, got " + shape.length);
        }
        long bytes = type.byteSize();
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("IdxArray: negative dimension in shape " + Arrays.toString(shape));
            }
            bytes *= d;
            if (bytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("IdxArray: shape " + Arrays.toString(shape) + " of " + type
                        + " needs more than 2^31-1 bytes");
            }
        }
        if (data.length != bytes) {
            throw new IllegalArgumentException("IdxArray: shape " + Arrays.toString(shape) + " of " + type + " needs "
                    + bytes + " bytes, data has " + data.length);
        }
    }

    /** An array of unsigned bytes ({@code 0..255} stored as {@code (byte) v}). */
    public static IdxArray ofUnsignedBytes(int[] shape, byte[] data) {
        return new IdxArray(IdxType.UBYTE, shape, data);
    }

    /** An array of 32-bit integers. */
    public static IdxArray ofInts(int[] shape, int[] values) {
        Objects.requireNonNull(values, "values");
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, 4));
        b.asIntBuffer().put(values);
        return new IdxArray(IdxType.INT, shape, b.array());
    }

    /** An array of 32-bit floats. */
    public static IdxArray ofFloats(int[] shape, float[] values) {
        Objects.requireNonNull(values, "values");
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, 4));
        b.asFloatBuffer().put(values);
        return new IdxArray(IdxType.FLOAT, shape, b.array());
    }

    /** The dimensions (a copy). */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements, the product of the dimensions. */
    public int size() {
        return data.length / type.byteSize();
    }

    /** {@code shape()[dim]}. */
    public int dim(int dim) {
        return shape[dim];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /**
     * Every element times {@code scale}, as float: {@code out[i] = (float) (element(i) * scale)}, the
     * product computed in double and rounded once. Integer types are exact in double, so for
     * {@code UBYTE} and {@code scale = 1/255.0} each result is the float nearest to {@code v/255}.
     */
    public float[] toFloats(double scale) {
        int n = size();
        float[] out = new float[n];
        if (type == IdxType.UBYTE) { // the common case (images), without the per-element type switch
            for (int i = 0; i < n; i++) {
                out[i] = (float) ((data[i] & 0xff) * scale);
            }
            return out;
        }
        ByteBuffer b = ByteBuffer.wrap(data);
        for (int i = 0; i < n; i++) {
            out[i] = (float) (element(b, i) * scale);
        }
        return out;
    }

    /**
     * Every element as int.
     *
     * @throws IllegalStateException for FLOAT and DOUBLE arrays
     */
    public int[] toInts() {
        if (type == IdxType.FLOAT || type == IdxType.DOUBLE) {
            throw new IllegalStateException("IdxArray.toInts: elements are " + type + ", not integers");
        }
        int n = size();
        int[] out = new int[n];
        ByteBuffer b = ByteBuffer.wrap(data);
        for (int i = 0; i < n; i++) {
            out[i] = (int) element(b, i);
        }
        return out;
    }

    private double element(ByteBuffer b, int i) {
        return switch (type) {
            case UBYTE -> b.get(i) & 0xff;
            case BYTE -> b.get(i);
            case SHORT -> b.getShort(2 * i);
            case INT -> b.getInt(4 * i);
            case FLOAT -> b.getFloat(4 * i);
            case DOUBLE -> b.getDouble(8 * i);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdxArray a && a.type == type && Arrays.equals(a.shape, shape) && Arrays.equals(a.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * type.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "IdxArray[" + type + " " + Arrays.toString(shape) + "]";
    }
}
