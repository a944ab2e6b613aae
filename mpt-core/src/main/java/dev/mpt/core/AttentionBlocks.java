package dev.mpt.core;

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
 *     for query row i, key j in the block
 *       s   = scale * (q_i . k_j)               FP32 dot of widened rows (-inf where masked)
 *       m'  = max(m, max_j s);  alpha = exp(m - m')
 *       p   = exp(s - m')                       FP32;  l = alpha l + sum_j p   (unrounded p)
 *       acc = alpha acc + sum_j round(z_ij p) v_j   z: dropout keep factor, round: to the dtype
 *   o_i = round(acc / l);  lse_i = m + log(l)   kept for the backward ([B, H, Tq] floats)
 * </pre>
 * Memory besides the inputs and the output is {@code O(B H Tq)} plus per-thread blocks: the
 * {@code Tq x Tk} matrix is never formed. The backward recomputes the blocks from {@code lse}: one
 * pass per (batch, head, query block) writes {@code dQ}, a second per (batch, head, key block) writes
 * {@code dK} and {@code dV}, so again each gradient element has one writer and one order.
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

    private static final ThreadScratch SCRATCH = new ThreadScratch(8);
    private static final int S_Q = 0;
    private static final int S_K = 1;
    private static final int S_V = 2;
    private static final int S_ACC = 3;
    private static final int S_SC = 4;
    private static final int S_ROW = 5;
    private static final int S_DO = 6;
    private static final int S_X = 7;

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
        long z = seed + (idx + 1) * 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z ^= z >>> 31;
        double u = (z >>> 11) * 0x1p-53;
        return u >= dropout ? keepScale : 0f;
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
        int b = bh / heads;
        int h = bh % heads;
        int i0 = qb * BLOCK_Q;
        int rows = Math.min(BLOCK_Q, tq - i0);
        float[] qf = SCRATCH.get(S_Q, rows * d);
        float[] kf = SCRATCH.get(S_K, BLOCK_K * d);
        float[] vf = SCRATCH.get(S_V, BLOCK_K * dv);
        float[] acc = SCRATCH.get(S_ACC, rows * dv);
        float[] s = SCRATCH.get(S_SC, BLOCK_K);
        float[] ml = SCRATCH.get(S_ROW, 2 * rows);
        java.util.Arrays.fill(acc, 0, rows * dv, 0f);
        for (int r = 0; r < rows; r++) {
            ml[r] = Float.NEGATIVE_INFINITY;
            ml[rows + r] = 0f;
        }
        widen(q, ((long) bh * tq + i0) * d, qf, rows * d);
        int jEnd = keyEnd(i0, rows);
        for (int j0 = 0; j0 < jEnd; j0 += BLOCK_K) {
            int cols = Math.min(BLOCK_K, jEnd - j0);
            widen(k, ((long) bh * tk + j0) * d, kf, cols * d);
            widen(v, ((long) bh * tk + j0) * dv, vf, cols * dv);
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                float rowMax = scores(b, i, j0, cols, qf, r * d, kf, s);
                if (rowMax == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                float m = ml[r];
                float mNew = Math.max(m, rowMax);
                int a = r * dv;
                if (mNew != m) {
                    float alpha = (float) Math.exp(m - mNew);
                    ml[rows + r] *= alpha;
                    for (int e = 0; e < dv; e++) {
                        acc[a + e] *= alpha;
                    }
                }
                float l = ml[rows + r];
                for (int c = 0; c < cols; c++) {
                    if (s[c] == Float.NEGATIVE_INFINITY) {
                        continue;
                    }
                    float p = (float) Math.exp(s[c] - mNew);
                    l += p;
                    float pr = round(p * keep(b, h, i, j0 + c));
                    if (pr != 0f) {
                        int vo = c * dv;
                        for (int e = 0; e < dv; e++) {
                            acc[a + e] += pr * vf[vo + e];
                        }
                    }
                }
                ml[r] = mNew;
                ml[rows + r] = l;
            }
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
     * {@code s[c] = scale * (q_i . k_{j0+c})} for the block's keys, -inf where masked; the dot in
     * FP32 in index order. Returns the largest score (-inf when every key is masked).
     */
    private float scores(int b, int i, int j0, int cols, float[] qf, int qo, float[] kf, float[] s) {
        rowDots(qf, qo, kf, cols, d, s);
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            if (!visible(b, i, j0 + c)) {
                s[c] = Float.NEGATIVE_INFINITY;
            } else {
                s[c] *= scale;
                max = Math.max(max, s[c]);
            }
        }
        return max;
    }

    /**
     * {@code out[c] = x[xo..xo+n) . m[c*n..(c+1)*n)} for {@code c < rows}, each an FP32 sum in index
     * order; four rows at a time as four independent chains (the same sums as {@link #dot}).
     */
    private static void rowDots(float[] x, int xo, float[] m, int rows, int n, float[] out) {
        int c = 0;
        for (; c + 4 <= rows; c += 4) {
            int m0 = c * n;
            int m1 = m0 + n;
            int m2 = m1 + n;
            int m3 = m2 + n;
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            for (int e = 0; e < n; e++) {
                float v = x[xo + e];
                s0 += v * m[m0 + e];
                s1 += v * m[m1 + e];
                s2 += v * m[m2 + e];
                s3 += v * m[m3 + e];
            }
            out[c] = s0;
            out[c + 1] = s1;
            out[c + 2] = s2;
            out[c + 3] = s3;
        }
        for (; c < rows; c++) {
            out[c] = dot(x, xo, m, c * n, n);
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

    /** {@code dS_ij} of one (query row, key) pair as the backward rounds it; see {@link #backward}. */
    private float dScore(float sc, float lseI, float z, float dpDot, float deltaI) {
        float p = (float) Math.exp(sc - lseI);
        return round(scale * (p * (z * dpDot - deltaI)));
    }

    private void dqBlock(int bh, int qb, float[] dOut, int dOff, float[] delta, float[] dq) {
        int b = bh / heads;
        int h = bh % heads;
        int i0 = qb * BLOCK_Q;
        int rows = Math.min(BLOCK_Q, tq - i0);
        float[] qf = SCRATCH.get(S_Q, rows * d);
        float[] kf = SCRATCH.get(S_K, BLOCK_K * d);
        float[] vf = SCRATCH.get(S_V, BLOCK_K * dv);
        float[] s = SCRATCH.get(S_SC, BLOCK_K);
        float[] dps = SCRATCH.get(S_X, BLOCK_K);
        widen(q, ((long) bh * tq + i0) * d, qf, rows * d);
        int jEnd = keyEnd(i0, rows);
        for (int j0 = 0; j0 < jEnd; j0 += BLOCK_K) {
            int cols = Math.min(BLOCK_K, jEnd - j0);
            widen(k, ((long) bh * tk + j0) * d, kf, cols * d);
            widen(v, ((long) bh * tk + j0) * dv, vf, cols * dv);
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                int row = bh * tq + i;
                float lseI = lse[row];
                if (lseI == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                scores(b, i, j0, cols, qf, r * d, kf, s);
                rowDots(dOut, dOff + row * dv, vf, cols, dv, dps);
                int qo = row * d;
                for (int c = 0; c < cols; c++) {
                    if (s[c] == Float.NEGATIVE_INFINITY) {
                        continue;
                    }
                    float ds = dScore(s[c], lseI, keep(b, h, i, j0 + c), dps[c], delta[row]);
                    if (ds != 0f) {
                        int ko = c * d;
                        for (int e = 0; e < d; e++) {
                            dq[qo + e] += ds * kf[ko + e];
                        }
                    }
                }
            }
        }
    }

    private void dkvBlock(int bh, int kb, float[] dOut, int dOff, float[] delta, float[] dk, float[] dvOut) {
        int b = bh / heads;
        int h = bh % heads;
        int j0 = kb * BLOCK_K;
        int cols = Math.min(BLOCK_K, tk - j0);
        float[] kf = SCRATCH.get(S_K, cols * d);
        float[] vf = SCRATCH.get(S_V, cols * dv);
        float[] qf = SCRATCH.get(S_Q, d);
        float[] s = SCRATCH.get(S_SC, BLOCK_K);
        float[] dof = SCRATCH.get(S_DO, dv);
        float[] dps = SCRATCH.get(S_X, BLOCK_K);
        widen(k, ((long) bh * tk + j0) * d, kf, cols * d);
        widen(v, ((long) bh * tk + j0) * dv, vf, cols * dv);
        int iStart = causal ? Math.min(j0, tq) : 0;
        for (int i = iStart; i < tq; i++) {
            int row = bh * tq + i;
            float lseI = lse[row];
            if (lseI == Float.NEGATIVE_INFINITY) {
                continue;
            }
            widen(q, (long) row * d, qf, d);
            scores(b, i, j0, cols, qf, 0, kf, s);
            int go = dOff + row * dv;
            System.arraycopy(dOut, go, dof, 0, dv);
            rowDots(dof, 0, vf, cols, dv, dps);
            for (int c = 0; c < cols; c++) {
                if (s[c] == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                int j = j0 + c;
                float z = keep(b, h, i, j);
                float p = (float) Math.exp(s[c] - lseI);
                float pr = round(z * p);
                int vo = (bh * tk + j) * dv;
                if (pr != 0f) {
                    for (int e = 0; e < dv; e++) {
                        dvOut[vo + e] += pr * dof[e];
                    }
                }
                float ds = dScore(s[c], lseI, z, dps[c], delta[row]);
                if (ds != 0f) {
                    int ko = (bh * tk + j) * d;
                    for (int e = 0; e < d; e++) {
                        dk[ko + e] += ds * qf[e];
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** {@code a[ao..ao+n) . b[bo..bo+n)} in FP32, in index order. */
    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float sum = 0f;
        for (int e = 0; e < n; e++) {
            sum += a[ao + e] * b[bo + e];
        }
        return sum;
    }

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

    private float round(float v) {
        return Conversions.round(dt, v);
    }

    private short narrow(float v) {
        return Conversions.narrow(dt, v);
    }

    private static Tensor f32(float[] data, int... shape) {
        return new Tensor(DType.FP32, data, null, 0, shape, Strided.contiguousStrides(shape));
    }
}
