package dev.mpt.optim.schedule;

/**
 * {@code baseLr * gamma^floor(t / stepSize)}: the rate is multiplied by {@code gamma} every
 * {@code stepSize} steps (PyTorch's StepLR).
 *
 * @param baseLr   finite and {@code >= 0}
 * @param stepSize {@code >= 1}
 * @param gamma    in (0, 1]
 */
public record StepDecaySchedule(double baseLr, long stepSize, double gamma) implements LearningRateSchedule {

    /** Validates the parameters. */
    public StepDecaySchedule {
        ScheduleChecks.rate("StepDecaySchedule", "baseLr", baseLr);
        if (stepSize < 1) {
            throw new IllegalArgumentException("StepDecaySchedule: stepSize must be >= 1, got " + stepSize);
        }
        if (!(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("StepDecaySchedule: gamma must be in (0, 1], got " + gamma);
        }
    }

    @Override
    public double at(long step) {
        ScheduleChecks.step("StepDecaySchedule", step);
        return baseLr * Math.pow(gamma, (double) (step / stepSize));
    }
}
