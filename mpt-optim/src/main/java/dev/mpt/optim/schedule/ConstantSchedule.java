package dev.mpt.optim.schedule;

/**
 * The same learning rate at every step.
 *
 * @param lr finite and {@code >= 0}
 */
public record ConstantSchedule(double lr) implements LearningRateSchedule {

    /** Validates the rate. */
    public ConstantSchedule {
        ScheduleChecks.rate("ConstantSchedule", "lr", lr);
    }

    @Override
    public double at(long step) {
        ScheduleChecks.step("ConstantSchedule", step);
        return lr;
    }
}
