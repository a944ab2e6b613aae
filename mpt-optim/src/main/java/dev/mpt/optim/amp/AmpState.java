package dev.mpt.optim.amp;

import dev.mpt.optim.scaling.ScalerState;

import java.util.List;
import java.util.Objects;

/**
 * Everything an {@link AmpOptimizer} needs to resume, as a value ({@link AmpOptimizer#state()},
 * {@link AmpOptimizer#restore(AmpState)}); a checkpoint format (e.g.
 * {@link dev.mpt.optim.train.OptimizerCheckpoint}) writes and reads it.
 *
 * @param precision      the optimizer's precision; a restore requires the same
 * @param appliedSteps   applied (not skipped) steps so far; the learning-rate schedule counts
 *                       these (each parameter's own count, {@link ParameterState#steps()}, is at
 *                       most this)
 * @param attemptedSteps step attempts so far, skipped ones included ({@code >= appliedSteps})
 * @param scaler         the loss scaler's state (counters and current scale)
 * @param parameters     masters and optimizer state per parameter, in the optimizer's order
 */
public record AmpState(Precision precision, long appliedSteps, long attemptedSteps, ScalerState scaler,
                       List<ParameterState> parameters) {

    /** Checks that the parts are present and the counters consistent. */
    public AmpState {
        Objects.requireNonNull(precision, "AmpState: precision is null");
        Objects.requireNonNull(scaler, "AmpState: scaler is null");
        parameters = List.copyOf(Objects.requireNonNull(parameters, "AmpState: parameters is null"));
        if (appliedSteps < 0 || attemptedSteps < 0) {
            throw new IllegalArgumentException("AmpState: step counts must be >= 0, got appliedSteps " + appliedSteps
                    + ", attemptedSteps " + attemptedSteps);
        }
        if (appliedSteps > attemptedSteps) {
            throw new IllegalArgumentException("AmpState: appliedSteps " + appliedSteps + " > attemptedSteps "
                    + attemptedSteps);
        }
        for (ParameterState p : parameters) {
            if (p.steps() > appliedSteps) {
                throw new IllegalArgumentException("AmpState: parameter '" + p.name() + "' has " + p.steps()
                        + " steps, more than the optimizer's appliedSteps " + appliedSteps);
            }
        }
    }
}
