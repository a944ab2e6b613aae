package dev.mpt.nn;

import dev.mpt.core.Attention;
import dev.mpt.core.Tensor;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Multi-head self-attention over {@code x [B, T, C]} with a fused QKV projection, in nanoGPT's
 * layout ({@code CausalSelfAttention}; GPT-2's names):
 * <pre>
 * [q k v] = x W_attn^T + b_attn           c_attn: Linear(C, 3C), q, k, v each C columns in that order
 * q, k, v -> [B, H, T, C/H]               head h holds columns h*C/H .. (h+1)*C/H of each
 * y = Attention(q, k, v) -> [B, T, C]     scale 1/sqrt(C/H), causal or not, optional key padding
 * out = dropout(y W_proj^T + b_proj)      c_proj: Linear(C, C), residual dropout
 * </pre>
 * Parameter names and shapes are those of nanoGPT's module ({@code c_attn.weight [3C, C]},
 * {@code c_attn.bias [3C]}, {@code c_proj.weight [C, C]}, {@code c_proj.bias [C]}), so a safetensors
 * file moves between the two under the same names. PyTorch's {@code nn.MultiheadAttention} stores
 * the same numbers as {@code in_proj_weight}, {@code in_proj_bias}, {@code out_proj.weight},
 * {@code out_proj.bias}.
 *
 * <p>Precision: the projections are {@link Linear}s (the weights' dtype, FP32 accumulation); the
 * attention is {@link Attention} (products in the dtype with FP32 accumulation, FP32 softmax).
 * Dropout on the attention weights draws a fresh seed from the layer's generator at each training
 * forward; it is off in evaluation mode. Initialization: {@link Linear}'s.
 */
public final class MultiheadAttention extends Module {

    private final int embedDim;
    private final int heads;
    private final boolean causal;
    private final double dropout;
    private final RandomGenerator rng;
    private final Linear cAttn;
    private final Linear cProj;
    private final Dropout residDropout;

    /**
     * A layer of width {@code embedDim} split into {@code heads} heads.
     *
     * @param embedDim width C, a multiple of heads
     * @param heads    number of heads H
     * @param causal   whether position i attends only to positions {@code <= i}
     * @param dropout  drop probability of the attention weights and of the output, in {@code [0, 1)}
     * @param rng      initialization and dropout
     */
    public MultiheadAttention(int embedDim, int heads, boolean causal, double dropout, RandomGenerator rng) {
        this.embedDim = LayerChecks.positive("MultiheadAttention", "embedDim", embedDim);
        this.heads = LayerChecks.positive("MultiheadAttention", "heads", heads);
        if (embedDim % heads != 0) {
            throw new IllegalArgumentException("MultiheadAttention: embedDim " + embedDim + " must be a multiple of heads "
                    + heads);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("MultiheadAttention: dropout must be in [0, 1), got " + dropout);
        }
        this.causal = causal;
        this.dropout = dropout;
        this.rng = LayerChecks.rng("MultiheadAttention", rng);
        this.cAttn = module("c_attn", new Linear(embedDim, 3 * embedDim, rng));
        this.cProj = module("c_proj", new Linear(embedDim, embedDim, rng));
        this.residDropout = module("resid_dropout", new Dropout(dropout, rng));
    }

    /** The fused QKV projection {@code c_attn}, {@code [3C, C]}. */
    public Linear qkv() {
        return cAttn;
    }

    /** The output projection {@code c_proj}, {@code [C, C]}. */
    public Linear proj() {
        return cProj;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /**
     * Self-attention over {@code x [B, T, C]}; {@code keyPadding [B, T]} (1 = padding, ignored as a
     * key) or null.
     */
    public Tensor forward(Tensor x, Tensor keyPadding) {
        LayerChecks.input("MultiheadAttention", x);
        if (x.dim() != 3 || x.size(2) != embedDim) {
            throw new IllegalArgumentException("MultiheadAttention: input must be [B, T, " + embedDim + "], got "
                    + Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        int hd = embedDim / heads;
        // [B, T, 3C] -> [B, T, 3, H, hd] -> [3, B, H, T, hd]
        Tensor qkv = cAttn.forward(x).reshape(b, t, 3, heads, hd).permute(2, 0, 3, 1, 4);
        boolean drop = isTraining() && dropout > 0;
        Tensor y = Attention.forward(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2), keyPadding, causal,
                drop ? dropout : 0, drop ? rng.nextLong() : 0);
        y = y.permute(0, 2, 1, 3).reshape(b, t, embedDim);
        return residDropout.forward(cProj.forward(y));
    }

    @Override
    public String toString() {
        return "MultiheadAttention(embedDim=" + embedDim + ", heads=" + heads + ", causal=" + causal + ", dropout="
                + dropout + ")";
    }
}
