package dev.mpt.core;

import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Matrix products on top of {@link Gemm}: 2-D and batched (broadcast batch dims), with
 * transposed views handed to the kernel as {@code transA}/{@code transB} instead of copied.
 */
final class MatMul {

    private MatMul() {
    }

    /** How the last two dims of an operand are passed to GEMM. */
    private record Layout(Tensor t, boolean trans, int ld) {
    }

    static Tensor matmul(Tensor a, Tensor b) {
        Objects.requireNonNull(a, "matmul");
        Objects.requireNonNull(b, "matmul: other");
        Checks.sameDtype("matmul", a, b);
        Tensor out = mm(a, b, false);
        return Autograd.record(out, "matmul", g -> {
            // g holds values of the output dtype (rounded by the walk), so this conversion is exact
            Tensor gIn = g.to(a.dtype);
            Tensor ga = null;
            Tensor gb = null;
            if (Autograd.needs(a)) {
                ga = Reduce.sumTo(product(gIn, b.transpose(-1, -2), a), a.shape);
            }
            if (Autograd.needs(b)) {
                gb = Reduce.sumTo(product(a.transpose(-1, -2), gIn, b), b.shape);
            }
            return new Tensor[] {ga, gb};
        }, a, b);
    }

    /**
     * {@code x @ w^T + b} as one op for a 2-D {@code x} {@code [batch, in]}, {@code w}
     * {@code [out, in]} and {@code b} {@code [out]} of one dtype: the bias is added in the GEMM's
     * store ({@link Gemm#sgemmBias}, {@link Gemm#gemm16Bias}) instead of a second pass over a second
     * output tensor. Bit for bit {@code x.matmul(w.t()).add(b)}, forward and backward: the same
     * product rounded once to the dtype, the bias added in FP32 and rounded once more, and the same
     * gradient rules ({@link #product} for x and w, {@link Reduce#sumTo} of the incoming gradient for
     * b; a 16-bit weight's gradient rounded to its dtype, as the walk rounds the gradient of the
     * composition's transpose view). A 16-bit weight whose only gradient this is gets it straight
     * from a 16-bit-output GEMM ({@link Autograd#soleGradientOfEmptyLeaf}), the same bits without an
     * FP32 tensor. Other ranks run the composition.
     */
    static Tensor linear(Tensor x, Tensor w, Tensor b) {
        Objects.requireNonNull(x, "linear: input is null");
        Objects.requireNonNull(w, "linear: weight is null");
        Objects.requireNonNull(b, "linear: bias is null");
        Checks.sameDtype("linear", x, w);
        Checks.sameDtype("linear", x, b);
        if (w.shape.length != 2 || b.shape.length != 1 || b.shape[0] != w.shape[0]) {
            throw new IllegalArgumentException("linear: needs weight [out, in] and bias [out], got "
                    + Arrays.toString(w.shape) + " and " + Arrays.toString(b.shape));
        }
        if (x.shape.length < 2 || x.shape[x.shape.length - 1] != w.shape[1]) {
            throw new IllegalArgumentException("linear: input " + Arrays.toString(x.shape) + " must be [..., in] with in = "
                    + w.shape[1] + ", the columns of weight " + Arrays.toString(w.shape));
        }
        if (x.shape.length != 2) {
            return matmul(x, w.t()).add(b);
        }
        Tensor wt = w.detach().transpose(-1, -2);
        Tensor out = mm(x, wt, false, b.readFloats());
        return Autograd.record(out, "linear", g -> {
            // as matmul's rule (g holds values of the output dtype, so the conversion is exact) and add's
            Tensor gIn = g.to(x.dtype);
            Tensor gx = Autograd.needs(x) ? product(gIn, w.detach(), x) : null;
            Tensor gw = null;
            if (Autograd.soleGradientOfEmptyLeaf(w)) {
                // g^T x straight into 16 bits: the FP32 sums of product's column-major form, rounded once
                gw = mm(gIn.transpose(-1, -2), x.detach(), false);
            } else if (Autograd.needs(w)) {
                gw = product(x.detach().transpose(-1, -2), gIn, wt).transpose(-1, -2);
                if (w.dtype != DType.FP32) {
                    // as the composition's w.t() view, whose gradient the walk rounds to the weight's
                    // dtype before it reaches the weight (it matters when the weight has several uses)
                    gw = Conversions.roundInPlace(gw, w.dtype);
                }
            }
            Tensor gb = Autograd.needs(b) ? Reduce.sumTo(g, b.shape) : null;
            return new Tensor[] {gx, gw, gb};
        }, x, w, b);
    }

    /**
     * The FP32 gradient {@code x @ y} for an operand {@code like}, laid out as {@code like} is: when
     * {@code like} is stored column-major (a transposed view, as the weight of {@code x W^T}) and
     * needs no broadcast sum, it is computed as {@code (y^T @ x^T)^T}, a transposed view of a
     * row-major product, so the transpose's own rule hands the weight a row-major gradient without
     * a copy. Both forms sum the same products {@code x_ip y_pj} over p in the same order with fused
     * multiply-adds (whose product is commutative), so they are bit-identical.
     */
    private static Tensor product(Tensor x, Tensor y, Tensor like) {
        int r = like.shape.length;
        boolean columnMajor = like.shape[r - 2] > 1 && like.shape[r - 1] > 1
                && like.strides[r - 2] == 1 && like.strides[r - 1] != 1;
        if (columnMajor && x.shape.length == r && y.shape.length == r
                && Arrays.equals(Strided.broadcast("matmul", Arrays.copyOf(x.shape, r - 2), Arrays.copyOf(y.shape, r - 2)),
                        Arrays.copyOf(like.shape, r - 2))) {
            return mm(y.transpose(-1, -2), x.transpose(-1, -2), true).transpose(-1, -2);
        }
        return mm(x, y, true);
    }

