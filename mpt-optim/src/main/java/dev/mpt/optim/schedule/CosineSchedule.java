package dev.mpt.optim.schedule;

/**
 * Cosine annealing (Loshchilov and Hutter, SGDR, 2017, without restarts):
 * {@code minLr + (baseLr - minLr) * (1 + cos(pi * t / totalSteps)) / 2} for
 * {@code t <= totalSteps}, and {@code minLr} after (where PyTorch's CosineAnnealingLR would
 * start rising again).
 *
 * @param baseLr     the rate at step 0, finite and {@code >= 0}
 * @param totalSteps steps to reach {@code minLr}, {@code >= 1}
 * @param minLr      the final rate, in [0, baseLr]
 */
public record CosineSchedule(double baseLr, long totalSteps, double minLr) implements LearningRateSchedule {

    /** Validates the parameters. */
    public CosineSchedule {
        ScheduleChecks.rate("CosineSchedule", "baseLr", baseLr);
        ScheduleChecks.rate("CosineSchedule", "minLr", minLr);
        if (totalSteps < 1) {
            throw new IllegalArgumentException("CosineSchedule: totalSteps must be >= 1, got " + totalSteps);
        }
        if (minLr > baseLr) {
            throw new IllegalArgumentException("CosineSchedule: minLr " + minLr + " must be <= baseLr " + baseLr);
        }
    }

    @Override
    public double at(long step) {
        ScheduleChecks.step("CosineSchedule", step);
        if (step >= totalSteps) {
            return minLr;
        }
        return minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * step / totalSteps)) / 2;
    }
}
