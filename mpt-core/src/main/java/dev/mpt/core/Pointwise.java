package dev.mpt.core;

import dev.mpt.core.kernel.BinaryKernel;
import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.kernel.ThreadScratch;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Drivers of the point-wise ops: widen inputs to FP32, broadcast, run the {@link Unary} or
 * {@link Binary} kernel over contiguous runs (in parallel for large tensors), round the result
 * once to the output dtype, and record the gradient rule.
 */
final class Pointwise {

    /**
     * FP32 elements per block when 16-bit data is widened for a kernel: 4096 floats (16 KiB) per
     * buffer, so the input, output and 16-bit blocks stay in a 48 KiB L1 data cache.
     */
    static final int BLOCK = 4096;

    /**
     * Per thread: a contiguous 16-bit input widened for a unary rule, at the indices of the range the
     * thread works on (so the rule indexes it as it indexes the gradient).
     */
    private static final ThreadScratch WIDENED = new ThreadScratch(1);

    private Pointwise() {
    }

    static Tensor unary(Unary op, Tensor x, float p, float q) {
        Objects.requireNonNull(x, op.opName());
        Tensor src = x.isContiguous() ? x : Views.copy(x.detach());
        Tensor out = Tensor.zeros(x.dtype, x.shape);
        int n = x.numel;
        if (x.dtype == DType.FP32 && src.offset == 0) {
            if (n < 2 * Grain.ELEMENTWISE) {
                op.forward(src.floats, out.floats, 0, n, p, q);
            } else {
                Parallel.forRange(n, Grain.ELEMENTWISE, (from, to) -> op.forward(src.floats, out.floats, from, to, p, q));
            }
        } else if (n < 2 * Grain.ELEMENTWISE) {
            unaryBlocks(op, src, out, p, q, 0, n);
        } else {
            Parallel.forRange(n, Grain.ELEMENTWISE, (from, to) -> unaryBlocks(op, src, out, p, q, from, to));
        }
        return Autograd.record(out, op.opName(), Node.reusing((g, owned) -> {
            float[] gv = g.readFloats();
            // an owned gradient spanning its whole array takes the input's gradient in place (every
            // rule reads g[i] and x[i] only to write gx[i]): no new tensor per step
            boolean inPlace = owned && gv == g.floats;
            float[] gx = inPlace ? gv : new float[gv.length];
            // a contiguous 16-bit input is widened range by range into reused scratch, not into a new array
            boolean widen = x.dtype != DType.FP32 && x.isContiguous();
            float[] xv = widen ? null : x.readFloats();
            if (gv.length < 2 * Grain.ELEMENTWISE) {
                op.backward(widen ? widened(x, 0, gv.length) : xv, gv, gx, 0, gv.length, p, q);
            } else {
                Parallel.forRange(gv.length, Grain.ELEMENTWISE,
                        (from, to) -> op.backward(widen ? widened(x, from, to) : xv, gv, gx, from, to, p, q));
            }
            return new Tensor[] {inPlace ? g : Conversions.wrap(gx, DType.FP32, x.shape)};
        }), x);
    }

    /** This thread's scratch holding elements {@code [from, to)} of the contiguous 16-bit {@code x} at those indices. */
    private static float[] widened(Tensor x, int from, int to) {
        float[] buf = WIDENED.get(0, to);
        Conversions.widen(x.dtype, x.shorts, x.offset + from, buf, from, to - from);
        return buf;
    }

    /** Elements {@code [from, to)} of a unary op, through cache-sized FP32 blocks. */
    private static void unaryBlocks(Unary op, Tensor src, Tensor out, float p, float q, int from, int to) {
        int cap = Math.min(BLOCK, to - from);
        float[] bx = new float[cap];
        float[] by = new float[cap];
        for (int s = from; s < to; s += BLOCK) {
            int len = Math.min(BLOCK, to - s);
            load(src, src.offset + s, bx, len);
            op.forward(bx, by, 0, len, p, q);
            store(by, out, s, len);
        }
    }

    /** {@code dst[0..len) = src storage [at, at+len)} widened to FP32. */
    private static void load(Tensor src, int at, float[] dst, int len) {
        if (src.dtype == DType.FP32) {
            System.arraycopy(src.floats, at, dst, 0, len);
        } else {
            Conversions.widen(src.dtype, src.shorts, at, dst, 0, len);
        }
    }

    /** {@code out storage [at, at+len) = v[0..len)} rounded once to out's dtype. */
    private static void store(float[] v, Tensor out, int at, int len) {
        if (out.dtype == DType.FP32) {
            System.arraycopy(v, 0, out.floats, at, len);
        } else {
            Conversions.narrow(out.dtype, v, 0, out.shorts, at, len);
        }
    }

