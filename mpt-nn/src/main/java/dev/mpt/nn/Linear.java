package dev.mpt.nn;

import dev.mpt.core.Tensor;
import dev.mpt.nn.init.Init;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * A fully connected layer {@code y = x W^T + b}, with {@code W} of shape {@code [out, in]} and
 * {@code b} of shape {@code [out]}. The input has shape {@code [..., in]} and the dtype of the
 * weights; the product runs in GEMM with {@code W^T} passed as a transposed view (no copy), FP32
 * accumulation and one rounding to the weights' dtype, then {@code b} is added (one more rounding
 * in FP16) while the product is stored ({@link Tensor#linear}).
 *
 * <p>Default initialization (PyTorch's): {@code W ~ U(-1/sqrt(in), 1/sqrt(in))} (Kaiming uniform
 * with gain {@code sqrt(1/3)}) and {@code b ~ U(-1/sqrt(in), 1/sqrt(in))}.
 */
public final class Linear extends Module {

    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;

    /** A layer with bias, initialized from {@code new SplittableRandom(seed)}. */
    public Linear(int inFeatures, int outFeatures, long seed) {
        this(inFeatures, outFeatures, true, new SplittableRandom(seed));
    }

    /** A layer with bias, initialized from {@code rng}. */
    public Linear(int inFeatures, int outFeatures, RandomGenerator rng) {
        this(inFeatures, outFeatures, true, rng);
    }

    /** A layer with or without bias, initialized from {@code rng}. */
    public Linear(int inFeatures, int outFeatures, boolean bias, RandomGenerator rng) {
        this.inFeatures = LayerChecks.positive("Linear", "inFeatures", inFeatures);
        this.outFeatures = LayerChecks.positive("Linear", "outFeatures", outFeatures);
        LayerChecks.rng("Linear", rng);
        double bound = 1.0 / Math.sqrt(inFeatures);
        this.weight = parameter("weight", Init.kaimingUniform(rng, Math.sqrt(1.0 / 3.0), outFeatures, inFeatures));
        this.bias = bias ? parameter("bias", Init.uniform(rng, -bound, bound, outFeatures)) : null;
    }

    /** The weight slot, {@code [out, in]}. */
    public Parameter weight() {
        return weight;
    }

    /** The bias slot, {@code [out]}, or null when the layer has none. */
    public Parameter bias() {
        return bias;
    }

    /** Input features. */
    public int inFeatures() {
        return inFeatures;
    }

    /** Output features. */
    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("Linear", x);
        if (x.dim() < 2) {
            throw new IllegalArgumentException("Linear: input must have rank >= 2 ([batch, ..., " + inFeatures
                    + "]), got shape " + java.util.Arrays.toString(x.shape()));
        }
        LayerChecks.size("Linear", x, -1, inFeatures, "inFeatures");
        Tensor w = weight.value();
        LayerChecks.sameDtype("Linear", x, w.dtype());
        // with a bias, one op that adds it in the GEMM's store (bit for bit x.matmul(w.t()).add(b))
        return bias == null ? x.matmul(w.t()) : x.linear(w, bias.value());
    }

    @Override
    public String toString() {
        return "Linear(in=" + inFeatures + ", out=" + outFeatures + ", bias=" + (bias != null) + ")";
    }
}
