package dev.mpt.core;

import dev.mpt.core.kernel.ActivationKernel;
import dev.mpt.core.kernel.BinaryKernel;
import dev.mpt.core.kernel.BinaryOp;
import dev.mpt.core.kernel.Convert;
import dev.mpt.core.kernel.FloatMath;
import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.kernel.PackedB;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.kernel.ThreadScratch;
import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;

/**
 * One LSTM layer run over a whole time-major sequence, forward and backward through time, with
 * what the backward needs kept from the forward. The arithmetic of {@link LstmOp} lives here; the
 * op validates and records.
 *
 * <p>Buffers (row {@code r = t * B + b} of a time-major sequence, {@code G = 4H} gate columns in
 * PyTorch's order i, f, g, o):
 * <pre>
 * act   [T*B, G] FP32  first the input projection x W_ih^T, then, step by step in place, the gate
 *                      activations sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
 * hs    [(T+1)*B, H]   h_{-1} = h0, h_0 .. h_{T-1} in the compute dtype; slots 1..T are the output
 * cs    [(T+1)*B, H]   c_{-1} = c0, c_0 .. c_{T-1}, FP32
 * tcs   [T*B, H] FP32  tanh(c_t)
 * </pre>
 */
final class LstmSequence {

    /**
     * Fewest batch rows of one task of a time step (its rows of the recurrent product, then their
     * gate math): a row of H = 128 does 4 H^2 multiply-adds and about 5 H FP32 transcendentals a
     * vector at a time, so 8 rows (one register block of the AVX-512 GEMM kernel) hide a fork/join
     * hand-off. An estimate, like {@link dev.mpt.core.kernel.Grain#ELEMENTWISE}; results do not
     * depend on it.
     */
    static final int ROWS_PER_TASK = 8;

    /**
     * Per-thread working memory that does not outlive one call: the recurrent product of a forward
     * step and the FP32 gate gradients of a backward pass (the largest buffer of the backward,
     * {@code T*B*4H} floats), so a training loop does not allocate them anew each step.
     */
    private static final ThreadScratch SCRATCH = new ThreadScratch(3);
    private static final int HW = 0;
    private static final int D_PRE = 1;
    private static final int DH_REC = 2;

    final DType dt;
    final int steps;
    final int batch;
    final int in;
    final int hidden;
    /** The contiguous time-major input {@code [T, B, in]} and the contiguous weights. */
    final Tensor x;
    final Tensor wIh;
    final Tensor wHh;
    final float[] bIh;
    final float[] bHh;
    final float[] act;
    final float[] h32;
    final short[] h16;
    final float[] cs;
    final float[] tcs;

    private LstmSequence(Tensor x, Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
        this.dt = x.dtype;
        this.steps = x.shape[0];
        this.batch = x.shape[1];
        this.in = x.shape[2];
        this.hidden = wHh.shape[1];
        this.x = x;
        this.wIh = wIh;
        this.wHh = wHh;
        this.bIh = bIh.readFloats();
        this.bHh = bHh.readFloats();
        int g = 4 * hidden;
        this.act = new float[steps * batch * g];
        int hLen = (steps + 1) * batch * hidden;
        this.h32 = dt == DType.FP32 ? new float[hLen] : null;
        this.h16 = dt == DType.FP32 ? null : new short[hLen];
        this.cs = new float[hLen];
        this.tcs = new float[steps * batch * hidden];
    }

    /**
     * Runs the layer: contiguous {@code x [T, B, in]}, {@code h0 [B, H]} of x's dtype, FP32
     * {@code c0 [B, H]}, contiguous weights {@code [4H, in]}, {@code [4H, H]} and biases {@code [4H]},
     * all of x's dtype. Nothing is recorded.
     */
    static LstmSequence forward(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
        LstmSequence s = new LstmSequence(x, wIh, wHh, bIh, bHh);
        s.run(h0, c0);
        return s;
    }

    /** The output sequence {@code [T, B, H]}: a view of slots 1..T of {@link #hs}. */
    Tensor output() {
        int[] shape = {steps, batch, hidden};
        return new Tensor(dt, h32, h16, batch * hidden, shape, Strided.contiguousStrides(shape));
    }

