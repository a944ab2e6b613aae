package dev.mpt.core;

import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/** Concatenation along a dimension; the gradient of each input is its slice of the output's. */
final class Concat {

    private Concat() {
    }

    static Tensor cat(int dim, Tensor[] ts) {
        Objects.requireNonNull(ts, "cat: tensors");
        if (ts.length == 0) {
            throw new IllegalArgumentException("cat: needs at least one tensor");
        }
        Tensor first = Objects.requireNonNull(ts[0], "cat: tensor 0");
        int r = first.shape.length;
        if (r == 0) {
            throw new IllegalArgumentException("cat: cannot concatenate rank-0 tensors (use stack)");
        }
        int d = Strided.dim("cat", dim, r);
        int total = 0;
        for (int i = 0; i < ts.length; i++) {
            Tensor t = Objects.requireNonNull(ts[i], "cat: tensor " + i);
            if (t.dtype != first.dtype) {
                throw new IllegalArgumentException("cat: dtype mismatch " + first.dtype + " vs " + t.dtype
                        + " (tensor " + i + "); convert one with to(DType)");
            }
            boolean ok = t.shape.length == r;
            for (int k = 0; ok && k < r; k++) {
                ok = k == d || t.shape[k] == first.shape[k];
            }
            if (!ok) {
                throw new IllegalArgumentException("cat: tensor " + i + " has shape " + Arrays.toString(t.shape)
                        + ", incompatible with " + Arrays.toString(first.shape) + " along dim " + dim);
            }
            total += t.shape[d];
        }
        int[] outShape = first.shape.clone();
        outShape[d] = total;
        Tensor out = Tensor.zeros(first.dtype, outShape);
        int[] starts = new int[ts.length];
        int at = 0;
        for (int i = 0; i < ts.length; i++) {
            starts[i] = at;
            Tensor slot = out.narrow(d, at, ts[i].shape[d]);
            slot.copy_(ts[i].detach());
            at += ts[i].shape[d];
        }
        Tensor[] inputs = ts.clone();
        return Autograd.record(out, "cat", g -> {
            Tensor[] gs = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (Autograd.needs(inputs[i])) {
                    gs[i] = g.narrow(d, starts[i], inputs[i].shape[d]);
                }
            }
            return gs;
        }, inputs);
    }

    static Tensor stack(int dim, Tensor[] ts) {
        Objects.requireNonNull(ts, "stack: tensors");
        if (ts.length == 0) {
            throw new IllegalArgumentException("stack: needs at least one tensor");
        }
        Tensor first = Objects.requireNonNull(ts[0], "stack: tensor 0");
        int d = Strided.dim("stack", dim, first.shape.length + 1);
        Tensor[] us = new Tensor[ts.length];
        for (int i = 0; i < ts.length; i++) {
            Tensor t = Objects.requireNonNull(ts[i], "stack: tensor " + i);
            if (!Arrays.equals(t.shape, first.shape)) {
                throw new IllegalArgumentException("stack: tensor " + i + " has shape " + Arrays.toString(t.shape)
                        + ", tensor 0 has " + Arrays.toString(first.shape));
            }
            us[i] = t.unsqueeze(d);
        }
        return cat(d, us);
    }
}
