package dev.mpt.core;

import dev.mpt.core.kernel.Parallel;
import java.util.Arrays;
import java.util.Objects;

/**
 * Drivers of the point-wise ops: widen inputs to FP32, broadcast, run the {@link Unary} or
 * {@link Binary} kernel over contiguous runs (in parallel for large tensors), round the result
 * once to the output dtype, and record the gradient rule.
 */
final class Pointwise {

    /** Elements per task below which point-wise ops run on the calling thread. */
    static final int GRAIN = 1 << 15;

    private Pointwise() {
    }

    static Tensor unary(Unary op, Tensor x, float p, float q) {
        Objects.requireNonNull(x, op.opName());
        float[] xv = x.readFloats();
        int n = xv.length;
        float[] y = new float[n];
        if (n < 2 * GRAIN) {
            op.forward(xv, y, 0, n, p, q);
        } else {
            Parallel.forRange(n, GRAIN, (from, to) -> op.forward(xv, y, from, to, p, q));
        }
        Tensor out = Ops.wrap(y, x.dtype, x.shape);
        return Autograd.record(out, op.opName(), g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[gv.length];
            op.backward(x.readFloats(), out.readFloats(), gv, gx, p, q);
            return new Tensor[] {Ops.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }

    static Tensor binary(Binary op, Tensor a, Tensor b) {
        Objects.requireNonNull(a, op.opName());
        Objects.requireNonNull(b, () -> op.opName() + ": other");
        Ops.sameDtype(op.opName(), a, b);
        int[] shape = Strided.broadcast(op.opName(), a.shape, b.shape);
        float[] av = a.readFloats();
        float[] bv = b.readFloats();
        float[] o = new float[Strided.numel(op.opName(), shape)];
        broadcastApply(op, av, Strided.broadcastStrides(a.shape, shape), bv,
                Strided.broadcastStrides(b.shape, shape), o, shape);
        Tensor out = Ops.wrap(o, a.dtype, shape);
        if (!op.differentiable()) {
            return out;
        }
        return Autograd.record(out, op.opName(), g -> {
            boolean needA = Autograd.needs(a);
            boolean needB = Autograd.needs(b);
            Tensor[] gs = op.grads(g, Ops.f32(a), Ops.f32(b), needA, needB);
            return new Tensor[] {
                needA ? Reduce.sumTo(gs[0], a.shape) : null,
                needB ? Reduce.sumTo(gs[1], b.shape) : null};
        }, a, b);
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Objects.requireNonNull(cond, "where: cond");
        Objects.requireNonNull(a, "where: a");
        Objects.requireNonNull(b, "where: b");
        Ops.sameDtype("where", a, b);
        int[] shape = Strided.broadcast("where", Strided.broadcast("where", cond.shape, a.shape), b.shape);
        float[] c = cond.detach().expand(shape).readFloats();
        float[] av = a.detach().expand(shape).readFloats();
        float[] bv = b.detach().expand(shape).readFloats();
        float[] o = new float[c.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = c[i] != 0f ? av[i] : bv[i];
        }
        Tensor out = Ops.wrap(o, a.dtype, shape);
        return Autograd.record(out, "where", g -> {
            float[] gv = g.readFloats();
            float[] ga = new float[gv.length];
            float[] gb = new float[gv.length];
            for (int i = 0; i < gv.length; i++) {
                if (c[i] != 0f) {
                    ga[i] = gv[i];
                } else {
                    gb[i] = gv[i];
                }
            }
            return new Tensor[] {null,
                Reduce.sumTo(Ops.wrap(ga, DType.FP32, shape), a.shape),
                Reduce.sumTo(Ops.wrap(gb, DType.FP32, shape), b.shape)};
        }, cond, a, b);
    }

    /**
     * {@code o = a op b} over {@code shape}, where {@code a} and {@code b} are read with the
     * (broadcast) strides {@code as} and {@code bs} and {@code o} is contiguous. Dimensions are
     * coalesced so the inner runs are as long as possible.
     */
    static void broadcastApply(Binary op, float[] a, int[] as, float[] b, int[] bs, float[] o, int[] shape) {
        int total = o.length;
        if (total == 0) {
            return;
        }
        // coalesce: drop size-1 dims, merge dims whose strides chain for both operands
        int r = 0;
        int[] sh = new int[shape.length + 1];
        int[] sa = new int[shape.length + 1];
        int[] sb = new int[shape.length + 1];
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (r > 0 && sa[r - 1] == as[d] * shape[d] && sb[r - 1] == bs[d] * shape[d]) {
                sh[r - 1] *= shape[d];
                sa[r - 1] = as[d];
                sb[r - 1] = bs[d];
            } else {
                sh[r] = shape[d];
                sa[r] = as[d];
                sb[r] = bs[d];
                r++;
            }
        }
        if (r == 0) {
            sh[0] = 1;
            sa[0] = 0;
            sb[0] = 0;
            r = 1;
        }
        int[] dims = Arrays.copyOf(sh, r);
        int[] astr = Arrays.copyOf(sa, r);
        int[] bstr = Arrays.copyOf(sb, r);
        if (total < 2 * GRAIN) {
            runRange(op, a, astr, b, bstr, o, dims, 0, total);
        } else {
            Parallel.forRange(total, GRAIN, (from, to) -> runRange(op, a, astr, b, bstr, o, dims, from, to));
        }
    }

    /** Computes output elements {@code [from, to)} (row-major) of the coalesced broadcast. */
    private static void runRange(Binary op, float[] a, int[] as, float[] b, int[] bs, float[] o, int[] dims,
                                 int from, int to) {
        int r = dims.length;
        int n = dims[r - 1];
        int ia = as[r - 1];
        int ib = bs[r - 1];
        int[] idx = new int[r];
        int row = from / n;
        int col = from % n;
        int offA = 0;
        int offB = 0;
        for (int k = r - 2; k >= 0; k--) {
            idx[k] = row % dims[k];
            row /= dims[k];
            offA += idx[k] * as[k];
            offB += idx[k] * bs[k];
        }
        int chunk = Math.min(n, to - from);
        float[] rowA = ia == 0 ? new float[chunk] : null;
        float[] rowB = ib == 0 ? new float[chunk] : null;
        int pos = from;
        while (pos < to) {
            int len = Math.min(n - col, to - pos);
            float[] srcA = a;
            int pa = offA + col * ia;
            if (ia == 0) {
                Arrays.fill(rowA, 0, len, a[offA]);
                srcA = rowA;
                pa = 0;
            }
            float[] srcB = b;
            int pb = offB + col * ib;
            if (ib == 0) {
                Arrays.fill(rowB, 0, len, b[offB]);
                srcB = rowB;
                pb = 0;
            }
            op.apply(srcA, pa, srcB, pb, o, pos, len);
            pos += len;
            col = 0;
            for (int k = r - 2; k >= 0; k--) {
                idx[k]++;
                offA += as[k];
                offB += bs[k];
                if (idx[k] < dims[k]) {
                    break;
                }
                offA -= as[k] * dims[k];
                offB -= bs[k] * dims[k];
                idx[k] = 0;
            }
        }
    }
}
