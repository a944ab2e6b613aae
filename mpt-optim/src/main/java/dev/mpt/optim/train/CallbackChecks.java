package dev.mpt.optim.train;

import java.util.Objects;

/** Argument checks shared by the built-in callbacks. */
final class CallbackChecks {

    private CallbackChecks() {
    }

    static <T> T notNull(String who, String what, T value) {
        return Objects.requireNonNull(value, () -> who + ": " + what + " is null");
    }

    static int patience(String who, int patience) {
        if (patience < 0) {
            throw new IllegalArgumentException(who + ": patience must be >= 0, got " + patience);
        }
        return patience;
    }

    static double minDelta(String who, double minDelta) {
        if (!(minDelta >= 0) || !Double.isFinite(minDelta)) {
            throw new IllegalArgumentException(who + ": minDelta must be finite and >= 0, got " + minDelta);
        }
        return minDelta;
    }
}
