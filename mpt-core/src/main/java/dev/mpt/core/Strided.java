package dev.mpt.core;

import java.util.Arrays;

/** Shape arithmetic and strided copies between storage and contiguous row-major arrays. */
final class Strided {

    private Strided() {
    }

    /** Row-major strides of {@code shape}. */
    static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= Math.max(shape[d], 1);
        }
        return s;
    }

    /** Number of elements; throws if a size is negative or the product overflows an int. */
    static int numel(String op, int[] shape) {
        long n = 1;
        for (int size : shape) {
            if (size < 0) {
                throw new IllegalArgumentException(op + ": negative size in shape " + Arrays.toString(shape));
            }
            n *= size;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape)
                        + " has more than 2^31 - 9 elements");
            }
        }
        return (int) n;
    }

    /** Whether the layout is row-major contiguous (dims of size 1 may have any stride). */
    static boolean isContiguous(int[] shape, int[] strides) {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** The broadcast shape of {@code a} and {@code b} (numpy rules). */
    static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length);
            int db = i - (rank - b.length);
            int sa = da < 0 ? 1 : a[da];
            int sb = db < 0 ? 1 : b[db];
            if (sa != sb && sa != 1 && sb != 1) {
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and "
                        + Arrays.toString(b) + " cannot be broadcast (dim " + i + ": " + sa + " vs " + sb + ")");
            }
            out[i] = sa == 1 ? sb : sa;
        }
        return out;
    }

    /**
     * Strides with which a contiguous array of shape {@code in} is read as the broadcast shape
     * {@code out}: 0 along dims that {@code in} lacks or has size 1.
     */
    static int[] broadcastStrides(int[] in, int[] out) {
        int[] cs = contiguousStrides(in);
        int[] s = new int[out.length];
        for (int i = 0; i < out.length; i++) {
            int d = i - (out.length - in.length);
            s[i] = d < 0 || in[d] == 1 ? 0 : cs[d];
        }
        return s;
    }

    /** Resolves a possibly negative dim index against {@code rank}. */
    static int dim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for rank " + rank);
        }
        return d;
    }

    /** Copies the strided elements into {@code dst[dstOff..]} in row-major order. */
    static void gather(float[] src, int off, int[] shape, int[] strides, float[] dst, int dstOff) {
        int rank = shape.length;
        if (rank == 0) {
            dst[dstOff] = src[off];
            return;
        }
        int n = shape[rank - 1];
        int s = strides[rank - 1];
        int rows = rows(shape);
        if (n == 0 || rows == 0) {
            return;
        }
        int[] idx = new int[rank];
        int base = off;
        int d = dstOff;
        for (int r = 0; r < rows; r++) {
            if (s == 1) {
                System.arraycopy(src, base, dst, d, n);
            } else {
                for (int i = 0; i < n; i++) {
                    dst[d + i] = src[base + i * s];
                }
            }
            d += n;
            base = next(idx, shape, strides, base);
        }
    }

    /** Copies the strided 16-bit elements into {@code dst[dstOff..]} in row-major order. */
    static void gather(short[] src, int off, int[] shape, int[] strides, short[] dst, int dstOff) {
        int rank = shape.length;
        if (rank == 0) {
            dst[dstOff] = src[off];
            return;
        }
        int n = shape[rank - 1];
        int s = strides[rank - 1];
        int rows = rows(shape);
        if (n == 0 || rows == 0) {
            return;
        }
        int[] idx = new int[rank];
        int base = off;
        int d = dstOff;
        for (int r = 0; r < rows; r++) {
            if (s == 1) {
                System.arraycopy(src, base, dst, d, n);
            } else {
                for (int i = 0; i < n; i++) {
                    dst[d + i] = src[base + i * s];
                }
            }
            d += n;
            base = next(idx, shape, strides, base);
        }
    }

    /** Writes the row-major {@code src[srcOff..]} into the strided elements of {@code dst}. */
    static void scatter(float[] src, int srcOff, float[] dst, int off, int[] shape, int[] strides) {
        int rank = shape.length;
        if (rank == 0) {
            dst[off] = src[srcOff];
            return;
        }
        int n = shape[rank - 1];
        int s = strides[rank - 1];
        int rows = rows(shape);
        if (n == 0 || rows == 0) {
            return;
        }
        int[] idx = new int[rank];
        int base = off;
        int d = srcOff;
        for (int r = 0; r < rows; r++) {
            if (s == 1) {
                System.arraycopy(src, d, dst, base, n);
            } else {
                for (int i = 0; i < n; i++) {
                    dst[base + i * s] = src[d + i];
                }
            }
            d += n;
            base = next(idx, shape, strides, base);
        }
    }

    /** Writes the row-major 16-bit {@code src[srcOff..]} into the strided elements of {@code dst}. */
    static void scatter(short[] src, int srcOff, short[] dst, int off, int[] shape, int[] strides) {
        int rank = shape.length;
        if (rank == 0) {
            dst[off] = src[srcOff];
            return;
        }
        int n = shape[rank - 1];
        int s = strides[rank - 1];
        int rows = rows(shape);
        if (n == 0 || rows == 0) {
            return;
        }
        int[] idx = new int[rank];
        int base = off;
        int d = srcOff;
        for (int r = 0; r < rows; r++) {
            if (s == 1) {
                System.arraycopy(src, d, dst, base, n);
            } else {
                for (int i = 0; i < n; i++) {
                    dst[base + i * s] = src[d + i];
                }
            }
            d += n;
            base = next(idx, shape, strides, base);
        }
    }

    /** Product of all sizes but the last. */
    static int rows(int[] shape) {
        int r = 1;
        for (int d = 0; d < shape.length - 1; d++) {
            r *= shape[d];
        }
        return r;
    }

    /** Advances the odometer {@code idx} over all dims but the last; returns the new base offset. */
    static int next(int[] idx, int[] shape, int[] strides, int base) {
        for (int k = shape.length - 2; k >= 0; k--) {
            idx[k]++;
            base += strides[k];
            if (idx[k] < shape[k]) {
                return base;
            }
            base -= strides[k] * shape[k];
            idx[k] = 0;
        }
        return base;
    }
}
