package dev.mpt.core;

import dev.mpt.core.kernel.ActivationKernel;
import dev.mpt.core.kernel.Convert;
import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.kernel.ThreadScratch;
import dev.mpt.core.number.DType;

/**
 * Blockwise scaled dot-product attention with an online softmax (the running max / running sum
 * recurrence of FlashAttention; Dao et al. 2022, Dao 2023), forward and backward. The arithmetic of
 * {@link Attention} lives here; the op validates and records.
 *
 * <p>Loop nest of the forward, one task per (batch, head, query block); a row's keys are visited in
 * blocks of {@link #BLOCK_K}, in order, so every output element is computed by one thread in a fixed
 * order whatever the thread count:
 * <pre>
 * for (b, h, query block)                       parallel
 *   for key block j0 = 0, BLOCK_K, ...          (up to the diagonal when causal)
 *     S   = Q_blk K_blk^T                       Gemm on the widened blocks; per score one FP32
 *                                               FMA chain over the head dimension in index order
 *     for query row i, key j in the block
 *       s   = scale * S_ij                      FP32 (-inf where masked)
 *       m'  = max(m, max_j s);  alpha = exp(m - m')
 *       p   = exp(s - m')                       FP32;  l = alpha l + sum_j p   (unrounded p)
 *       P_ij = round(z_ij p)                    z: dropout keep factor, round: to the dtype
 *     acc = alpha acc;  acc += P V_blk          Gemm: per element one FP32 chain over the block's
 *                                               keys in order, then one FP32 addition to acc
 *   o_i = round(acc / l);  lse_i = m + log(l)   kept for the backward ([B, H, Tq] floats)
 * </pre>
 * The block products go through {@link Gemm#sgemm} (FP32 in, FP32 out; the Java kernels, which
 * keep one chain per element in order whatever the blocking, unless a native backend is chosen for
 * FP32 with {@code -Dmpt.backend=onednn}). They are small (at most 32 x 64 x D) and run on the calling
 * thread; the parallelism is over the tasks below.
 * Memory besides the inputs and the output is {@code O(B H Tq)} plus per-thread blocks: the
 * {@code Tq x Tk} matrix is never formed. The backward recomputes the blocks from {@code lse}: one
 * pass per (batch, head, query block) writes {@code dQ} (per key block: {@code S}, {@code dP = dO V_blk^T},
 * {@code dQ_blk += dS K_blk}), a second per (batch, head, key block) writes {@code dK} and {@code dV} (per
 * block of {@link #BLOCK_Q} query rows: {@code S}, {@code dP}, {@code dV_blk += P^T dO_blk},
 * {@code dK_blk += dS^T Q_blk}), so again each gradient element has one writer and one order: FP32
 * chains over one block, added block after block.
 */
final class AttentionBlocks {

    /**
     * Query rows per task: 32 rows x 64 keys of FP32 scores is 8 KiB, beside two 64-row key and value
     * blocks of width 64 (32 KiB), inside a 48 KiB L1. An estimate; results do not depend on it.
     */
    static final int BLOCK_Q = 32;
    /**
     * Keys per online-softmax step (and key rows per task of the dK/dV pass); see {@link #BLOCK_Q}.
     * The forward's rounding depends on it (the points where the running max rescales).
     */
    static final int BLOCK_K = 64;

    private static final ThreadScratch SCRATCH = new ThreadScratch(9);
    private static final int S_Q = 0;
    private static final int S_K = 1;
    private static final int S_V = 2;
    private static final int S_ACC = 3;
    private static final int S_SC = 4;
    private static final int S_ROW = 5;
    private static final int S_DO = 6;
    private static final int S_X = 7;
    private static final int S_Z = 8;
    /** The vectorized exp and dropout mask. */
    private static final ActivationKernel EXP = ActivationKernel.INSTANCE;

    final DType dt;
    final int batch;
    final int heads;
    final int tq;
    final int tk;
    final int d;
    final int dv;
    final float scale;
    final boolean causal;
    /** {@code [B * Tk]}, true where a key is padding (ignored); null for no key mask. */
    final boolean[] padded;
    final double dropout;
    final float keepScale;
    /** A weight is kept when the top 53 bits of its hash are at least this: {@code ceil(dropout 2^53)}. */
    final long keepThreshold;
    final long seed;
    final Tensor q;
    final Tensor k;
    final Tensor v;
    /** The output {@code [B, H, Tq, Dv]} in the compute dtype. */
    final float[] o32;
    final short[] o16;
    /** {@code m + log(l)} per query row, FP32 {@code [B * H * Tq]}; -inf for a row with no key. */
    final float[] lse;

