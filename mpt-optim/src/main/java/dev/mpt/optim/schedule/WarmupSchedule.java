package dev.mpt.optim.schedule;

import java.util.Objects;

/**
 * A linear warm-up in front of another schedule: for {@code t < warmupSteps} the rate rises
 * linearly, {@code after.at(0) * (startFactor + (1 - startFactor) * t / warmupSteps)}; from
 * {@code warmupSteps} on it is {@code after.at(t - warmupSteps)}.
 *
 * @param warmupSteps {@code >= 1}
 * @param startFactor the fraction of {@code after.at(0)} used at step 0, in [0, 1]
 * @param after       the schedule that follows, started at its own step 0
 */
public record WarmupSchedule(long warmupSteps, double startFactor, LearningRateSchedule after)
        implements LearningRateSchedule {

    /** Validates the parameters. */
    public WarmupSchedule {
        Objects.requireNonNull(after, "WarmupSchedule: after is null");
        if (warmupSteps < 1) {
            throw new IllegalArgumentException("WarmupSchedule: warmupSteps must be >= 1, got " + warmupSteps);
        }
        if (!(startFactor >= 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("WarmupSchedule: startFactor must be in [0, 1], got " + startFactor);
        }
    }

    @Override
    public double at(long step) {
        ScheduleChecks.step("WarmupSchedule", step);
        if (step >= warmupSteps) {
            return after.at(step - warmupSteps);
        }
        return after.at(0) * (startFactor + (1 - startFactor) * step / warmupSteps);
    }
}
