package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.Arrays;

/**
 * Batch normalization (Ioffe and Szegedy 2015) over the channel dimension 1 of its input; see
 * {@link BatchNorm1d} and {@link BatchNorm2d} for the accepted shapes.
 *
 * <p>Training mode normalizes with the batch's mean and biased variance over every dimension but
 * the channel, and updates the running statistics:
 * {@code running = (1 - momentum) * running + momentum * batchStat}, where the variance fed to
 * the running estimate is the unbiased one (PyTorch's convention). Evaluation mode normalizes
 * with the running statistics. Then {@code y = xhat * gamma + beta}.
 *
 * <p>Precision: {@code gamma} (ones), {@code beta} (zeros) and the buffers
 * {@code running_mean} (zeros) and {@code running_var} (ones) are FP32 and stay FP32 under
 * {@code to(FP16)}; the input is widened to FP32, the statistics are accumulated in double and
 * rounded to FP32, the normalization runs in FP32 and the output is rounded once to the input's
 * dtype.
 */
public abstract sealed class BatchNorm extends Module permits BatchNorm1d, BatchNorm2d {

    /** PyTorch's default epsilon. */
    public static final double DEFAULT_EPS = 1e-5;
    /** PyTorch's default momentum of the running statistics. */
    public static final double DEFAULT_MOMENTUM = 0.1;

    private final String name;
    private final int channels;
    private final float eps;
    private final float momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer runningMean;
    private final Buffer runningVar;

    BatchNorm(String name, int channels, double eps, double momentum) {
        this.name = name;
        this.channels = LayerChecks.positive(name, "channels", channels);
        if (!(eps > 0 && Double.isFinite(eps))) {
            throw new IllegalArgumentException(name + ": eps must be finite and > 0, got " + eps);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(name + ": momentum must be in [0, 1], got " + momentum);
        }
        this.eps = (float) eps;
        this.momentum = (float) momentum;
        this.weight = fp32Parameter("weight", Tensor.ones(channels));
        this.bias = fp32Parameter("bias", Tensor.zeros(channels));
        this.runningMean = buffer("running_mean", Tensor.zeros(channels));
        this.runningVar = buffer("running_var", Tensor.ones(channels));
    }

    /** Checks the input's rank and channel count. */
    abstract void checkShape(Tensor x);

    /** The scale {@code gamma} (FP32). */
    public Parameter weight() {
        return weight;
    }

    /** The shift {@code beta} (FP32). */
    public Parameter bias() {
        return bias;
    }

    /** The running mean (FP32 buffer). */
    public Buffer runningMean() {
        return runningMean;
    }

    /** The running variance (FP32 buffer). */
    public Buffer runningVar() {
        return runningVar;
    }

    /** Number of channels. */
    public int channels() {
        return channels;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input(name, x);
        checkShape(x);
        if (!isTraining()) {
            return x.batchNorm(runningMean.value(), runningVar.value(), weight.value(), bias.value(), false,
                    momentum, eps);
        }
        if (x.numel() / channels < 2) {
            throw new IllegalArgumentException(name + ": training needs more than one value per channel, got shape "
                    + Arrays.toString(x.shape()));
        }
        // fresh copies updated in place by the op, then installed: a running-statistics tensor
        // handed out earlier (a state dict, say) never changes under its holder
        Tensor mean = Tensor.zeros(channels).copy_(runningMean.value());
        Tensor var = Tensor.zeros(channels).copy_(runningVar.value());
        Tensor y = x.batchNorm(mean, var, weight.value(), bias.value(), true, momentum, eps);
        runningMean.set(mean);
        runningVar.set(var);
        return y;
    }

    @Override
    public String toString() {
        return name + "(" + channels + ", eps=" + eps + ", momentum=" + momentum + ")";
    }
}
