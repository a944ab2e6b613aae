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

    /**
     * Whether the elements of the layout fill one block of storage without gaps: some order of the
     * dims (by stride) makes it row-major contiguous, as for any permutation of a contiguous tensor.
     * Strides are then positive and the block is {@code [offset, offset + numel)}.
     */
    static boolean isDense(int[] shape, int[] strides) {
        int r = shape.length;
        Integer[] order = new Integer[r];
        for (int d = 0; d < r; d++) {
            order[d] = d;
        }
        Arrays.sort(order, (x, y) -> Integer.compare(strides[x], strides[y]));
        long expected = 1;
        for (int i = 0; i < r; i++) {
            int d = order[i];
            if (shape[d] == 0) {
                return true;
            }
            if (shape[d] != 1) {
                if (strides[d] != expected) {
                    return false;
                }
                expected *= shape[d];
            }
        }
        return true;
    }

    /** Output rows per tile of {@link #gatherTiled}: 16 floats, one 64-byte line of each storage run. */
    static final int TILE = 16;

    /**
     * Whether the last two dims are stored transposed (the second-last has the smaller stride, the
     * last is not contiguous) and both have more than one element, so {@link #gatherTiled} pays.
     */
    static boolean transposedRows(int[] shape, int[] strides) {
        int rank = shape.length;
        if (rank < 2 || shape[rank - 1] < 2 || shape[rank - 2] < 2) {
            return false;
        }
        int s = Math.abs(strides[rank - 1]);
        int s2 = Math.abs(strides[rank - 2]);
        return s != 1 && s2 < s;
    }

    /*
     * Gather and scatter for both storage types share one row walk over Object arrays (float[] or
     * short[], the same type on both sides). Contiguous rows are System.arraycopy; strided rows and
     * tiles dispatch on the array type once per row or tile, so the element loops stay monomorphic
     * primitive loops with no boxing and no per-element call.
     */

    /** Copies the strided elements into {@code dst[dstOff..]} in row-major order. */
    static void gather(float[] src, int off, int[] shape, int[] strides, float[] dst, int dstOff) {
        gatherAny(src, off, shape, strides, dst, dstOff);
    }

    /** Copies the strided 16-bit elements into {@code dst[dstOff..]} in row-major order. */
    static void gather(short[] src, int off, int[] shape, int[] strides, short[] dst, int dstOff) {
        gatherAny(src, off, shape, strides, dst, dstOff);
    }

    /** {@link #gather} for a layout whose last two dims are stored transposed (see {@link #tiles}). */
    static void gatherTiled(float[] src, int off, int[] shape, int[] strides, float[] dst, int dstOff) {
        tiles(src, off, shape, strides, dst, dstOff);
    }

    /** {@link #gather} for a layout whose last two dims are stored transposed (see {@link #tiles}). */
    static void gatherTiled(short[] src, int off, int[] shape, int[] strides, short[] dst, int dstOff) {
        tiles(src, off, shape, strides, dst, dstOff);
    }

    /** The plain twin of {@link #gather}: one output row after another. */
    static void gatherRows(float[] src, int off, int[] shape, int[] strides, float[] dst, int dstOff) {
        rows(src, off, shape, strides, dst, dstOff, true);
    }

    /** The plain twin of {@link #gather}: one output row after another. */
    static void gatherRows(short[] src, int off, int[] shape, int[] strides, short[] dst, int dstOff) {
        rows(src, off, shape, strides, dst, dstOff, true);
    }

    /** Writes the row-major {@code src[srcOff..]} into the strided elements of {@code dst}. */
    static void scatter(float[] src, int srcOff, float[] dst, int off, int[] shape, int[] strides) {
        rows(dst, off, shape, strides, src, srcOff, false);
    }

    /** Writes the row-major 16-bit {@code src[srcOff..]} into the strided elements of {@code dst}. */
    static void scatter(short[] src, int srcOff, short[] dst, int off, int[] shape, int[] strides) {
        rows(dst, off, shape, strides, src, srcOff, false);
    }

    private static void gatherAny(Object src, int off, int[] shape, int[] strides, Object dst, int dstOff) {
        if (transposedRows(shape, strides)) {
            tiles(src, off, shape, strides, dst, dstOff);
        } else {
            rows(src, off, shape, strides, dst, dstOff, true);
        }
    }

    /**
     * Walks tiles of {@link #TILE} output rows of a layout whose last two dims are stored
     * transposed, reading each run of the second-last dim (contiguous in storage) once and dealing
     * it out to the tile's rows, instead of touching one cache line (and, for power-of-two strides,
     * the same cache set) per element along each output row.
     */
    private static void tiles(Object src, int off, int[] shape, int[] strides, Object dst, int dstOff) {
        int rank = shape.length;
        int n = shape[rank - 1];
        int s = strides[rank - 1];
        int m = shape[rank - 2];
        int s2 = strides[rank - 2];
        int[] outerShape = Arrays.copyOf(shape, rank - 1);
        int outer = rows(outerShape);
        int[] idx = new int[rank - 1];
        int base = off;
        int d = dstOff;
        for (int o = 0; o < outer; o++) {
            for (int r0 = 0; r0 < m; r0 += TILE) {
                tile(src, base + r0 * s2, s, s2, dst, d + r0 * n, n, Math.min(TILE, m - r0));
            }
            d += m * n;
            base = next(idx, outerShape, strides, base);
        }
    }

    /** {@code dst[db + i + r*n] = src[sb + i*s + r*s2]} for {@code i < n, r < h}. */
    private static void tile(Object src, int sb, int s, int s2, Object dst, int db, int n, int h) {
        if (src instanceof float[] from) {
            float[] to = (float[]) dst;
            for (int i = 0; i < n; i++) {
                int si = sb + i * s;
                int di = db + i;
                for (int r = 0; r < h; r++) {
                    to[di + r * n] = from[si + r * s2];
                }
            }
        } else {
            short[] from = (short[]) src;
            short[] to = (short[]) dst;
            for (int i = 0; i < n; i++) {
                int si = sb + i * s;
                int di = db + i;
                for (int r = 0; r < h; r++) {
                    to[di + r * n] = from[si + r * s2];
                }
            }
        }
    }

    /**
     * The row walk of gather and scatter: row after row of the strided {@code storage} (from
     * {@code off}) and the row-major {@code dense} array (from {@code denseOff}), copying each row
     * from storage to dense when {@code gather}, else from dense to storage.
     */
    private static void rows(Object storage, int off, int[] shape, int[] strides, Object dense, int denseOff,
                             boolean gather) {
        int rank = shape.length;
        if (rank == 0) {
            System.arraycopy(gather ? storage : dense, gather ? off : denseOff,
                    gather ? dense : storage, gather ? denseOff : off, 1);
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
        int d = denseOff;
        for (int r = 0; r < rows; r++) {
            if (gather) {
                copyRow(storage, base, s, dense, d, 1, n);
            } else {
                copyRow(dense, d, 1, storage, base, s, n);
            }
            d += n;
            base = next(idx, shape, strides, base);
        }
    }

    /** {@code dst[dOff + i*ds] = src[so + i*ss]} for {@code i < n}. */
    private static void copyRow(Object src, int so, int ss, Object dst, int dOff, int ds, int n) {
        if (ss == 1 && ds == 1) {
            System.arraycopy(src, so, dst, dOff, n);
        } else if (src instanceof float[] from) {
            float[] to = (float[]) dst;
            for (int i = 0; i < n; i++) {
                to[dOff + i * ds] = from[so + i * ss];
            }
        } else {
            short[] from = (short[]) src;
            short[] to = (short[]) dst;
            for (int i = 0; i < n; i++) {
                to[dOff + i * ds] = from[so + i * ss];
            }
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
