package dev.mpt.optim;

import dev.mpt.optim.schedule.ConstantSchedule;
import dev.mpt.optim.schedule.LearningRateSchedule;

import java.util.List;
import java.util.Objects;

/** Shared checks and printing of the optimizer classes. */
final class OptimizerChecks {

    /** The state names of Adam and AdamW (PyTorch's). */
    static final List<String> ADAM_STATE = List.of("exp_avg", "exp_avg_sq");

    private OptimizerChecks() {
    }

    static void stateCount(String op, float[][] state, int expected) {
        Objects.requireNonNull(state, () -> op + ": state is null");
        if (state.length != expected) {
            throw new IllegalArgumentException(op + ": needs " + expected + " state arrays, got " + state.length);
        }
    }

    /** A constant schedule prints as its rate, others as themselves. */
    static String describe(LearningRateSchedule s) {
        return s instanceof ConstantSchedule c ? Double.toString(c.lr()) : s.toString();
    }
}