    /** The last cell state {@code c_{T-1}}, FP32 {@code [B, H]}, a copy. */
    Tensor lastCell() {
        float[] c = new float[batch * hidden];
        System.arraycopy(cs, steps * batch * hidden, c, 0, c.length);
        return f32(c, batch, hidden);
    }

    private void run(Tensor h0, Tensor c0) {
        int bh = batch * hidden;
        int g = 4 * hidden;
        // h_{-1} and c_{-1}
        Tensor h0c = h0.contiguous();
        if (h32 != null) {
            System.arraycopy(h0c.floats, h0c.offset, h32, 0, bh);
        } else {
            System.arraycopy(h0c.shorts, h0c.offset, h16, 0, bh);
        }
        Tensor c0c = c0.contiguous();
        System.arraycopy(c0c.floats, c0c.offset, cs, 0, bh);
        // the input projection of every step in one GEMM, FP32 accumulation and output
        product(false, true, steps * batch, g, in, x, 0, in, wIh, 0, in, act, 0);
        float[] hw = SCRATCH.get(HW, batch * g);
        // W_hh^T packed once for all steps
        PackedB whT = packed(true, hidden, g, wHh);
        Tensor hs = hOperand();
        for (int t = 0; t < steps; t++) {
            int step = t;
            // per task, h_{t-1} W_hh^T for its batch rows, then their gates: one fork/join per step
            // (a row of a product does not depend on the rows computed with it, so the bits are those
            // of one product over all rows)
            Parallel.forRange(batch, ROWS_PER_TASK, (from, to) -> {
                product(to - from, hs, step * bh + from * hidden, hidden, whT, hw, from * g);
                gates(step, hw, from, to);
            });
        }
    }

    /**
     * The gate and cell math of step {@code t} for batch rows {@code [from, to)}, each value rounded
     * as the composed ops round it: {@code pre = (xW_ih^T + b_ih) + (hW_hh^T + b_hh)} with each
     * product and each sum rounded to the compute dtype (exact in FP32), then in FP32 from the
     * rounded pre-activations: sigmoid and tanh by {@link ActivationKernel} (FP32 arithmetic,
     * {@link FloatMath}'s error bounds), {@code c = f c_prev + i g} (two FP32 products, one FP32 sum),
     * {@code h = o tanh(c)} rounded once to the compute dtype. Per row: the 4H pre-activations, the
     * activations over the run of gates (a vector at a time), the cell update, tanh(c) over the run
     * of cells, h.
     */
    private void gates(int t, float[] hw, int from, int to) {
        int h = hidden;
        int g = 4 * h;
        int bh = batch * h;
        ActivationKernel k = ActivationKernel.INSTANCE;
        for (int b = from; b < to; b++) {
            int row = (t * batch + b) * g;
            int hwRow = b * g;
            int cPrevRow = t * bh + b * h;
            int cRow = cPrevRow + bh;
            int tcRow = cPrevRow;
            preActivations(act, row, hw, hwRow, g);
            k.sigmoid(act, row, act, row, 2 * h); // i, f
            k.tanh(act, row + 2 * h, act, row + 2 * h, h); // g
            k.sigmoid(act, row + 3 * h, act, row + 3 * h, h); // o
            for (int j = 0; j < h; j++) {
                cs[cRow + j] = act[row + h + j] * cs[cPrevRow + j] + act[row + j] * act[row + 2 * h + j];
            }
            k.tanh(cs, cRow, tcs, tcRow, h);
            // h = o tanh(c); a 16-bit h is formed in the row's (now free) recurrent-product scratch
            // and rounded in one bulk conversion
            float[] hv = h32 != null ? h32 : hw;
            int hvAt = h32 != null ? cRow : hwRow;
            for (int j = 0; j < h; j++) {
                hv[hvAt + j] = act[row + 3 * h + j] * tcs[tcRow + j];
            }
            if (dt == DType.FP16) {
                Convert.floatToHalf(hw, hwRow, h16, cRow, h);
            } else if (dt == DType.BF16) {
                Convert.floatToBFloat16(hw, hwRow, h16, cRow, h);
            }
        }
    }

