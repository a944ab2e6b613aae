package dev.mpt.core;

import java.util.Arrays;
import java.util.Objects;

/**
 * Scaled dot-product attention as one fused, differentiable op:
 * <pre>
 * out = softmax(scale * Q K^T + mask) V        per (batch, head), scale = 1 / sqrt(D) by default
 * </pre>
 * computed blockwise with an online softmax, so memory grows linearly with the sequence length; the
 * backward recomputes the blocks instead of storing the {@code Tq x Tk} matrix. See
 * {@link AttentionBlocks} for the loop nest.
 *
 * <p>Masks: {@code causal} hides key {@code j > i} from query {@code i} (top-left aligned, as
 * PyTorch's {@code is_causal}); {@code keyPadding [B, Tk]} holds 1 for a padding key that no query
 * sees and 0 for a real one (PyTorch's {@code key_padding_mask} with True = ignore). A query row that
 * sees no key at all gets output 0 and gradient 0 (PyTorch gives NaN there). Dropout on the attention
 * weights is inverted dropout drawn from a counter-based hash of {@code seed} and the weight's index
 * {@code (b, h, i, j)}, so the backward recomputes the same mask and the same seed gives the same
 * result whatever the thread count.
 *
 * <p>Precision (Micikevicius et al. 2018: FP16 products, FP32 accumulation, FP32 softmax): Q, K, V
 * are read in their dtype (FP32, FP16 or BF16) and widened exactly; {@code Q K^T} and {@code P V}
 * accumulate in FP32; the scores, the running max {@code m} and running sum {@code l}, and the
 * exponentials are FP32 (the weights' {@code exp(s - m)} by {@link dev.mpt.core.kernel.FloatMath#exp},
 * relative error below 3.25 u, vectorized; the rare rescale factor and {@code log l} evaluated in
 * double and rounded to FP32). The unnormalized weights
 * {@code p = exp(s - m)} are rounded to the dtype before the {@code P V} product (as an FP16 kernel
 * feeds them to its FP16 matrix unit), while {@code l} sums the unrounded FP32 {@code p}; the output
 * {@code acc / l} is rounded once to the dtype. Backward: {@code dS} is rounded to the dtype (an
 * activation gradient), {@code P} is rounded before {@code dV = P^T dO}; the gradients are FP32 sums.
 * Results do not depend on the number of threads.
 *
 * <p>NaN and infinities propagate as IEEE arithmetic says; they are not refused.
 */
public final class Attention {

    private Attention() {
    }

    /** As {@link #forward(Tensor, Tensor, Tensor, Tensor, boolean, double, long)} without dropout. */
    public static Tensor forward(Tensor q, Tensor k, Tensor v, Tensor keyPadding, boolean causal) {
        return forward(q, k, v, keyPadding, causal, 0, 0);
    }

    /**
     * Attention of {@code q [B, H, Tq, D]} over {@code k [B, H, Tk, D]} and {@code v [B, H, Tk, Dv]},
     * scale {@code 1 / sqrt(D)}.
     *
     * @param q          queries, FP32, FP16 or BF16, all sizes at least 1
     * @param k          keys, q's dtype
     * @param v          values, q's dtype
     * @param keyPadding null, or {@code [B, Tk]} of 0 (attend) and 1 (ignore), any dtype, no gradient
     * @param causal     whether query {@code i} sees only keys {@code j <= i}
     * @param dropout    probability of dropping an attention weight, in {@code [0, 1)}
     * @param seed       the dropout mask's seed (unused when dropout is 0)
     * @return {@code [B, H, Tq, Dv]} in q's dtype
     * @throws NullPointerException if q, k or v is null
     * @throws IllegalArgumentException on a wrong rank, size, dtype, mask value or probability, naming
     *         the argument
     */
    public static Tensor forward(Tensor q, Tensor k, Tensor v, Tensor keyPadding, boolean causal, double dropout,
                                 long seed) {
        check(q, k, v, keyPadding, dropout);
        boolean[] padded = keyPadding == null ? null : padding(keyPadding);
        Tensor qc = q.contiguous();
        Tensor kc = k.contiguous();
        Tensor vc = v.contiguous();
        float scale = (float) (1.0 / Math.sqrt(q.shape[3]));
        AttentionBlocks blocks = new AttentionBlocks(qc, kc, vc, padded, causal, scale, dropout, seed);
        blocks.forward();
        return Autograd.record(blocks.output(), "attention", g -> {
            Tensor gc = g.contiguous();
            AttentionBlocks.Grads r = blocks.backward(gc.floats, gc.offset, Autograd.needs(qc), Autograd.needs(kc),
                    Autograd.needs(vc));
            return new Tensor[] {r.q(), r.k(), r.v()};
        }, qc, kc, vc);
    }

    private static boolean[] padding(Tensor mask) {
        float[] m = mask.readFloats();
        boolean[] p = new boolean[m.length];
        for (int i = 0; i < m.length; i++) {
            if (m[i] != 0f && m[i] != 1f) {
                throw new IllegalArgumentException("attention: 'keyPadding' must hold 0 (attend) or 1 (ignore), got "
                        + m[i] + " at flat index " + i);
            }
            p[i] = m[i] == 1f;
        }
        return p;
    }

    private static void check(Tensor q, Tensor k, Tensor v, Tensor keyPadding, double dropout) {
        Objects.requireNonNull(q, "attention: 'q' is null");
        Objects.requireNonNull(k, "attention: 'k' is null");
        Objects.requireNonNull(v, "attention: 'v' is null");
        rank4("q", q);
        rank4("k", k);
        rank4("v", v);
        int b = q.shape[0];
        int h = q.shape[1];
        int d = q.shape[3];
        int tk = k.shape[2];
        if (k.shape[0] != b || k.shape[1] != h || k.shape[3] != d) {
            throw new IllegalArgumentException("attention: 'k' must be [B, H, Tk, D] = [" + b + ", " + h + ", Tk, " + d
                    + "] to match 'q' " + Arrays.toString(q.shape) + ", got " + Arrays.toString(k.shape));
        }
        if (v.shape[0] != b || v.shape[1] != h || v.shape[2] != tk) {
            throw new IllegalArgumentException("attention: 'v' must be [B, H, Tk, Dv] = [" + b + ", " + h + ", " + tk
                    + ", Dv] to match 'q' and 'k', got " + Arrays.toString(v.shape));
        }
        if (k.dtype != q.dtype || v.dtype != q.dtype) {
            throw new IllegalArgumentException("attention: 'q', 'k' and 'v' must share a dtype, got " + q.dtype + ", "
                    + k.dtype + ", " + v.dtype);
        }
        if (keyPadding != null && !Arrays.equals(keyPadding.shape, new int[] {b, tk})) {
            throw new IllegalArgumentException("attention: 'keyPadding' must have shape [" + b + ", " + tk + "], got "
                    + Arrays.toString(keyPadding.shape));
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("attention: 'dropout' must be in [0, 1), got " + dropout);
        }
        long big = Math.max((long) b * h * q.shape[2] * Math.max(d, v.shape[3]),
                (long) b * h * tk * Math.max(d, v.shape[3]));
        if (big > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention: " + big + " elements exceed the largest array");
        }
    }

    private static void rank4(String name, Tensor a) {
        if (a.shape.length != 4 || a.numel == 0) {
            throw new IllegalArgumentException("attention: '" + name + "' must be [B, H, T, D] with all sizes >= 1, got "
                    + Arrays.toString(a.shape));
        }
    }
}
