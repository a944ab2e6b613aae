package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.random.RandomGenerator;

/**
 * A pre-norm transformer block (GPT-2 / nanoGPT {@code Block}):
 * <pre>
 * x = x + attn(ln_1(x))                       {@link MultiheadAttention}, residual dropout inside
 * x = x + dropout(c_proj(gelu(c_fc(ln_2(x)))))  MLP of width 4C, GELU in the tanh approximation
 * </pre>
 * Parameter names follow nanoGPT: {@code ln_1}, {@code attn.c_attn}, {@code attn.c_proj},
 * {@code ln_2}, {@code mlp.c_fc}, {@code mlp.c_proj}. Precision: the norms compute in FP32 with FP32
 * parameters and round to the input's dtype; the products run in the weights' dtype with FP32
 * accumulation; the residual sums are in the activations' dtype.
 */
public final class TransformerBlock extends Module {

    private final int width;
    private final LayerNorm ln1;
    private final MultiheadAttention attn;
    private final LayerNorm ln2;
    private final Mlp mlp;

    /**
     * A block of width {@code width} with {@code heads} heads.
     *
     * @param dropout drop probability of attention weights and of both residual branches
     */
    public TransformerBlock(int width, int heads, boolean causal, double dropout, RandomGenerator rng) {
        this.width = LayerChecks.positive("TransformerBlock", "width", width);
        this.ln1 = module("ln_1", new LayerNorm(width));
        this.attn = module("attn", new MultiheadAttention(width, heads, causal, dropout, rng));
        this.ln2 = module("ln_2", new LayerNorm(width));
        this.mlp = module("mlp", new Mlp(width, dropout, rng));
    }

    /** The attention sub-layer. */
    public MultiheadAttention attention() {
        return attn;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /** The block over {@code x [B, T, C]} with optional {@code keyPadding [B, T]} (1 = padding). */
    public Tensor forward(Tensor x, Tensor keyPadding) {
        Tensor h = x.add(attn.forward(ln1.forward(x), keyPadding));
        return h.add(mlp.forward(ln2.forward(h)));
    }

    @Override
    public String toString() {
        return "TransformerBlock(width=" + width + ", " + attn + ")";
    }

    /** nanoGPT's MLP: {@code c_fc} (C to 4C), GELU, {@code c_proj} (4C to C), dropout. */
    private static final class Mlp extends Module {
        private final Linear cFc;
        private final Linear cProj;
        private final Dropout drop;

        Mlp(int width, double dropout, RandomGenerator rng) {
            this.cFc = module("c_fc", new Linear(width, 4 * width, rng));
            this.cProj = module("c_proj", new Linear(4 * width, width, rng));
            this.drop = module("dropout", new Dropout(dropout, rng));
        }

        @Override
        public Tensor forward(Tensor x) {
            return drop.forward(cProj.forward(cFc.forward(x).gelu()));
        }
    }
}
