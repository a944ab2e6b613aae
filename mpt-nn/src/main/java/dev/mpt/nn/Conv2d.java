package dev.mpt.nn;

import dev.mpt.core.Conv2dSpec;
import dev.mpt.core.Tensor;
import dev.mpt.nn.init.Init;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * 2-D convolution over NCHW inputs with a {@code kh x kw} kernel: weight
 * {@code [out, in / groups, kh, kw]}, optional bias {@code [out]}, geometry (strides, padding,
 * dilation, groups per dim) from a {@link Conv2dSpec}; output size per spatial dim
 * {@code floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1}, as PyTorch's {@code nn.Conv2d}:
 *
 * <pre>{@code
 * // nn.Conv2d(3, 16, (3, 5), stride=(2, 1), padding=(1, 2))
 * new Conv2d(3, 16, 3, 5, Conv2dSpec.DEFAULT.withStride(2, 1).withPadding(1, 2), true, rng);
 * }</pre>
 *
 * <p> Runs {@link Tensor#conv2d}: im2col + GEMM in the weights' dtype with FP32
 * accumulation, each output rounded once.
 *
 * <p>Default initialization (PyTorch's): weight {@code U(-1/sqrt(fanIn), 1/sqrt(fanIn))}
 * (Kaiming uniform, gain {@code sqrt(1/3)}), bias the same bound, {@code fanIn = in/groups * kh * kw}.
 */
public final class Conv2d extends Module {

    private final int inChannels;
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private final Conv2dSpec spec;
    private final Parameter weight;
    private final Parameter bias;

    /** A convolution with bias, square {@code stride} and {@code padding}. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, RandomGenerator rng) {
        this(inChannels, outChannels, kernel, Conv2dSpec.of(stride, padding), true, rng);
    }

    /** A convolution with a square {@code kernel} and the given geometry, with or without bias. */
    public Conv2d(int inChannels, int outChannels, int kernel, Conv2dSpec spec, boolean bias, RandomGenerator rng) {
        this(inChannels, outChannels, kernel, kernel, spec, bias, rng);
    }

    /** A convolution with a {@code kernelH x kernelW} kernel and the given geometry, with or without bias. */
    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, Conv2dSpec spec, boolean bias,
                  RandomGenerator rng) {
        this.inChannels = LayerChecks.positive("Conv2d", "inChannels", inChannels);
        this.outChannels = LayerChecks.positive("Conv2d", "outChannels", outChannels);
        this.kernelH = LayerChecks.positive("Conv2d", "kernelH", kernelH);
        this.kernelW = LayerChecks.positive("Conv2d", "kernelW", kernelW);
        this.spec = Objects.requireNonNull(spec, "Conv2d: spec");
        LayerChecks.rng("Conv2d", rng);
        if (inChannels % spec.groups() != 0 || outChannels % spec.groups() != 0) {
            throw new IllegalArgumentException("Conv2d: inChannels " + inChannels + " and outChannels " + outChannels
                    + " must both be divisible by groups " + spec.groups());
        }
        int[] shape = {outChannels, inChannels / spec.groups(), kernelH, kernelW};
        double bound = 1 / Math.sqrt(Init.fanIn(shape));
        this.weight = parameter("weight", Init.kaimingUniform(rng, Math.sqrt(1.0 / 3.0), shape));
        this.bias = bias ? parameter("bias", Init.uniform(rng, -bound, bound, outChannels)) : null;
    }

    /** The weight slot {@code [out, in / groups, kh, kw]}. */
    public Parameter weight() {
        return weight;
    }

    /** The bias slot {@code [out]}, or null. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("Conv2d", x);
        LayerChecks.rank("Conv2d", x, 4);
        LayerChecks.size("Conv2d", x, 1, inChannels, "channels");
        LayerChecks.sameDtype("Conv2d", x, weight.dtype());
        return x.conv2d(weight.value(), bias == null ? null : bias.value(), spec);
    }

    @Override
    public String toString() {
        return "Conv2d(" + inChannels + ", " + outChannels + ", kernel=" + kernelH + "x" + kernelW + ", " + spec
                + ", bias="
                + (bias != null) + ")";
    }
}
