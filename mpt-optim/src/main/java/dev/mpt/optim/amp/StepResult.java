package dev.mpt.optim.amp;

import java.util.Map;
import java.util.Objects;

/**
 * What one {@link Trainer#step} did.
 *
 * @param step           the number of this step attempt, 1-based (skipped steps count)
 * @param loss           the batch's unscaled loss, as computed in FP32 (NaN or inf when it overflowed)
 * @param scale          the loss scale used for this step's backward pass
 * @param skipped        true when the gradients held an inf or NaN and the update was skipped
 * @param gradNorm       the global L2 norm of the unscaled gradients before clipping
 * @param learningRate   the learning rate applied (or that would have been, when skipped)
 * @param atMinimumScale true when the gradients overflowed with the scale at its minimum (logged
 *                       as a warning): the run is likely diverging
 * @param gradientStats  per-parameter gradient statistics when the trainer collects them, else empty
 */
public record StepResult(long step, double loss, double scale, boolean skipped, double gradNorm,
                         double learningRate, boolean atMinimumScale, Map<String, GradientStats> gradientStats) {

    /** Validates that the statistics map is present. */
    public StepResult {
        Objects.requireNonNull(gradientStats, "StepResult: gradientStats is null");
    }
}
