package dev.mpt.optim;

import dev.mpt.optim.schedule.ConstantSchedule;
import dev.mpt.optim.schedule.LearningRateSchedule;

/** How an optimizer's {@code toString()} prints its learning rate. */
final class ScheduleText {

    private ScheduleText() {
    }

    /** A constant schedule prints as its rate, others as themselves. */
    static String describe(LearningRateSchedule s) {
        return s instanceof ConstantSchedule c ? Double.toString(c.lr()) : s.toString();
    }
}
