package dev.mpt.optim.train;

import dev.mpt.optim.schedule.ConstantSchedule;
import dev.mpt.optim.schedule.LearningRateSchedule;

/**
 * The factor a {@link Trainer} puts on its optimizer's learning-rate schedules, changed by
 * {@link Trainer#setLearningRateFactor} ({@link ReduceLROnPlateau} lowers it): each schedule the
 * trainer hands on (one, or one per parameter group) is {@link #times} the configured one, and all
 * of them read this one factor. The factor is the trainer's state, saved in its checkpoints; the
 * factor 1 leaves every rate exactly as the configured schedule gives it ({@code x * 1.0 == x} in
 * IEEE 754), so a trainer that never changes it steps bit for bit as before the factor existed.
 *
 * <p>These are the one schedules in mpt with state: they let the trainer change the rate between
 * epochs without a setter on {@link dev.mpt.optim.amp.AmpOptimizer}, whose schedule is otherwise a
 * pure function of the applied step.
 */
final class LearningRateFactor {

    private double factor = 1;

    /** {@code base} times this factor, read at each step. */
    LearningRateSchedule times(LearningRateSchedule base) {
        return new Scaled(base, this);
    }

    /** The rate of {@code schedule} at {@code step} without the factor, when {@link #times} made it. */
    static double baseAt(LearningRateSchedule schedule, long step) {
        return schedule instanceof Scaled s ? s.base().at(step) : schedule.at(step);
    }

    double factor() {
        return factor;
    }

    void setFactor(double f) {
        factor = f;
    }

    /** A configured schedule times the factor. */
    private record Scaled(LearningRateSchedule base, LearningRateFactor owner) implements LearningRateSchedule {

        @Override
        public double at(long step) {
            return base.at(step) * owner.factor;
        }

        /** As the optimizers print a schedule: a constant one as its rate; then the factor when not 1. */
        @Override
        public String toString() {
            String b = base instanceof ConstantSchedule c ? Double.toString(c.lr()) : base.toString();
            return owner.factor == 1 ? b : b + " x " + owner.factor;
        }
    }
}
