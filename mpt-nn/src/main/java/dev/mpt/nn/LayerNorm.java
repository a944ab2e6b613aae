package dev.mpt.nn;

import dev.mpt.core.LayerNormOp;
import dev.mpt.core.Tensor;
import java.util.Arrays;

/**
 * Layer normalization (Ba et al. 2016) over the last {@code normalizedShape.length} dimensions:
 * {@code y = (x - mean) / sqrt(var + eps) * gamma + beta}, with the biased variance.
 *
 * <p>Precision: the input (FP32, FP16 or BF16) is widened to FP32, the mean and variance are
 * accumulated in double and rounded to FP32, normalization and the affine map run in FP32 with
 * the FP32 parameters {@code gamma} (ones) and {@code beta} (zeros), and the result is rounded
 * once to the input's dtype, all in one fused op ({@link LayerNormOp}: one node, one output tensor,
 * the backward in closed form). This is the documented exception to the equal-dtypes rule: the
 * parameters are registered with {@code fp32Parameter} and stay FP32 under {@code to(FP16)}.
 */
public final class LayerNorm extends Module {

    /** PyTorch's default epsilon. */
    public static final double DEFAULT_EPS = 1e-5;

    private final int[] normalizedShape;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    /** Normalizes over the last dimension, of size {@code features}, with affine parameters and eps 1e-5. */
    public LayerNorm(int features) {
        this(new int[] {features}, DEFAULT_EPS, true);
    }

    /** Normalizes over the trailing dimensions {@code normalizedShape}. */
    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
        if (normalizedShape == null || normalizedShape.length == 0) {
            throw new IllegalArgumentException("LayerNorm: normalizedShape must have at least one dimension, got "
                    + Arrays.toString(normalizedShape));
        }
        for (int d : normalizedShape) {
            LayerChecks.positive("LayerNorm", "normalizedShape dimension", d);
        }
        if (!(eps > 0 && Double.isFinite(eps))) {
            throw new IllegalArgumentException("LayerNorm: eps must be finite and > 0, got " + eps);
        }
        this.normalizedShape = normalizedShape.clone();
        this.eps = (float) eps;
        this.weight = elementwiseAffine ? fp32Parameter("weight", Tensor.ones(normalizedShape)) : null;
        this.bias = elementwiseAffine ? fp32Parameter("bias", Tensor.zeros(normalizedShape)) : null;
    }

    /** The scale {@code gamma} (FP32), or null without affine parameters. */
    public Parameter weight() {
        return weight;
    }

    /** The shift {@code beta} (FP32), or null without affine parameters. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("LayerNorm", x);
        int k = normalizedShape.length;
        int r = x.dim();
        int[] s = x.shape();
        if (r < k || !Arrays.equals(Arrays.copyOfRange(s, r - k, r), normalizedShape)) {
            throw new IllegalArgumentException("LayerNorm: input shape " + Arrays.toString(s) + " must end with "
                    + Arrays.toString(normalizedShape));
        }
        int n = 1;
        for (int d : normalizedShape) {
            n *= d;
        }
        // one fused op, bit for bit the chain mean, variance, sub, add, sqrt, div, mul, add, to(dtype)
        return LayerNormOp.forward(x, n, weight == null ? null : weight.value(), bias == null ? null : bias.value(), eps);
    }

    @Override
    public String toString() {
        return "LayerNorm(" + Arrays.toString(normalizedShape) + ", eps=" + eps + ", affine=" + (weight != null) + ")";
    }
}
