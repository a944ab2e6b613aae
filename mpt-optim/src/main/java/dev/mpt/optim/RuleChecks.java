package dev.mpt.optim;

import java.util.Objects;

/**
 * Argument checks of the update rules ({@link SgdRule}, {@link AdamRule}) and of
 * {@link Optimizer#apply}; messages name the op, the argument and the value.
 */
final class RuleChecks {

    private RuleChecks() {
    }

    static void learningRate(String op, double lr) {
        if (!(lr >= 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException(op + ": learning rate must be finite and >= 0, got " + lr);
        }
    }

    static void step(String op, long step) {
        if (step < 1) {
            throw new IllegalArgumentException(op + ": step must be >= 1 (the first step is 1), got " + step);
        }
    }

    static void nonNegativeFinite(String op, String name, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(op + ": " + name + " must be finite and >= 0, got " + v);
        }
    }

    static void range(String op, String name, float[] a, int off, int len) {
        Objects.requireNonNull(a, () -> op + ": " + name + " is null");
        if (off < 0 || len < 0 || off > a.length - len) {
            throw new IndexOutOfBoundsException(op + ": range [" + off + ", " + off + " + " + len + ") is outside "
                    + name + " of length " + a.length);
        }
    }

    /** Requires one state array per state name of the optimizer. */
    static void stateCount(String op, float[][] state, int expected) {
        Objects.requireNonNull(state, () -> op + ": state is null");
        if (state.length != expected) {
            throw new IllegalArgumentException(op + ": needs " + expected + " state arrays, got " + state.length);
        }
    }
}
