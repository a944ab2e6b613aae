package dev.mpt.nn;

import dev.mpt.core.Conv2dSpec;
import dev.mpt.core.Tensor;
import dev.mpt.nn.init.Init;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * 2-D transposed convolution over NCHW inputs with a {@code kh x kw} kernel: weight
 * {@code [in, out / groups, kh, kw]}, optional bias {@code [out]}; output size per spatial dim
 * {@code (in - 1) stride - 2 pad + dilation (k - 1) + outputPadding + 1}. Runs
 * {@link Tensor#convTranspose2d} with FP32 accumulation.
 *
 * <p>Default initialization (PyTorch's): weight and bias {@code U(-1/sqrt(f), 1/sqrt(f))} with
 * {@code f = out/groups * kh * kw} (the weight's dimension 1 times the kernel area).
 */
public final class ConvTranspose2d extends Module {

    private final int inChannels;
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private final Conv2dSpec spec;
    private final int outputPadding;
    private final Parameter weight;
    private final Parameter bias;

    /** A transposed convolution with bias, square {@code stride}, {@code padding}, no output padding. */
    public ConvTranspose2d(int inChannels, int outChannels, int kernel, int stride, int padding, RandomGenerator rng) {
        this(inChannels, outChannels, kernel, Conv2dSpec.of(stride, padding), 0, true, rng);
    }

    /**
     * A transposed convolution with a square kernel and the given geometry; {@code outputPadding} in
     * {@code [0, stride)}.
     */
    public ConvTranspose2d(int inChannels, int outChannels, int kernel, Conv2dSpec spec, int outputPadding,
                           boolean bias, RandomGenerator rng) {
        this(inChannels, outChannels, kernel, kernel, spec, outputPadding, bias, rng);
    }

    /** A transposed convolution with a {@code kernelH x kernelW} kernel; otherwise as the square one. */
    public ConvTranspose2d(int inChannels, int outChannels, int kernelH, int kernelW, Conv2dSpec spec,
                           int outputPadding, boolean bias, RandomGenerator rng) {
        this.inChannels = LayerChecks.positive("ConvTranspose2d", "inChannels", inChannels);
        this.outChannels = LayerChecks.positive("ConvTranspose2d", "outChannels", outChannels);
        this.kernelH = LayerChecks.positive("ConvTranspose2d", "kernelH", kernelH);
        this.kernelW = LayerChecks.positive("ConvTranspose2d", "kernelW", kernelW);
        this.spec = Objects.requireNonNull(spec, "ConvTranspose2d: spec");
        LayerChecks.rng("ConvTranspose2d", rng);
        if (inChannels % spec.groups() != 0 || outChannels % spec.groups() != 0) {
            throw new IllegalArgumentException("ConvTranspose2d: inChannels " + inChannels + " and outChannels "
                    + outChannels + " must both be divisible by groups " + spec.groups());
        }
        if (outputPadding < 0 || (outputPadding >= spec.strideH() && outputPadding >= spec.dilationH())) {
            throw new IllegalArgumentException("ConvTranspose2d: outputPadding must be >= 0 and smaller than the stride"
                    + " or the dilation, got " + outputPadding + " with " + spec);
        }
        this.outputPadding = outputPadding;
        int[] shape = {inChannels, outChannels / spec.groups(), kernelH, kernelW};
        double bound = 1 / Math.sqrt(Init.fanIn(shape));
        this.weight = parameter("weight", Init.kaimingUniform(rng, Math.sqrt(1.0 / 3.0), shape));
        this.bias = bias ? parameter("bias", Init.uniform(rng, -bound, bound, outChannels)) : null;
    }

    /** The weight slot {@code [in, out / groups, kh, kw]}. */
    public Parameter weight() {
        return weight;
    }

    /** The bias slot {@code [out]}, or null. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("ConvTranspose2d", x);
        LayerChecks.rank("ConvTranspose2d", x, 4);
        LayerChecks.size("ConvTranspose2d", x, 1, inChannels, "channels");
        LayerChecks.sameDtype("ConvTranspose2d", x, weight.dtype());
        return x.convTranspose2d(weight.value(), bias == null ? null : bias.value(), spec, outputPadding);
    }

    @Override
    public String toString() {
        return "ConvTranspose2d(" + inChannels + ", " + outChannels + ", kernel=" + kernelH + "x" + kernelW + ", "
                + spec
                + ", outputPadding=" + outputPadding + ", bias=" + (bias != null) + ")";
    }
}