    /**
     * {@code act[a + j] = pre(act[a + j], bIh[j], hw[w + j], bHh[j])} for {@code j < n} (n = 4H),
     * for FP32 and FP16 a run at a time ({@link BinaryKernel}'s vector adds, and for FP16
     * {@link Convert#roundToHalf} in between; in FP32 the roundings are exact), bit for bit the
     * per-element loop, which BF16 runs; {@code hw}'s row is left holding {@code round(round(hw) + bHh)}.
     * C2 does not vectorize the per-element loop even without the roundings (throwaway harness,
     * JDK 25: the same time with {@code -XX:-UseSuperWord}).
     */
    private void preActivations(float[] act, int a, float[] hw, int w, int n) {
        if (dt == DType.BF16) {
            for (int j = 0; j < n; j++) {
                act[a + j] = pre(act[a + j], bIh[j], hw[w + j], bHh[j]);
            }
            return;
        }
        boolean half = dt == DType.FP16;
        BinaryKernel add = BinaryKernel.INSTANCE;
        if (half) {
            Convert.roundToHalf(act, a, n);
        }
        add.apply(BinaryOp.ADD, act, a, bIh, 0, act, a, n);
        if (half) {
            Convert.roundToHalf(act, a, n);
            Convert.roundToHalf(hw, w, n);
        }
        add.apply(BinaryOp.ADD, hw, w, bHh, 0, hw, w, n);
        if (half) {
            Convert.roundToHalf(hw, w, n);
        }
        add.apply(BinaryOp.ADD, act, a, hw, w, act, a, n);
        if (half) {
            Convert.roundToHalf(act, a, n);
        }
    }

    /** {@code x[from .. from+n)} rounded to the compute dtype in place ({@link #round}, a run at a time for FP16). */
    private void roundRun(float[] x, int from, int n) {
        if (dt == DType.FP16) {
            Convert.roundToHalf(x, from, n);
        } else if (dt == DType.BF16) {
            for (int j = from; j < from + n; j++) {
                x[j] = round(x[j]);
            }
        }
    }

    /** {@code (xw + bi) + (hw + bh)}, each product and sum rounded to the compute dtype. */
    private float pre(float xw, float bi, float hw, float bh) {
        return round(round(round(xw) + bi) + round(round(hw) + bh));
    }

    /** {@code v} rounded to the compute dtype (to nearest even) and widened back. */
    private float round(float v) {
        return switch (dt) {
            case FP32 -> v;
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> BFloat16.toFloat(BFloat16.fromFloat(v));
        };
    }

    private short narrow(float v) {
        return dt == DType.FP16 ? Float.floatToFloat16(v) : BFloat16.fromFloat(v);
    }

    /** The hidden-state buffer as a tensor {@code [(T+1)*B, H]} for GEMM calls. */
    private Tensor hOperand() {
        int[] shape = {(steps + 1) * batch, hidden};
        return new Tensor(dt, h32, h16, 0, shape, Strided.contiguousStrides(shape));
    }

    /** The gradients of {@link LstmOp}'s inputs, FP32, null where not asked for. */
    record Grads(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bias) {
    }

