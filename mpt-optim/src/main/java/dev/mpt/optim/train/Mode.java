package dev.mpt.optim.train;

/** Whether a monitored {@link Metric} improves by going down ({@link #MIN}) or up ({@link #MAX}). */
public enum Mode {
    /** Lower is better (losses). */
    MIN,
    /** Higher is better (accuracy). */
    MAX;

    /**
     * Whether {@code current} beats {@code best} by more than {@code minDelta} ({@code >= 0}):
     * {@code current < best - minDelta} for {@link #MIN}, {@code current > best + minDelta} for
     * {@link #MAX}, as Keras's {@code EarlyStopping} and {@code ReduceLROnPlateau} compare. A NaN
     * never improves; anything finite improves on the starting {@code best} of {@link #worst()}.
     */
    public boolean improves(double current, double best, double minDelta) {
        return this == MIN ? current < best - minDelta : current > best + minDelta;
    }

    /** The starting value of a best-so-far: {@code +inf} for {@link #MIN}, {@code -inf} for {@link #MAX}. */
    public double worst() {
        return this == MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }
}
