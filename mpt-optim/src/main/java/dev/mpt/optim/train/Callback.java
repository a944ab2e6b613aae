package dev.mpt.optim.train;

/**
 * Hooks into {@link Trainer#fit}, called in this order: {@link #onFitStart} once before the first
 * step, {@link #onStepEnd} after every step, {@link #onEpochEnd} after every epoch's validation,
 * {@link #onFitEnd} once after the last epoch (also after an early stop; not when the fit throws).
 * Every method does nothing by default. Several callbacks run in the order
 * {@link FitOptions#callbacks} lists them, each hook of all of them before the fit goes on; a stop
 * asked for in {@code onEpochEnd} ({@link FitContext#stop}) takes effect once every callback has
 * seen that epoch.
 *
 * <p>The built-ins follow Keras's callbacks of the same names: {@link EarlyStopping},
 * {@link BestCheckpoint} ({@code ModelCheckpoint(save_best_only=True)}) and
 * {@link ReduceLROnPlateau}.
 */
public interface Callback {

    /**
     * Before the first step. A callback checks here that the fit gives what it needs (e.g. that
     * the metric it monitors exists: {@link FitContext#has}) and resets its state, so one callback
     * object may serve several fits; what it throws ends the fit before any step.
     */
    default void onFitStart(FitContext fit) {
    }

    /** After each training step, with what the step did. */
    default void onStepEnd(FitContext fit, StepResult step) {
    }

    /** After each epoch, with its metrics (already in {@link FitContext#history()}). */
    default void onEpochEnd(FitContext fit, EpochMetrics epoch) {
    }

    /** After the last epoch that ran, with the whole history. */
    default void onFitEnd(FitContext fit, History history) {
    }
}