    static Tensor binary(Binary op, Tensor a, Tensor b) {
        Objects.requireNonNull(a, op.opName());
        Objects.requireNonNull(b, () -> op.opName() + ": other");
        Checks.sameDtype(op.opName(), a, b);
        int[] shape = Strided.broadcast(op.opName(), a.shape, b.shape);
        Strided.numel(op.opName(), shape);
        Tensor ac = a.isContiguous() ? a : Views.copy(a.detach());
        Tensor bc = b.isContiguous() ? b : Views.copy(b.detach());
        Tensor out = Tensor.zeros(a.dtype, shape);
        broadcastApply(op, ac, Strided.broadcastStrides(a.shape, shape), bc, Strided.broadcastStrides(b.shape, shape),
                out);
        if (!op.differentiable()) {
            return out;
        }
        return Autograd.record(out, op.opName(), g -> {
            boolean needA = Autograd.needs(a);
            boolean needB = Autograd.needs(b);
            Tensor[] gs = op.grads(g, Conversions.f32(a), Conversions.f32(b), needA, needB);
            return new Tensor[] {
                needA ? Reduce.sumTo(gs[0], a.shape) : null,
                needB ? Reduce.sumTo(gs[1], b.shape) : null};
        }, a, b);
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Objects.requireNonNull(cond, "where: cond");
        Objects.requireNonNull(a, "where: a");
        Objects.requireNonNull(b, "where: b");
        Checks.sameDtype("where", a, b);
        int[] shape = Strided.broadcast("where", Strided.broadcast("where", cond.shape, a.shape), b.shape);
        float[] c = cond.detach().expand(shape).readFloats();
        float[] av = a.detach().expand(shape).readFloats();
        float[] bv = b.detach().expand(shape).readFloats();
        float[] o = new float[c.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = c[i] != 0f ? av[i] : bv[i];
        }
        Tensor out = Conversions.wrap(o, a.dtype, shape);
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
                Reduce.sumTo(Conversions.wrap(ga, DType.FP32, shape), a.shape),
                Reduce.sumTo(Conversions.wrap(gb, DType.FP32, shape), b.shape)};
        }, cond, a, b);
    }

    /**
     * {@code out = a op b} over out's shape, where the contiguous {@code a} and {@code b} are read
     * with the (broadcast) strides {@code as} and {@code bs} from their storage offsets. Dimensions
     * are coalesced so the inner runs are as long as possible; FP32 runs are read and written in
     * place, 16-bit runs pass through cache-sized FP32 blocks.
     */
    static void broadcastApply(Binary op, Tensor a, int[] as, Tensor b, int[] bs, Tensor out) {
        int[] shape = out.shape;
        int total = out.numel;
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
        if (total < 2 * Grain.ELEMENTWISE) {
            runRange(op, a, astr, b, bstr, out, dims, 0, total);
        } else {
            Parallel.forRange(total, Grain.ELEMENTWISE, (from, to) -> runRange(op, a, astr, b, bstr, out, dims, from, to));
        }
    }

    /** Computes output elements {@code [from, to)} (row-major) of the coalesced broadcast. */
    private static void runRange(Binary op, Tensor a, int[] as, Tensor b, int[] bs, Tensor out, int[] dims,
                                 int from, int to) {
        int r = dims.length;
        int n = dims[r - 1];
        int ia = as[r - 1];
        int ib = bs[r - 1];
        int[] idx = new int[r];
        int row = from / n;
        int col = from % n;
        int offA = a.offset;
        int offB = b.offset;
        for (int k = r - 2; k >= 0; k--) {
            idx[k] = row % dims[k];
            row /= dims[k];
            offA += idx[k] * as[k];
            offB += idx[k] * bs[k];
        }
        int cap = Math.min(Math.min(n, to - from), BLOCK);
        boolean directA = a.dtype == DType.FP32 && ia != 0;
        boolean directB = b.dtype == DType.FP32 && ib != 0;
        boolean directO = out.dtype == DType.FP32;
        float[] bufA = directA ? null : new float[cap];
        float[] bufB = directB ? null : new float[cap];
        float[] bufO = directO ? null : new float[cap];
        float[] one = new float[1];
        int pos = from;
        while (pos < to) {
            int run = Math.min(n - col, to - pos);
            for (int s = 0; s < run; s += BLOCK) {
                int len = Math.min(BLOCK, run - s);
                int c = col + s;
                float[] srcA;
                int pa;
                if (directA) {
                    srcA = a.floats;
                    pa = offA + c;
                } else {
                    if (ia == 0) {
                        load(a, offA, one, 1);
                        Arrays.fill(bufA, 0, len, one[0]);
                    } else {
                        load(a, offA + c, bufA, len);
                    }
                    srcA = bufA;
                    pa = 0;
                }
                float[] srcB;
                int pb;
                if (directB) {
                    srcB = b.floats;
                    pb = offB + c;
                } else {
                    if (ib == 0) {
                        load(b, offB, one, 1);
                        Arrays.fill(bufB, 0, len, one[0]);
                    } else {
                        load(b, offB + c, bufB, len);
                    }
                    srcB = bufB;
                    pb = 0;
                }
                if (directO) {
                    BinaryKernel.INSTANCE.apply(op.kernel, srcA, pa, srcB, pb, out.floats, pos + s, len);
                } else {
                    BinaryKernel.INSTANCE.apply(op.kernel, srcA, pa, srcB, pb, bufO, 0, len);
                    store(bufO, out, pos + s, len);
                }
            }
            pos += run;
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
