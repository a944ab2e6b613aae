package dev.mpt.optim;

import dev.mpt.core.Tensor;

/**
 * A training loss of a classifier's output and the batch's integer labels, returned as a
 * one-element FP32 tensor (mean over the batch) that is differentiable with respect to the
 * output; e.g. {@code Losses::crossEntropy}.
 */
@FunctionalInterface
public interface LossFunction {

    /** The loss of {@code output} (one row per sample) against {@code labels} (one per sample). */
    Tensor apply(Tensor output, int[] labels);
}