    /**
     * Backward through time. {@code dOut} is the FP32 gradient of the output {@code [T, B, H]}
     * (values of the compute dtype, as the walk rounds them) or null, {@code dcLast} the FP32
     * gradient of the last cell state {@code [B, H]} or null. Per step, from the last:
     * <pre>
     * dh  = round(dOut_t + dPre_{t+1} W_hh)          FP32 sum of a GEMM (FP32 accumulation) and dOut
     * do  = dh tanh(c_t),  dc = dc_next + dh o (1 - tanh(c_t)^2)
     * di  = dc g,  df = dc c_{t-1},  dg = dc i,  dc_next = dc f
     * dPre = round([di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)])
     * </pre>
     * in FP32 from the stored activations, {@code round} to the compute dtype (the paper's FP16
     * activation gradients; exact in FP32). Then, over the whole sequence, one GEMM each:
     * {@code dx = dPre W_ih}, {@code dW_ih = dPre^T x}, {@code dW_hh = dPre^T [h_{-1} .. h_{T-2}]}
     * (FP32 accumulation, FP32 out), and the bias gradient (the same for both biases) as column sums
     * of dPre accumulated in double in row order and rounded to FP32.
     */
    Grads backward(float[] dOut, int dOutOff, float[] dcLast, int dcOff, boolean needX, boolean needH0,
                   boolean needC0, boolean needW) {
        int h = hidden;
        int g = 4 * h;
        int bh = batch * h;
        int rows = steps * batch;
        float[] dPre = SCRATCH.get(D_PRE, rows * g);
        float[] d32 = dt == DType.FP32 ? dPre : null;
        short[] d16 = dt == DType.FP32 ? null : new short[rows * g];
        float[] dhRec = SCRATCH.get(DH_REC, bh);
        float[] dc = new float[bh];
        if (dcLast != null) {
            System.arraycopy(dcLast, dcOff, dc, 0, bh);
        }
        Tensor dPreT = new Tensor(dt, d32, d16, 0, new int[] {rows, g}, new int[] {g, 1});
        // W_hh packed once for the recurrent products of all steps and dh0
        PackedB wh = packed(false, g, h, wHh);
        for (int t = steps - 1; t >= 0; t--) {
            boolean recurrent = t < steps - 1;
            int step = t;
            // per task, dPre_{t+1} W_hh for its batch rows, then their gate gradients (as in run)
            Parallel.forRange(batch, ROWS_PER_TASK, (from, to) -> {
                if (recurrent) {
                    product(to - from, dPreT, ((step + 1) * batch + from) * g, g, wh, dhRec, from * h);
                }
                gateGrads(step, recurrent, dOut, dOutOff, dhRec, dc, dPre, d16, from, to);
            });
        }
        Tensor dh0 = null;
        if (needH0) {
            float[] d = new float[bh];
            product(batch, dPreT, 0, g, wh, d, 0);
            dh0 = f32(d, batch, h);
        }
        Tensor dc0 = needC0 ? f32(dc, batch, h) : null;
        Tensor dx = null;
        if (needX) {
            float[] d = new float[rows * in];
            product(false, false, rows, in, g, dPreT, 0, g, wIh, 0, in, d, 0);
            dx = f32(d, steps, batch, in);
        }
        Tensor dwIh = null;
        Tensor dwHh = null;
        Tensor db = null;
        if (needW) {
            float[] dw = new float[g * in];
            product(true, false, g, in, rows, dPreT, 0, g, x, 0, in, dw, 0);
            dwIh = f32(dw, g, in);
            float[] dr = new float[g * h];
            product(true, false, g, h, rows, dPreT, 0, g, hOperand(), 0, h, dr, 0);
            dwHh = f32(dr, g, h);
            db = Tensor.of(columnSums(dPre, rows, g), g);
        }
        return new Grads(dx, dh0, dc0, dwIh, dwHh, db);
    }