    AttentionBlocks(Tensor q, Tensor k, Tensor v, boolean[] padded, boolean causal, float scale, double dropout,
                    long seed) {
        this.dt = q.dtype;
        this.batch = q.shape[0];
        this.heads = q.shape[1];
        this.tq = q.shape[2];
        this.tk = k.shape[2];
        this.d = q.shape[3];
        this.dv = v.shape[3];
        this.scale = scale;
        this.causal = causal;
        this.padded = padded;
        this.dropout = dropout;
        this.keepScale = (float) (1.0 / (1.0 - dropout));
        this.keepThreshold = (long) Math.ceil(dropout * 0x1p53);
        this.seed = seed;
        this.q = q;
        this.k = k;
        this.v = v;
        int on = batch * heads * tq * dv;
        this.o32 = dt == DType.FP32 ? new float[on] : null;
        this.o16 = dt == DType.FP32 ? null : new short[on];
        this.lse = new float[batch * heads * tq];
    }

    /** The output as a tensor {@code [B, H, Tq, Dv]} (not copied). */
    Tensor output() {
        int[] shape = {batch, heads, tq, dv};
        return new Tensor(dt, o32, o16, 0, shape, Strided.contiguousStrides(shape));
    }

    /** Whether query {@code i} may see key {@code j} of batch {@code b}. */
    boolean visible(int b, int i, int j) {
        return !(causal && j > i) && (padded == null || !padded[b * tk + j]);
    }

    /**
     * The inverted-dropout factor of weight {@code (b, h, i, j)}: 0 with probability {@code p}, else
     * {@code 1 / (1 - p)} (FP32). Drawn from a SplitMix64 hash of the seed and the weight's index, so
     * the backward recomputes the same mask without storing it; 1 when dropout is off.
     */
    float keep(int b, int h, int i, int j) {
        if (dropout == 0) {
            return 1f;
        }
        long idx = (((long) b * heads + h) * tq + i) * tk + j;
        return (ActivationKernel.dropoutHash(seed, idx) >>> 11) >= keepThreshold ? keepScale : 0f;
    }

    /**
     * {@code z[c] = keep(b, h, i, j0 + c)} for {@code c < cols}, dropout on. The uniform draw
     * {@code u = (hash >>> 11) 2^-53} is kept when {@code u >= p}, that is when the integer
     * {@code hash >>> 11 >= p 2^53} (exact: a scaling by a power of two), so when it is at least
     * {@link #keepThreshold}.
     */
    private void keepRow(int b, int h, int i, int j0, int cols, float[] z) {
        long idx = (((long) b * heads + h) * tq + i) * tk + j0;
        EXP.dropoutMask(seed, idx, keepThreshold, keepScale, z, 0, cols);
    }

    /** Last key (exclusive) that any query row of {@code [i0, i0 + rows)} may see. */
    private int keyEnd(int i0, int rows) {
        return causal ? Math.min(tk, i0 + rows) : tk;
    }

    // ---------------------------------------------------------------- forward

    void forward() {
        int qBlocks = (tq + BLOCK_Q - 1) / BLOCK_Q;
        Parallel.forEach(batch * heads * qBlocks, task -> forwardBlock(task / qBlocks, task % qBlocks));
    }

