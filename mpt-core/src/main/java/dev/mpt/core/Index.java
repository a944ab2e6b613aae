package dev.mpt.core;

import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/** Index ops (embedding lookup, gather) and their scatter-add gradients. */
final class Index {

    private Index() {
    }

    /** Entries {@code index} of dimension {@code dim}, copied bit for bit (no rounding). */
    static Tensor indexSelect(Tensor x, int dim, int[] index) {
        Objects.requireNonNull(x, "indexSelect");
        Objects.requireNonNull(index, "indexSelect: index");
        int d = Strided.dim("indexSelect", dim, x.shape.length);
        int size = x.shape[d];
        for (int j = 0; j < index.length; j++) {
            if (index[j] < 0 || index[j] >= size) {
                throw new IllegalArgumentException("indexSelect: index[" + j + "] = " + index[j]
                        + " out of range [0, " + size + ") for dim " + dim + " of shape " + Arrays.toString(x.shape));
            }
        }
        int[] idx = index.clone();
        int outer = 1;
        int inner = 1;
        for (int k = 0; k < d; k++) {
            outer *= x.shape[k];
        }
        for (int k = d + 1; k < x.shape.length; k++) {
            inner *= x.shape[k];
        }
        int[] outShape = x.shape.clone();
        outShape[d] = idx.length;
        Tensor src = x.contiguous().detach();
        Tensor out = Tensor.zeros(x.dtype, outShape);
        int len = idx.length;
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < len; j++) {
                int from = src.offset + (o * size + idx[j]) * inner;
                int to = (o * len + j) * inner;
                if (x.dtype == DType.FP32) {
                    System.arraycopy(src.floats, from, out.floats, to, inner);
                } else {
                    System.arraycopy(src.shorts, from, out.shorts, to, inner);
                }
            }
        }
        int fo = outer;
        int fi = inner;
        return Autograd.record(out, "indexSelect", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[x.numel];
            for (int o = 0; o < fo; o++) {
                for (int j = 0; j < len; j++) {
                    int to = (o * size + idx[j]) * fi;
                    int from = (o * len + j) * fi;
                    for (int i = 0; i < fi; i++) {
                        gx[to + i] += gv[from + i];
                    }
                }
            }
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }

    /**
     * {@code out[i...] = x[i... with index[i...] at dim]}; {@code index} has x's rank, sizes at
     * most x's except along {@code dim}, and integral values (any dtype).
     */
    static Tensor gather(Tensor x, int dim, Tensor index) {
        Objects.requireNonNull(x, "gather");
        Objects.requireNonNull(index, "gather: index");
        int r = x.shape.length;
        int d = Strided.dim("gather", dim, r);
        if (index.shape.length != r) {
            throw new IllegalArgumentException("gather: index of shape " + Arrays.toString(index.shape)
                    + " needs the rank of the input, shape " + Arrays.toString(x.shape));
        }
        for (int k = 0; k < r; k++) {
            if (k != d && index.shape[k] > x.shape[k]) {
                throw new IllegalArgumentException("gather: index shape " + Arrays.toString(index.shape)
                        + " exceeds input shape " + Arrays.toString(x.shape) + " at dim " + k);
            }
        }
        float[] iv = index.readFloats();
        int[] pos = new int[iv.length];
        int[] xs = Strided.contiguousStrides(x.shape);
        int[] is = index.shape;
        int[] cur = new int[r];
        for (int e = 0; e < iv.length; e++) {
            float v = iv[e];
            if (v != (int) v || v < 0 || v >= x.shape[d]) {
                throw new IllegalArgumentException("gather: index value " + v + " at " + Arrays.toString(cur)
                        + " is not an integer in [0, " + x.shape[d] + ")");
            }
            int p = 0;
            for (int k = 0; k < r; k++) {
                p += (k == d ? (int) v : cur[k]) * xs[k];
            }
            pos[e] = p;
            for (int k = r - 1; k >= 0; k--) {
                if (++cur[k] < is[k]) {
                    break;
                }
                cur[k] = 0;
            }
        }
        Tensor src = x.contiguous().detach();
        Tensor out = Tensor.zeros(x.dtype, is);
        for (int e = 0; e < pos.length; e++) {
            if (x.dtype == DType.FP32) {
                out.floats[e] = src.floats[src.offset + pos[e]];
            } else {
                out.shorts[e] = src.shorts[src.offset + pos[e]];
            }
        }
        return Autograd.record(out, "gather", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[x.numel];
            for (int e = 0; e < pos.length; e++) {
                gx[pos[e]] += gv[e];
            }
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, x.shape), null};
        }, x, index);
    }
}
