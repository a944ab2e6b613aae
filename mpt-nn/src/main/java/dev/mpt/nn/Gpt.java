package dev.mpt.nn;

import dev.mpt.core.Tensor;
import dev.mpt.nn.init.Init;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A decoder-only transformer language model in GPT-2's shape, with nanoGPT's parameter names:
 * <pre>
 * x      = dropout(wte[ids] + wpe[0..T-1])     learned token and position embeddings, [B, T, C]
 * x      = h.0(x) ... h.{L-1}(x)                causal pre-norm {@link TransformerBlock}s
 * logits = ln_f(x) wte^T                       read-out tied to the token embedding, [B, T, V]
 * </pre>
 * Names: {@code wte.weight [V, C]}, {@code wpe.weight [context, C]}, {@code h.i.ln_1.weight}, ...,
 * {@code ln_f.weight}, {@code ln_f.bias}; nanoGPT prefixes all but its {@code lm_head.weight} with
 * {@code transformer.}, and its {@code lm_head.weight} is the same tensor as {@code wte.weight}
 * (here the read-out reuses the {@code wte} parameter, so its gradient is the sum of both uses).
 *
 * <p>Initialization (nanoGPT's): every Linear weight and both embeddings {@code N(0, 0.02)}, the
 * residual projections ({@code attn.c_proj}, {@code mlp.c_proj}) {@code N(0, 0.02 / sqrt(2 L))},
 * biases 0, norms {@code (1, 0)}.
 */
public final class Gpt extends Module {

    /** Standard deviation of nanoGPT's (and GPT-2's) initialization. */
    public static final double INIT_STD = 0.02;

    private final int vocab;
    private final int context;
    private final int width;
    private final int heads;
    private final Embedding wte;
    private final Embedding wpe;
    private final Dropout drop;
    private final TransformerBlock[] blocks;
    private final LayerNorm lnF;

    /**
     * A model of {@code layers} blocks of width {@code width} with {@code heads} heads.
     *
     * @param vocab   vocabulary size V
     * @param context longest sequence T (rows of the position table)
     * @param dropout drop probability of embeddings, attention weights and residual branches
     */
    public Gpt(int vocab, int context, int width, int layers, int heads, double dropout, RandomGenerator rng) {
        this.vocab = LayerChecks.positive("Gpt", "vocab", vocab);
        this.context = LayerChecks.positive("Gpt", "context", context);
        this.width = LayerChecks.positive("Gpt", "width", width);
        LayerChecks.positive("Gpt", "layers", layers);
        this.heads = heads;
        LayerChecks.rng("Gpt", rng);
        this.wte = module("wte", new Embedding(vocab, width, rng));
        this.wpe = module("wpe", new Embedding(context, width, rng));
        this.drop = module("drop", new Dropout(dropout, rng));
        this.blocks = new TransformerBlock[layers];
        Module h = module("h", new Blocks());
        for (int i = 0; i < layers; i++) {
            blocks[i] = ((Blocks) h).add(i, new TransformerBlock(width, heads, true, dropout, rng));
        }
        this.lnF = module("ln_f", new LayerNorm(width));
        double projStd = INIT_STD / Math.sqrt(2.0 * layers);
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            String name = e.getKey();
            Parameter p = e.getValue();
            if (name.startsWith("ln") || name.contains(".ln_") || p.keepsFp32()) {
                continue;
            }
            if (name.endsWith(".bias")) {
                p.set(Init.zeros(p.shape()));
            } else {
                double std = name.endsWith("c_proj.weight") ? projStd : INIT_STD;
                p.set(Init.normal(rng, 0, std, p.shape()));
            }
        }
    }

    /** The token table {@code wte [V, C]}, also the read-out weight. */
    public Embedding tokenEmbedding() {
        return wte;
    }

    /** Longest sequence the position table covers. */
    public int context() {
        return context;
    }

    /** Vocabulary size. */
    public int vocab() {
        return vocab;
    }

    /** Width C of the embeddings and blocks. */
    public int width() {
        return width;
    }

    /** Number of transformer blocks L. */
    public int layers() {
        return blocks.length;
    }

    /** Number of attention heads H of each block. */
    public int heads() {
        return heads;
    }

    /** Logits {@code [B, T, V]} for token ids {@code [B, T]} (whole numbers in {@code [0, V)}). */
    @Override
    public Tensor forward(Tensor ids) {
        LayerChecks.input("Gpt", ids);
        if (ids.dim() != 2) {
            throw new IllegalArgumentException("Gpt: ids must be [B, T], got " + Arrays.toString(ids.shape()));
        }
        if (ids.size(1) > context) {
            throw new IllegalArgumentException("Gpt: sequence length " + ids.size(1) + " exceeds the context " + context);
        }
        int b = ids.size(0);
        int t = ids.size(1);
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) {
            pos[i] = i;
        }
        Tensor x = drop.forward(wte.forward(ids).add(wpe.lookup(pos, 1, t)));
        for (TransformerBlock blk : blocks) {
            x = blk.forward(x);
        }
        Tensor w = wte.weight().value();
        return lnF.forward(x).reshape(b * t, width).matmul(w.t()).reshape(b, t, vocab);
    }

    /**
     * The parameters split by the weight-decay rule of AdamW training: a parameter decays when it is
     * the weight matrix of a {@link Linear} (rank 2, not an embedding table); biases, norm parameters
     * and the embeddings (token, position, and so the tied read-out) do not. Key {@code true}: those
     * that decay.
     */
    public Map<Boolean, Map<String, Parameter>> decayGroups() {
        Map<String, Parameter> decay = new LinkedHashMap<>();
        Map<String, Parameter> noDecay = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            boolean embedding = e.getKey().startsWith("wte.") || e.getKey().startsWith("wpe.");
            boolean matrix = e.getValue().shape().length == 2;
            (matrix && !embedding ? decay : noDecay).put(e.getKey(), e.getValue());
        }
        return Map.of(true, decay, false, noDecay);
    }

    @Override
    public String toString() {
        return "Gpt(vocab=" + vocab + ", context=" + context + ", width=" + width + ", layers=" + blocks.length
                + ", " + (blocks.length > 0 ? blocks[0].attention() : "") + ")";
    }

    /** The list of blocks, named {@code "0"}, {@code "1"}, ... as nanoGPT's {@code h}. */
    private static final class Blocks extends Module {
        TransformerBlock add(int i, TransformerBlock b) {
            return module(Integer.toString(i), b);
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("Gpt: the blocks run from Gpt.forward");
        }
    }
}