    /**
     * {@code a @ b} (same dtype, rank >= 2, batch dims broadcast), not recorded. The result has the
     * operands' dtype, or FP32 when {@code fp32Out}.
     */
    static Tensor mm(Tensor a, Tensor b, boolean fp32Out) {
        return mm(a, b, fp32Out, null);
    }

    /** {@link #mm(Tensor, Tensor, boolean)}, plus {@code bias[j]} on column j when not null (16-bit or FP32 out). */
    private static Tensor mm(Tensor a, Tensor b, boolean fp32Out, float[] bias) {
        if (a.shape.length < 2 || b.shape.length < 2) {
            throw new IllegalArgumentException("matmul: needs operands of rank >= 2, got shapes "
                    + Arrays.toString(a.shape) + " and " + Arrays.toString(b.shape)
                    + " (use unsqueeze or reshape for vectors)");
        }
        int ra = a.shape.length;
        int rb = b.shape.length;
        int m = a.shape[ra - 2];
        int k = a.shape[ra - 1];
        int n = b.shape[rb - 1];
        if (b.shape[rb - 2] != k) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Arrays.toString(a.shape) + " @ "
                    + Arrays.toString(b.shape) + " (" + k + " vs " + b.shape[rb - 2] + ")");
        }
        int[] batchA = Arrays.copyOf(a.shape, ra - 2);
        int[] batchB = Arrays.copyOf(b.shape, rb - 2);
        int[] batch = Strided.broadcast("matmul", batchA, batchB);
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        DType outType = fp32Out ? DType.FP32 : a.dtype;
        Tensor out = Tensor.zeros(outType, outShape);
        Layout la = layout(a);
        Layout lb = layout(b);
        int[] sa = batchStrides(la.t, batch);
        int[] sb = batchStrides(lb.t, batch);
        int nb = Strided.numel("matmul", batch);
        int[] idx = new int[batch.length];
        for (int bi = 0; bi < nb; bi++) {
            int rem = bi;
            int offA = la.t.offset;
            int offB = lb.t.offset;
            for (int d = batch.length - 1; d >= 0; d--) {
                idx[d] = rem % batch[d];
                rem /= batch[d];
                offA += idx[d] * sa[d];
                offB += idx[d] * sb[d];
            }
            int offC = bi * m * n;
            if (bias != null) {
                if (a.dtype == DType.FP32) {
                    Gemm.sgemmBias(la.trans, lb.trans, m, n, k, la.t.floats, offA, la.ld, lb.t.floats, offB, lb.ld,
                            bias, 0, out.floats, offC, n);
                } else {
                    Gemm.gemm16Bias(a.dtype, la.trans, lb.trans, m, n, k, la.t.shorts, offA, la.ld, lb.t.shorts, offB,
                            lb.ld, bias, 0, out.shorts, offC, n);
                }
            } else if (a.dtype == DType.FP32) {
                Gemm.sgemm(la.trans, lb.trans, m, n, k, la.t.floats, offA, la.ld, lb.t.floats, offB, lb.ld, 0f, out.floats, offC, n);
            } else if (fp32Out) {
                Gemm.gemm16(a.dtype, la.trans, lb.trans, m, n, k, la.t.shorts, offA, la.ld, lb.t.shorts, offB, lb.ld,
                        0f, out.floats, offC, n);
            } else {
                Gemm.gemm16(a.dtype, la.trans, lb.trans, m, n, k, la.t.shorts, offA, la.ld, lb.t.shorts, offB, lb.ld,
                        0f, out.shorts, offC, n);
            }
        }
        return out;
    }

    /** Strides of {@code t}'s batch dims aligned to the broadcast {@code batch} (0 where broadcast). */
    private static int[] batchStrides(Tensor t, int[] batch) {
        int rb = t.shape.length - 2;
        int[] s = new int[batch.length];
        for (int i = 0; i < batch.length; i++) {
            int d = i - (batch.length - rb);
            s[i] = d < 0 || t.shape[d] == 1 ? 0 : t.strides[d];
        }
        return s;
    }

    /**
     * Row-major ({@code trans=false}, ld = row stride) or column-major ({@code trans=true}, ld =
     * column stride) view of the last two dims, else a contiguous copy.
     */
    private static Layout layout(Tensor t) {
        int r = t.shape.length;
        int rows = t.shape[r - 2];
        int cols = t.shape[r - 1];
        int s0 = t.strides[r - 2];
        int s1 = t.strides[r - 1];
        if ((cols == 1 || s1 == 1) && (rows == 1 || s0 >= Math.max(cols, 1))) {
            return new Layout(t, false, rows == 1 ? Math.max(cols, 1) : s0);
        }
        if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= Math.max(rows, 1))) {
            return new Layout(t, true, cols == 1 ? Math.max(rows, 1) : s1);
        }
        Tensor c = Views.copy(t.detach());
        return new Layout(c, false, Math.max(cols, 1));
    }
}
