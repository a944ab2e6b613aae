package dev.mpt.nn.loss;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * The standard losses, each a mean over the batch returned as a rank-0 FP32 tensor with autograd.
 *
 * <p>Precision (the paper, section 3.3): whatever the model's dtype, the inputs are converted to
 * FP32 with the differentiable {@code to(FP32)} first, and the softmax, logarithms and sums run in
 * FP32 (softmax and sums accumulated in double). The gradient that flows back into an FP16 output
 * is rounded once to FP16 by autograd.
 *
 * <p>Non-finite outputs are not rejected: an overflowed FP16 output gives a non-finite loss, which
 * a dynamic loss scaler needs to see. Invalid targets (null, wrong count or shape, labels out of
 * range) throw {@link IllegalArgumentException} naming the loss and the offending values.
 */
public final class Losses {

    private Losses() {
    }

    /**
     * Cross-entropy of class scores against labels:
     * {@code L = -(1/N) sum_i log softmax(logits_i)[labels_i]}. Its gradient with respect to the
     * logits is {@code (softmax(logits) - onehot(labels)) / N}.
     *
     * @param logits {@code [N, C]} unnormalized scores, any dtype
     * @param labels {@code N} class indices in {@code [0, C)}
     */
    public static Tensor crossEntropy(Tensor logits, int[] labels) {
        return crossEntropy(logits, labels, 0.0);
    }

    /**
     * Cross-entropy with label smoothing {@code eps} (Szegedy et al. 2016): the target
     * distribution is {@code q_c = (1 - eps) [c == label] + eps / C}, and
     * {@code L = -(1/N) sum_i sum_c q_ic log softmax(logits_i)_c}; the gradient is
     * {@code (softmax - q) / N}. {@code eps = 0} is plain cross-entropy.
     *
     * @param smoothing {@code eps} in {@code [0, 1]}
     */
    public static Tensor crossEntropy(Tensor logits, int[] labels, double smoothing) {
        String op = "crossEntropy";
        if (!(smoothing >= 0 && smoothing <= 1)) {
            throw new IllegalArgumentException(op + ": label smoothing must be in [0, 1], got " + smoothing);
        }
        checkScores(op, logits, labels);
        Tensor logp = logits.to(DType.FP32).logSoftmax(1);
        return weightedMean(logp, targetDistribution(labels, logits.size(1), smoothing));
    }

    /**
     * Negative log-likelihood of log-probabilities: {@code L = -(1/N) sum_i logProbs[i, labels_i]}
     * (use after {@code logSoftmax(1)}; {@code crossEntropy} fuses both).
     *
     * @param logProbs {@code [N, C]} log-probabilities, any dtype
     * @param labels   {@code N} class indices in {@code [0, C)}
     */
    public static Tensor nll(Tensor logProbs, int[] labels) {
        checkScores("nll", logProbs, labels);
        return weightedMean(logProbs.to(DType.FP32), targetDistribution(labels, logProbs.size(1), 0.0));
    }

    /**
     * Mean squared error {@code L = (1/n) sum_j (output_j - target_j)^2} over all {@code n}
     * elements; the shapes must be equal (no broadcasting), dtypes may differ.
     */
    public static Tensor mse(Tensor output, Tensor target) {
        checkPair("mse", output, target);
        Tensor d = output.to(DType.FP32).sub(target.to(DType.FP32));
        return d.mul(d).mean();
    }

    /**
     * Binary cross-entropy of logits {@code x} against targets {@code t} in {@code [0, 1]}, mean over
     * all elements, in the numerically stable form
     * {@code l = max(x, 0) - x t + log(1 + e^-|x|)}, which never overflows and whose gradient is
     * {@code sigmoid(x) - t} (also at {@code x = 0}, where {@code -|x|} is written as
     * {@code min(x, -x)} so the tie passes the gradient of {@code x}).
     */
    public static Tensor bceWithLogits(Tensor logits, Tensor targets) {
        String op = "bceWithLogits";
        checkPair(op, logits, targets);
        float[] t = targets.toFloatArray();
        for (int i = 0; i < t.length; i++) {
            if (!(t[i] >= 0 && t[i] <= 1)) {
                throw new IllegalArgumentException(op + ": target " + i + " is " + t[i] + ", must be in [0, 1]");
            }
        }
        Tensor x = logits.to(DType.FP32);
        Tensor tf = targets.to(DType.FP32).detach();
        Tensor negAbs = x.minimum(x.neg());
        return x.relu().sub(x.mul(tf)).add(negAbs.exp().add(1f).log()).mean();
    }

    /** {@code -(1/N) sum(logp * q)}. */
    private static Tensor weightedMean(Tensor logp, Tensor q) {
        return logp.mul(q).sum().neg().div((float) logp.size(0));
    }

    /** The FP32 {@code [N, C]} target distribution {@code (1 - eps) onehot + eps / C}. */
    private static Tensor targetDistribution(int[] labels, int classes, double eps) {
        float[] q = new float[labels.length * classes];
        float off = (float) (eps / classes);
        float on = (float) (1 - eps + eps / classes);
        Arrays.fill(q, off);
        for (int i = 0; i < labels.length; i++) {
            q[i * classes + labels[i]] = on;
        }
        return Tensor.of(q, labels.length, classes);
    }

    private static void checkScores(String op, Tensor scores, int[] labels) {
        Objects.requireNonNull(scores, () -> op + ": output");
        if (labels == null) {
            throw new IllegalArgumentException(op + ": labels are null");
        }
        if (scores.dim() != 2 || scores.size(0) < 1 || scores.size(1) < 1) {
            throw new IllegalArgumentException(op + ": output must have shape [N, C] with N, C >= 1, got "
                    + Arrays.toString(scores.shape()) + " (reshape sequences to [N*T, C])");
        }
        int n = scores.size(0);
        int c = scores.size(1);
        if (labels.length != n) {
            throw new IllegalArgumentException(op + ": " + labels.length + " labels for a batch of " + n
                    + " (output shape " + Arrays.toString(scores.shape()) + ")");
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= c) {
                throw new IllegalArgumentException(op + ": label " + labels[i] + " of sample " + i
                        + " is outside [0, " + c + ")");
            }
        }
    }

    private static void checkPair(String op, Tensor output, Tensor target) {
        Objects.requireNonNull(output, () -> op + ": output");
        if (target == null) {
            throw new IllegalArgumentException(op + ": targets are null");
        }
        if (!Arrays.equals(output.shape(), target.shape())) {
            throw new IllegalArgumentException(op + ": output shape " + Arrays.toString(output.shape())
                    + " differs from target shape " + Arrays.toString(target.shape()));
        }
        if (output.numel() == 0) {
            throw new IllegalArgumentException(op + ": empty output " + Arrays.toString(output.shape()));
        }
    }
}
