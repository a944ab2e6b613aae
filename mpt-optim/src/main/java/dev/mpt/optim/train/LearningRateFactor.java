package dev.mpt.optim.train;

import dev.mpt.optim.schedule.ConstantSchedule;
import dev.mpt.optim.schedule.LearningRateSchedule;

/**
 * The schedule a {@link Trainer} hands to its optimizer: the configured schedule times a factor
 * that {@link Trainer#setLearningRateFactor} changes ({@link ReduceLROnPlateau} lowers it). The
 * factor is the trainer's state, saved in its checkpoints; the factor 1 leaves every rate exactly
 * as the configured schedule gives it ({@code x * 1.0 == x} in IEEE 754), so a trainer that never
 * changes it steps bit for bit as before the factor existed.
 *
 * <p>This is the one schedule in mpt with state: it lets the trainer change the rate between
 * epochs without a setter on {@link dev.mpt.optim.amp.AmpOptimizer}, whose schedule is otherwise a
 * pure function of the applied step.
 */
final class LearningRateFactor implements LearningRateSchedule {

    private final LearningRateSchedule base;
    private double factor = 1;

    LearningRateFactor(LearningRateSchedule base) {
        this.base = base;
    }

    @Override
    public double at(long step) {
        return base.at(step) * factor;
    }

    /** The configured schedule's rate at {@code step}, without the factor. */
    double baseAt(long step) {
        return base.at(step);
    }

    double factor() {
        return factor;
    }

    void setFactor(double f) {
        factor = f;
    }

    /** As the optimizers print a schedule: a constant one as its rate; then the factor when not 1. */
    @Override
    public String toString() {
        String b = base instanceof ConstantSchedule c ? Double.toString(c.lr()) : base.toString();
        return factor == 1 ? b : b + " x " + factor;
    }
}
