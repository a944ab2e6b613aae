package dev.mpt.optim.amp;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one {@link AmpOptimizer#step()} did.
 *
 * @param step           the number of this step attempt, 1-based (skipped steps count)
 * @param appliedSteps   the number of applied (not skipped) steps after this one; the learning-rate
 *                       schedule counts these; each parameter's own count (Adam's bias
 *                       corrections) advances only in steps where it has a gradient
 * @param skipped        true when the gradients held an inf or NaN (or a sharing optimizer's did):
 *                       weights, masters and optimizer state were left untouched
 * @param scale          the loss scale this step's gradients were computed with
 * @param nextScale      the scale for the next step (equal to {@code scale} for a shared scaling
 *                       until its update)
 * @param gradNorm       the global L2 norm of the unscaled gradients before clipping (inf or NaN
 *                       when skipped)
 * @param learningRate   the learning rate applied (or that would have been, when skipped)
 * @param atMinimumScale true when the gradients overflowed although the scale is at its minimum:
 *                       backing off cannot help (also logged as a warning)
 * @param overflowedWeights the parameters whose weights hold an infinity or NaN after this
 *                       applied step (their FP32 masters rounded beyond the 16-bit format's
 *                       range, or the update overflowed), in order; empty normally and on a
 *                       skipped step (also logged as a warning)
 * @param gradientStats  per-parameter gradient statistics when collection is on, else empty
 */
public record StepOutcome(long step, long appliedSteps, boolean skipped, double scale, double nextScale,
                          double gradNorm, double learningRate, boolean atMinimumScale,
                          List<String> overflowedWeights, Map<String, GradientStats> gradientStats) {

    /** Copies the list and the statistics map (keeping their order). */
    public StepOutcome {
        overflowedWeights = List.copyOf(Objects.requireNonNull(overflowedWeights,
                "StepOutcome: overflowedWeights is null"));
        gradientStats = Collections.unmodifiableMap(new LinkedHashMap<>(
                Objects.requireNonNull(gradientStats, "StepOutcome: gradientStats is null")));
    }
}
