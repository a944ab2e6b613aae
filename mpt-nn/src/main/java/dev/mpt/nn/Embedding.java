package dev.mpt.nn;

import dev.mpt.core.Tensor;
import dev.mpt.nn.init.Init;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * A lookup table of {@code numEmbeddings} vectors of size {@code dim}: ids of shape {@code S}
 * give vectors of shape {@code S + [dim]}, copied exactly from the table (in its dtype) by
 * {@link Tensor#indexSelect}; the gradient is scatter-added into the rows used.
 *
 * <p>Default initialization (PyTorch's): {@code N(0, 1)}.
 */
public final class Embedding extends Module {

    private final int numEmbeddings;
    private final int dim;
    private final Parameter weight;

    /** A table of {@code numEmbeddings x dim} entries drawn from {@code N(0, 1)}. */
    public Embedding(int numEmbeddings, int dim, RandomGenerator rng) {
        this.numEmbeddings = LayerChecks.positive("Embedding", "numEmbeddings", numEmbeddings);
        this.dim = LayerChecks.positive("Embedding", "dim", dim);
        this.weight = parameter("weight", Init.normal(LayerChecks.rng("Embedding", rng), 0, 1, numEmbeddings, dim));
    }

    /** The table slot {@code [numEmbeddings, dim]}. */
    public Parameter weight() {
        return weight;
    }

    /** Vector size. */
    public int dim() {
        return dim;
    }

    /**
     * The vectors of {@code ids} laid out with {@code shape} (product equal to {@code ids.length}):
     * a tensor of shape {@code shape + [dim]} in the table's dtype.
     */
    public Tensor lookup(int[] ids, int... shape) {
        Objects.requireNonNull(ids, "Embedding: ids");
        Objects.requireNonNull(shape, "Embedding: shape");
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        if (n != ids.length) {
            throw new IllegalArgumentException("Embedding: " + ids.length + " ids do not fill shape "
                    + Arrays.toString(shape));
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= numEmbeddings) {
                throw new IllegalArgumentException("Embedding: id " + ids[i] + " at position " + i + " is outside [0, "
                        + numEmbeddings + ")");
            }
        }
        int[] out = Arrays.copyOf(shape, shape.length + 1);
        out[shape.length] = dim;
        return weight.value().indexSelect(0, ids).reshape(out);
    }

    /**
     * As {@link #lookup}, with the ids given as a tensor of whole numbers (any dtype; FP32 holds ids
     * exactly up to 2^24).
     */
    @Override
    public Tensor forward(Tensor ids) {
        LayerChecks.input("Embedding", ids);
        float[] v = ids.toFloatArray();
        int[] idx = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] != Math.rint(v[i])) {
                throw new IllegalArgumentException("Embedding: id " + v[i] + " at position " + i + " is not a whole number");
            }
            idx[i] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v[i]));
        }
        return lookup(idx, ids.shape());
    }

    @Override
    public String toString() {
        return "Embedding(" + numEmbeddings + ", " + dim + ")";
    }
}
