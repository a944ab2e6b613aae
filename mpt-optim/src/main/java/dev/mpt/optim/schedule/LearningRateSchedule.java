package dev.mpt.optim.schedule;

/**
 * The learning rate as a pure function of the step number: {@code at(t)} is the rate of the
 * step with 0-based index {@code t} (the first optimizer step uses {@code at(0)}). Schedules hold
 * no state, so a resumed run only needs its step counter.
 *
 * <pre>{@code
 * var lr = LearningRateSchedule.linearWarmup(500, 0.0, LearningRateSchedule.cosine(1e-3, 9500, 1e-5));
 * rule.apply(lr.at(step - 1), step, params, grads, m, v, 0, n);
 * }</pre>
 */
@FunctionalInterface
public interface LearningRateSchedule {

    /**
     * The learning rate of step {@code step} (0-based), finite and {@code >= 0}.
     *
     * @throws IllegalArgumentException if {@code step < 0}
     */
    double at(long step);

    /** The same rate at every step. */
    static LearningRateSchedule constant(double lr) {
        return new ConstantSchedule(lr);
    }

    /** {@code baseLr * gamma^floor(t / stepSize)}, PyTorch's StepLR. */
    static LearningRateSchedule stepDecay(double baseLr, long stepSize, double gamma) {
        return new StepDecaySchedule(baseLr, stepSize, gamma);
    }

    /**
     * Cosine annealing from {@code baseLr} at step 0 to {@code minLr} at step {@code totalSteps},
     * {@code minLr + (baseLr - minLr) * (1 + cos(pi * t / totalSteps)) / 2}, then {@code minLr}.
     */
    static LearningRateSchedule cosine(double baseLr, long totalSteps, double minLr) {
        return new CosineSchedule(baseLr, totalSteps, minLr);
    }

    /**
     * A linear warm-up over {@code warmupSteps} steps in front of {@code after}: for
     * {@code t < warmupSteps} the rate is
     * {@code after.at(0) * (startFactor + (1 - startFactor) * t / warmupSteps)}, then
     * {@code after.at(t - warmupSteps)}, so {@code after} starts at its own step 0.
     */
    static LearningRateSchedule linearWarmup(long warmupSteps, double startFactor, LearningRateSchedule after) {
        return new WarmupSchedule(warmupSteps, startFactor, after);
    }
}