    private void forwardBlock(int bh, int qb) {
        int i0 = qb * BLOCK_Q;
        int rows = Math.min(BLOCK_Q, tq - i0);
        float[] qf = SCRATCH.get(S_Q, rows * d);
        float[] kf = SCRATCH.get(S_K, BLOCK_K * d);
        float[] vf = SCRATCH.get(S_V, BLOCK_K * dv);
        float[] acc = SCRATCH.get(S_ACC, rows * dv);
        float[] s = SCRATCH.get(S_SC, rows * BLOCK_K);
        float[] ml = SCRATCH.get(S_ROW, 2 * rows);
        float[] z = SCRATCH.get(S_Z, BLOCK_K);
        java.util.Arrays.fill(acc, 0, rows * dv, 0f);
        for (int r = 0; r < rows; r++) {
            ml[r] = Float.NEGATIVE_INFINITY;
            ml[rows + r] = 0f;
        }
        widen(q, ((long) bh * tq + i0) * d, qf, rows * d);
        int b = bh / heads;
        int h = bh % heads;
        int jEnd = keyEnd(i0, rows);
        for (int j0 = 0; j0 < jEnd; j0 += BLOCK_K) {
            int cols = Math.min(BLOCK_K, jEnd - j0);
            widen(k, ((long) bh * tk + j0) * d, kf, cols * d);
            widen(v, ((long) bh * tk + j0) * dv, vf, cols * dv);
            scores(b, i0, rows, j0, cols, qf, kf, s);
            // s becomes the rounded weights round(z p) of the block (0 where masked)
            for (int r = 0; r < rows; r++) {
                int so = r * cols;
                float rowMax = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < cols; c++) {
                    rowMax = Math.max(rowMax, s[so + c]);
                }
                if (rowMax == Float.NEGATIVE_INFINITY) {
                    java.util.Arrays.fill(s, so, so + cols, 0f);
                    continue;
                }
                float m = ml[r];
                float mNew = Math.max(m, rowMax);
                if (mNew != m) {
                    float alpha = (float) Math.exp(m - mNew);
                    ml[rows + r] *= alpha;
                    int a = r * dv;
                    for (int e = 0; e < dv; e++) {
                        acc[a + e] *= alpha;
                    }
                }
                // p = exp(s - m'), exactly 0 where masked (a visible p is at least e^-87: exp clamps)
                EXP.expShifted(s, so, mNew, s, so, cols);
                float l = ml[rows + r];
                for (int c = 0; c < cols; c++) {
                    l += s[so + c];
                }
                ml[r] = mNew;
                ml[rows + r] = l;
                if (dropout != 0) {
                    keepRow(b, h, i0 + r, j0, cols, z);
                    for (int c = 0; c < cols; c++) {
                        s[so + c] *= z[c];
                    }
                }
                roundRun(s, so, cols);
            }
            // acc += P V_blk: per element an FP32 chain over the block's keys in order, then one addition
            Gemm.sgemm(false, false, rows, dv, cols, s, 0, cols, vf, 0, dv, 1f, acc, 0, dv);
        }
        for (int r = 0; r < rows; r++) {
            int row = bh * tq + i0 + r;
            float l = ml[rows + r];
            lse[row] = l == 0f ? Float.NEGATIVE_INFINITY : ml[r] + (float) Math.log(l);
            int oo = row * dv;
            for (int e = 0; e < dv; e++) {
                float val = l == 0f ? 0f : acc[r * dv + e] / l;
                if (o32 != null) {
                    o32[oo + e] = val;
                } else {
                    o16[oo + e] = narrow(val);
                }
            }
        }
    }

    /**
     * {@code s[r * cols + c] = scale * (q_{i0+r} . k_{j0+c})} for the block's query rows and keys, -inf
     * where masked: {@code S = Q_blk K_blk^T} by {@link Gemm#sgemm} (per element one FP32 chain over
     * the head dimension in index order), then the scale product.
     */
    private void scores(int b, int i0, int rows, int j0, int cols, float[] qf, float[] kf, float[] s) {
        Gemm.sgemm(false, true, rows, cols, d, qf, 0, d, kf, 0, d, 0f, s, 0, cols);
        for (int r = 0; r < rows; r++) {
            int so = r * cols;
            // keys c < seen pass the causal mask (visible(b, i0 + r, j0 + c) before padding)
            int seen = causal ? Math.clamp(i0 + r - j0 + 1, 0, cols) : cols;
            for (int c = 0; c < seen; c++) {
                s[so + c] *= scale;
            }
            java.util.Arrays.fill(s, so + seen, so + cols, Float.NEGATIVE_INFINITY);
            if (padded != null) {
                for (int c = 0; c < seen; c++) {
                    if (padded[b * tk + j0 + c]) {
                        s[so + c] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- backward

    /** The gradients of q, k, v, FP32, null where not asked for. */
    record Grads(Tensor q, Tensor k, Tensor v) {
    }

    /**
     * The backward from the FP32 output gradient {@code dOut [B, H, Tq, Dv]} (contiguous, values of
     * the compute dtype as the walk rounds them). With {@code P_ij = exp(s_ij - lse_i)} recomputed in
     * FP32 and {@code z_ij} the dropout factor:
     * <pre>
     * D_i   = dO_i . o_i                                  FP32 dot, o the stored (rounded) output
     * dV_j  = sum_i round(z_ij P_ij) dO_i                 FP32 accumulation
     * dP_ij = z_ij (dO_i . v_j)                           FP32 dot
     * dS_ij = round(scale P_ij (dP_ij - D_i))             FP32, rounded to the dtype (an activation
     *                                                     gradient of the paper's FP16 backward)
     * dQ_i  = sum_j dS_ij k_j,   dK_j = sum_i dS_ij q_i   FP32 accumulation, FP32 out
     * </pre>
     */
    Grads backward(float[] dOut, int dOff, boolean needQ, boolean needK, boolean needV) {
        float[] delta = new float[batch * heads * tq];
        Parallel.forRange(batch * heads * tq, BLOCK_Q, (from, to) -> {
            for (int row = from; row < to; row++) {
                float sum = 0f;
                int base = row * dv;
                for (int e = 0; e < dv; e++) {
                    float oe = o32 != null ? o32[base + e] : widen(o16[base + e]);
                    sum += dOut[dOff + base + e] * oe;
                }
                delta[row] = sum;
            }
        });
        float[] dq = null;
        if (needQ) {
            float[] g = new float[batch * heads * tq * d];
            int qBlocks = (tq + BLOCK_Q - 1) / BLOCK_Q;
            Parallel.forEach(batch * heads * qBlocks, task -> dqBlock(task / qBlocks, task % qBlocks, dOut, dOff,
                    delta, g));
            dq = g;
        }
        float[] dk = null;
        float[] dvv = null;
        if (needK || needV) {
            float[] gk = new float[batch * heads * tk * d];
            float[] gv = new float[batch * heads * tk * dv];
            int kBlocks = (tk + BLOCK_K - 1) / BLOCK_K;
            Parallel.forEach(batch * heads * kBlocks, task -> dkvBlock(task / kBlocks, task % kBlocks, dOut, dOff,
                    delta, gk, gv));
            dk = needK ? gk : null;
            dvv = needV ? gv : null;
        }
        return new Grads(dq == null ? null : f32(dq, batch, heads, tq, d),
                dk == null ? null : f32(dk, batch, heads, tk, d),
                dvv == null ? null : f32(dvv, batch, heads, tk, dv));
    }

    /**
     * For query rows {@code [i0, i0 + rows)} and keys {@code [j0, j0 + cols)}: {@code s[r * cols + c]} becomes
     * the rounded weight {@code round(z P)} and {@code ds[...]} the score gradient {@code dS} (both 0 where
     * masked or the row sees no key), from {@code S = Q_blk K_blk^T} ({@link #scores}) and
     * {@code dP = dO_blk V_blk^T} (Gemm, per element one FP32 chain over Dv in order); see {@link #backward}.
     */
    private void weightsAndScoreGrads(int b, int h, int i0, int rows, int j0, int cols, float[] qf, float[] kf,
                                      float[] vf, float[] dOut, int go, float[] delta, float[] s, float[] ds,
                                      float[] z) {
        scores(b, i0, rows, j0, cols, qf, kf, s);
        Gemm.sgemm(false, true, rows, cols, dv, dOut, go, dv, vf, 0, dv, 0f, ds, 0, cols);
        int bh = b * heads + h;
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            int row = bh * tq + i;
            float lseI = lse[row];
            int so = r * cols;
            if (lseI == Float.NEGATIVE_INFINITY) {
                java.util.Arrays.fill(s, so, so + cols, 0f);
                java.util.Arrays.fill(ds, so, so + cols, 0f);
                continue;
            }
            // P = exp(s - lse), exactly 0 where masked (and only there: exp clamps at e^-87)
            EXP.expShifted(s, so, lseI, s, so, cols);
            float dl = delta[row];
            if (dropout != 0) {
                keepRow(b, h, i, j0, cols, z);
                for (int c = 0; c < cols; c++) {
                    float p = s[so + c];
                    ds[so + c] = p == 0f ? 0f : scale * (p * (z[c] * ds[so + c] - dl));
                    s[so + c] = z[c] * p;
                }
            } else {
                for (int c = 0; c < cols; c++) {
                    float p = s[so + c];
                    ds[so + c] = p == 0f ? 0f : scale * (p * (ds[so + c] - dl));
                }
            }
            roundRun(ds, so, cols);
            roundRun(s, so, cols);
        }
    }

    private void dqBlock(int bh, int qb, float[] dOut, int dOff, float[] delta, float[] dq) {
        int b = bh / heads;
        int h = bh % heads;
        int i0 = qb * BLOCK_Q;
        int rows = Math.min(BLOCK_Q, tq - i0);
        float[] qf = SCRATCH.get(S_Q, rows * d);
        float[] kf = SCRATCH.get(S_K, BLOCK_K * d);
        float[] vf = SCRATCH.get(S_V, BLOCK_K * dv);
        float[] s = SCRATCH.get(S_SC, rows * BLOCK_K);
        float[] ds = SCRATCH.get(S_X, rows * BLOCK_K);
        float[] z = SCRATCH.get(S_Z, BLOCK_K);
        widen(q, ((long) bh * tq + i0) * d, qf, rows * d);
        int go = dOff + (bh * tq + i0) * dv;
        int jEnd = keyEnd(i0, rows);
        for (int j0 = 0; j0 < jEnd; j0 += BLOCK_K) {
            int cols = Math.min(BLOCK_K, jEnd - j0);
            widen(k, ((long) bh * tk + j0) * d, kf, cols * d);
            widen(v, ((long) bh * tk + j0) * dv, vf, cols * dv);
            weightsAndScoreGrads(b, h, i0, rows, j0, cols, qf, kf, vf, dOut, go, delta, s, ds, z);
            // dQ_blk += dS K_blk
            Gemm.sgemm(false, false, rows, d, cols, ds, 0, cols, kf, 0, d, 1f, dq, (bh * tq + i0) * d, d);
        }
    }

    private void dkvBlock(int bh, int kb, float[] dOut, int dOff, float[] delta, float[] dk, float[] dvOut) {
        int b = bh / heads;
        int h = bh % heads;
        int j0 = kb * BLOCK_K;
        int cols = Math.min(BLOCK_K, tk - j0);
        float[] kf = SCRATCH.get(S_K, cols * d);
        float[] vf = SCRATCH.get(S_V, cols * dv);
        float[] qf = SCRATCH.get(S_Q, BLOCK_Q * d);
        float[] s = SCRATCH.get(S_SC, BLOCK_Q * cols);
        float[] ds = SCRATCH.get(S_X, BLOCK_Q * cols);
        float[] z = SCRATCH.get(S_Z, cols);
        widen(k, ((long) bh * tk + j0) * d, kf, cols * d);
        widen(v, ((long) bh * tk + j0) * dv, vf, cols * dv);
        int iStart = causal ? Math.min(j0, tq) : 0;
        for (int i0 = iStart; i0 < tq; i0 += BLOCK_Q) {
            int rows = Math.min(BLOCK_Q, tq - i0);
            int go = dOff + (bh * tq + i0) * dv;
            widen(q, ((long) bh * tq + i0) * d, qf, rows * d);
            weightsAndScoreGrads(b, h, i0, rows, j0, cols, qf, kf, vf, dOut, go, delta, s, ds, z);
            // dV_blk += P^T dO_blk,  dK_blk += dS^T Q_blk
            Gemm.sgemm(true, false, cols, dv, rows, s, 0, cols, dOut, go, dv, 1f, dvOut, (bh * tk + j0) * dv, dv);
            Gemm.sgemm(true, false, cols, d, rows, ds, 0, cols, qf, 0, d, 1f, dk, (bh * tk + j0) * d, d);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Copies {@code n} elements of contiguous {@code t} from element {@code from} into FP32 {@code dst}. */
    private static void widen(Tensor t, long from, float[] dst, int n) {
        int o = t.offset + (int) from;
        if (t.dtype == DType.FP32) {
            System.arraycopy(t.floats, o, dst, 0, n);
        } else {
            Conversions.widen(t.dtype, t.shorts, o, dst, 0, n);
        }
    }

    private float widen(short bits) {
        return Conversions.widen(dt, bits);
    }

    /** Rounds {@code a[off, off + n)} to the dtype in place (nothing for FP32). */
    private void roundRun(float[] a, int off, int n) {
        if (dt == DType.FP16) {
            Convert.roundToHalf(a, off, n);
        } else if (dt == DType.BF16) {
            for (int c = 0; c < n; c++) {
                a[off + c] = Conversions.round(dt, a[off + c]);
            }
        }
    }

    private short narrow(float v) {
        return Conversions.narrow(dt, v);
    }

    private static Tensor f32(float[] data, int... shape) {
        return new Tensor(DType.FP32, data, null, 0, shape, Strided.contiguousStrides(shape));
    }
}
