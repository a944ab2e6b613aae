package dev.mpt.core;

import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/** View operations (shared storage, new shape/strides/offset) and their gradient rules. */
final class Views {

    private Views() {
    }

    /** A contiguous copy in the same dtype. Gradient: identity. */
    static Tensor copy(Tensor x) {
        int[] s = x.shape.clone();
        Tensor out = Tensor.zeros(x.dtype, s);
        if (x.dtype == DType.FP32) {
            Strided.gather(x.floats, x.offset, x.shape, x.strides, out.floats, 0);
        } else {
            Strided.gather(x.shorts, x.offset, x.shape, x.strides, out.shorts, 0);
        }
        return Autograd.record(out, "contiguous", g -> new Tensor[] {g}, x);
    }

    static Tensor reshape(Tensor x, int[] newShape) {
        Objects.requireNonNull(newShape, "reshape: shape");
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1 && infer < 0) {
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("reshape: bad size " + s[i] + " in " + Arrays.toString(newShape)
                        + " (only one -1 allowed)");
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.numel % known != 0) {
                throw new IllegalArgumentException("reshape: cannot infer -1 in " + Arrays.toString(newShape)
                        + " for " + x.numel + " elements (shape " + Arrays.toString(x.shape) + ")");
            }
            s[infer] = (int) (x.numel / known);
            known *= s[infer];
        }
        if (known != x.numel) {
            throw new IllegalArgumentException("reshape: shape " + Arrays.toString(newShape) + " has " + known
                    + " elements, tensor of shape " + Arrays.toString(x.shape) + " has " + x.numel);
        }
        int[] st = viewStrides(x.shape, x.strides, s);
        Tensor src = st != null ? x : copy(x);
        Tensor out = new Tensor(src.dtype, src.floats, src.shorts, src.offset, s, st != null ? st : Strided.contiguousStrides(s));
        int[] inShape = x.shape;
        return Autograd.record(out, "reshape", g -> new Tensor[] {g.reshape(inShape)}, src);
    }

    /**
     * Strides that present storage laid out as ({@code shape}, {@code strides}) with shape
     * {@code newShape} in the same row-major element order, or null when no view can (the rule of
     * PyTorch's {@code computeStride}: each run of dims that is contiguous in memory may be
     * re-split freely).
     */
    static int[] viewStrides(int[] shape, int[] strides, int[] newShape) {
        int[] ns = new int[newShape.length];
        int numel = 1;
        for (int v : shape) {
            numel *= v;
        }
        if (numel == 0 || shape.length == 0) {
            return Strided.contiguousStrides(newShape);
        }
        int viewD = newShape.length - 1;
        int chunkBase = strides[shape.length - 1];
        long tensorNumel = 1;
        long viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    ns[viewD] = (int) (viewNumel * chunkBase);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) {
                    return null;
                }
                if (d > 0) {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? ns : null;
    }

    static Tensor permute(Tensor x, int[] dims) {
        Objects.requireNonNull(dims, "permute: dims");
        int r = x.shape.length;
        if (dims.length != r) {
            throw new IllegalArgumentException("permute: " + Arrays.toString(dims) + " for a tensor of rank " + r);
        }
        int[] inverse = new int[r];
        boolean[] used = new boolean[r];
        int[] s = new int[r];
        int[] st = new int[r];
        for (int i = 0; i < r; i++) {
            int d = Strided.dim("permute", dims[i], r);
            if (used[d]) {
                throw new IllegalArgumentException("permute: " + Arrays.toString(dims) + " is not a permutation");
            }
            used[d] = true;
            inverse[d] = i;
            s[i] = x.shape[d];
            st[i] = x.strides[d];
        }
        Tensor out = new Tensor(x.dtype, x.floats, x.shorts, x.offset, s, st);
        return Autograd.recordView(out, "permute", g -> new Tensor[] {g.permute(inverse)}, x);
    }

    static Tensor narrow(Tensor x, int dim, int start, int length) {
        int d = Strided.dim("narrow", dim, x.shape.length);
        if (start < 0 || length < 0 || start > x.shape[d] - length) {
            throw new IllegalArgumentException("narrow: start " + start + " length " + length + " out of range for dim "
                    + dim + " of size " + x.shape[d] + " (shape " + Arrays.toString(x.shape) + ")");
        }
        int[] s = x.shape.clone();
        s[d] = length;
        Tensor out = new Tensor(x.dtype, x.floats, x.shorts, x.offset + start * x.strides[d], s, x.strides.clone());
        int[] inShape = x.shape;
        return Autograd.record(out, "narrow", g -> {
            Tensor gx = Tensor.zeros(inShape);
            gx.narrow(d, start, length).copy_(g);
            return new Tensor[] {gx};
        }, x);
    }

    static Tensor expand(Tensor x, int[] newShape) {
        Objects.requireNonNull(newShape, "expand: shape");
        int r = newShape.length;
        int lead = r - x.shape.length;
        if (lead < 0) {
            throw new IllegalArgumentException("expand: cannot expand shape " + Arrays.toString(x.shape) + " to "
                    + Arrays.toString(newShape) + " (fewer dims)");
        }
        int[] s = new int[r];
        int[] st = new int[r];
        for (int i = 0; i < r; i++) {
            int d = i - lead;
            int want = newShape[i];
            if (d < 0) {
                if (want < 0) {
                    throw new IllegalArgumentException("expand: bad size " + want + " in " + Arrays.toString(newShape));
                }
                s[i] = want;
                st[i] = 0;
            } else if (want == -1 || want == x.shape[d]) {
                s[i] = x.shape[d];
                st[i] = x.strides[d];
            } else if (x.shape[d] == 1 && want >= 0) {
                s[i] = want;
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("expand: cannot expand shape " + Arrays.toString(x.shape) + " to "
                        + Arrays.toString(newShape) + " (dim " + i + ")");
            }
        }
        Tensor out = new Tensor(x.dtype, x.floats, x.shorts, x.offset, s, st);
        int[] inShape = x.shape;
        return Autograd.record(out, "expand", g -> new Tensor[] {Reduce.sumTo(g, inShape)}, x);
    }
}
