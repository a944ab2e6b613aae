package dev.mpt.optim.scaling;

/**
 * What one {@link LossScaler#adjust(boolean)} decided: whether the optimizer step must be skipped,
 * the scale the step's gradients were computed with, the scale for the next step, and whether the
 * scale could not be lowered although the gradients overflowed.
 *
 * @param skipped                 true when the gradients held an inf or NaN: the caller must not
 *                                apply the update (the master weights and optimizer state stay as
 *                                they were)
 * @param scaleUsed               the scale the loss was multiplied by in this step
 * @param nextScale               the scale to use for the next step ({@code next.scale()})
 * @param atMinimumAndOverflowing true when the gradients overflowed at the scaler's minimum scale,
 *                                so backing off cannot help (a diverging model, or a loss whose
 *                                unscaled gradients already exceed FP16's range)
 * @param next                    the scaler's next state; use it for the following step
 */
public record ScaleDecision(boolean skipped, double scaleUsed, double nextScale,
                          boolean atMinimumAndOverflowing, LossScaler next) {

    /** Checks that the fields agree with each other. */
    public ScaleDecision {
        if (next == null) {
            throw new NullPointerException("ScaleDecision: next scaler is null");
        }
        if (next.scale() != nextScale) {
            throw new IllegalArgumentException("ScaleDecision: nextScale " + nextScale
                    + " differs from next.scale() " + next.scale());
        }
        if (atMinimumAndOverflowing && !skipped) {
            throw new IllegalArgumentException("ScaleDecision: atMinimumAndOverflowing requires skipped");
        }
    }
}
