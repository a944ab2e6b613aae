package dev.mpt.optim.train;

import dev.mpt.optim.amp.StepOutcome;

import java.util.Objects;

/**
 * What one {@link Trainer#step} did: the batch's loss and the optimizer step's outcome.
 *
 * @param loss    the batch's unscaled loss, as computed in FP32 (NaN or inf when it overflowed)
 * @param outcome the {@link dev.mpt.optim.amp.AmpOptimizer#step()}: step number, scale used,
 *                whether it was skipped, gradient norm, learning rate, gradient statistics
 */
public record StepResult(double loss, StepOutcome outcome) {

    /** Validates that the outcome is present. */
    public StepResult {
        Objects.requireNonNull(outcome, "StepResult: outcome is null");
    }
}