    /** One step's gate gradients for batch rows {@code [from, to)}; see {@link #backward}. */
    private void gateGrads(int t, boolean recurrent, float[] dOut, int dOutOff, float[] dhRec, float[] dc,
                           float[] dPre, short[] d16, int from, int to) {
        int h = hidden;
        int g = 4 * h;
        int bh = batch * h;
        for (int b = from; b < to; b++) {
            int row = (t * batch + b) * g;
            int hRow = (t * batch + b) * h;
            int sRow = b * h;
            int cPrevRow = t * bh + b * h;
            // dh of the row, in place in the row of dhRec (read by this row only), so the loop below
            // has no branch: dOut, plus the recurrent gradient and rounded to the dtype
            if (recurrent) {
                if (dOut != null) {
                    for (int j = 0; j < h; j++) {
                        dhRec[sRow + j] = dOut[dOutOff + hRow + j] + dhRec[sRow + j];
                    }
                } else {
                    for (int j = 0; j < h; j++) {
                        dhRec[sRow + j] = 0f + dhRec[sRow + j];
                    }
                }
                roundRun(dhRec, sRow, h);
            } else if (dOut != null) {
                System.arraycopy(dOut, dOutOff + hRow, dhRec, sRow, h);
            } else {
                java.util.Arrays.fill(dhRec, sRow, sRow + h, 0f);
            }
            for (int j = 0; j < h; j++) {
                float dh = dhRec[sRow + j];
                int ii = row + j;
                int fi = ii + h;
                int gi = fi + h;
                int oi = gi + h;
                float i = act[ii];
                float f = act[fi];
                float gg = act[gi];
                float o = act[oi];
                float tc = tcs[hRow + j];
                float dcv = dc[sRow + j] + dh * o * (1f - tc * tc);
                dc[sRow + j] = dcv * f;
                // unrounded here; rounded to the dtype (and stored in 16 bits) for the whole row below
                dPre[ii] = dcv * gg * i * (1f - i);
                dPre[fi] = dcv * cs[cPrevRow + j] * f * (1f - f);
                dPre[gi] = dcv * i * (1f - gg * gg);
                dPre[oi] = dh * tc * o * (1f - o);
            }
            if (dt == DType.FP16) {
                Convert.roundToHalf(dPre, row, g);
                Convert.floatToHalf(dPre, row, d16, row, g);
            } else if (d16 != null) {
                for (int k = row; k < row + g; k++) {
                    dPre[k] = round(dPre[k]);
                    d16[k] = narrow(dPre[k]);
                }
            }
        }
    }

    /** An FP32 tensor over {@code data} (not copied). */
    private static Tensor f32(float[] data, int... shape) {
        return new Tensor(DType.FP32, data, null, 0, shape, Strided.contiguousStrides(shape));
    }

    /** Column sums of {@code a [rows, cols]} in double, in row order, rounded to FP32. */
    private static float[] columnSums(float[] a, int rows, int cols) {
        double[] s = new double[cols];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) {
                s[j] += a[o + j];
            }
        }
        float[] out = new float[cols];
        for (int j = 0; j < cols; j++) {
            out[j] = (float) s[j];
        }
        return out;
    }

    /** {@code op(B)} ({@code k x n}) of the contiguous compute-dtype tensor {@code b}, packed for many products. */
    private PackedB packed(boolean transB, int k, int n, Tensor b) {
        int ldb = b.shape[1];
        return dt == DType.FP32 ? Gemm.packB(transB, k, n, b.floats, b.offset, ldb)
                : Gemm.packB16(dt, transB, k, n, b.shorts, b.offset, ldb);
    }

    /**
     * {@code c[cOff..] = A B} (beta 0) with FP32 output, A an {@code m x b.k()} row-major slice of the
     * compute-dtype tensor {@code a} from offset {@code aOff}, B packed: bit for bit the unpacked product.
     */
    private void product(int m, Tensor a, int aOff, int lda, PackedB b, float[] c, int cOff) {
        int ao = a.offset + aOff;
        if (dt == DType.FP32) {
            Gemm.sgemm(false, m, a.floats, ao, lda, b, 0f, c, cOff, b.n());
        } else {
            Gemm.gemm16(dt, false, m, a.shorts, ao, lda, b, 0f, c, cOff, b.n());
        }
    }

    /**
     * {@code c[cOff..] = op(A) op(B)} (beta 0) with FP32 output, A and B contiguous row-major tensors
     * of the compute dtype read from the given offsets and leading dimensions.
     */
    private void product(boolean transA, boolean transB, int m, int n, int k, Tensor a, int aOff, int lda,
                         Tensor b, int bOff, int ldb, float[] c, int cOff) {
        int ao = a.offset + aOff;
        int bo = b.offset + bOff;
        if (dt == DType.FP32) {
            Gemm.sgemm(transA, transB, m, n, k, a.floats, ao, lda, b.floats, bo, ldb, 0f, c, cOff, n);
        } else {
            Gemm.gemm16(dt, transA, transB, m, n, k, a.shorts, ao, lda, b.shorts, bo, ldb, 0f, c, cOff, n);
        }
    }
}
