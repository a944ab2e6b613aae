package dev.mpt.optim;

import dev.mpt.optim.schedule.LearningRateSchedule;

import java.util.List;

/**
 * An optimizer's update rule with its hyper-parameters and learning-rate schedule: {@link Sgd},
 * {@link Adam} or {@link AdamW}. An optimizer is an immutable value; the FP32 state it needs per
 * parameter (momentum, moments) is held by whoever applies it to a model, the
 * {@link dev.mpt.optim.amp.AmpOptimizer} (custom loops) or the {@link dev.mpt.optim.train.Trainer},
 * which also own the FP32 master weights and the loss scale:
 *
 * <pre>{@code
 * var opt = AmpOptimizer.builder(model, new Sgd(0.01, 0.9)).precision(Precision.MIXED_FP16).build();
 * opt.scale(loss).backward();
 * StepOutcome o = opt.step();      // unscale, check, clip, update (or skip)
 * opt.zeroGrad();
 * }</pre>
 *
 * <p>The learning rate of applied step {@code t} (0-based) is {@code schedule().at(t)}; skipped
 * steps (overflowing gradients) do not advance it. Every update runs in FP32 (Micikevicius et al.,
 * ICLR 2018, section 3.1).
 */
public sealed interface Optimizer permits Sgd, Adam, AdamW {

    /** The learning-rate schedule (a constant one when built from a plain rate). */
    LearningRateSchedule schedule();

    /** This optimizer with another learning-rate schedule and the same other hyper-parameters. */
    Optimizer withSchedule(LearningRateSchedule schedule);

    /**
     * Names of the FP32 state arrays kept per parameter, each as long as the parameter (e.g.
     * {@code momentum}, or {@code exp_avg} and {@code exp_avg_sq}); empty when stateless.
     */
    List<String> stateNames();

    /**
     * Applies update {@code step} with rate {@code lr} to {@code param[off, off+len)}; modifies
     * {@code param} and the arrays of {@code state} (one per {@link #stateNames()} entry, zero
     * before the first step), reads {@code grad} (unscaled FP32 gradients).
     *
     * @param step the parameter's own step: 1 for its first update, then 2, 3, ... (steps in which
     *             it had no gradient do not count, as in PyTorch)
     * @throws IllegalArgumentException  if {@code lr}, {@code step} or the number of state arrays is wrong
     * @throws IndexOutOfBoundsException if the range falls outside an array
     */
    void apply(double lr, long step, float[] param, float[] grad, float[][] state, int off, int len);
}
