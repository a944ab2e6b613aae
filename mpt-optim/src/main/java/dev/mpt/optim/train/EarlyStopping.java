package dev.mpt.optim.train;

/**
 * Stops a {@link Trainer#fit} when a metric has not improved for {@code patience} epochs, as
 * Keras's {@code EarlyStopping}: an epoch improves when its value beats the best so far by more
 * than {@code minDelta} ({@link Mode#improves}); each epoch that does not adds one to a counter,
 * each that does resets it, and the fit stops after the epoch that brings the counter to
 * {@code patience}. With patience 2 and validation losses 1.0, 0.8, 0.85, 0.9, 0.7 it stops after
 * epoch 4. Patience 0 stops at the first epoch that does not improve. A NaN value never improves.
 *
 * <p>Differences from Keras: no {@code baseline} or {@code start_from_epoch}; to get the best
 * weights back at the end, add a {@link BestCheckpoint} with {@code restoreBest} (Keras's
 * {@code restore_best_weights}).
 */
public final class EarlyStopping implements Callback {

    private static final String WHO = "EarlyStopping";

    private final Metric monitor;
    private final int patience;
    private final double minDelta;
    private final Mode mode;
    private double best;
    private int bestEpoch;
    private int wait;

    /**
     * @param monitor  the metric watched, e.g. {@link Metric#VAL_LOSS}
     * @param patience epochs without improvement before stopping, {@code >= 0}
     * @param minDelta the least change that counts as an improvement, {@code >= 0}
     * @param mode     whether lower or higher values are better
     * @throws IllegalArgumentException if {@code patience < 0} or {@code minDelta} is negative or not finite
     */
    public EarlyStopping(Metric monitor, int patience, double minDelta, Mode mode) {
        this.monitor = CallbackChecks.notNull(WHO, "monitor", monitor);
        this.patience = CallbackChecks.patience(WHO, patience);
        this.minDelta = CallbackChecks.minDelta(WHO, minDelta);
        this.mode = CallbackChecks.notNull(WHO, "mode", mode);
    }

    /** Any improvement counts; the metric's own {@link Metric#mode()}. */
    public EarlyStopping(Metric monitor, int patience) {
        this(monitor, patience, 0, CallbackChecks.notNull(WHO, "monitor", monitor).mode());
    }

    @Override
    public void onFitStart(FitContext fit) {
        fit.requireMetric(WHO, monitor);
        best = mode.worst();
        bestEpoch = 0;
        wait = 0;
    }

    @Override
    public void onEpochEnd(FitContext fit, EpochMetrics epoch) {
        double v = epoch.value(monitor);
        if (mode.improves(v, best, minDelta)) {
            best = v;
            bestEpoch = epoch.epoch();
            wait = 0;
            return;
        }
        wait++;
        if (wait >= patience) {
            fit.stop(WHO + ": " + monitor.column() + " has not improved for " + wait + " epochs (best " + best
                    + " at epoch " + bestEpoch + ")");
        }
    }

    /** The best value seen in the current (or last) fit; {@link Mode#worst()} before any epoch. */
    public double best() {
        return best;
    }

    /** The epoch of {@link #best()}, 1-based; 0 before any improvement. */
    public int bestEpoch() {
        return bestEpoch;
    }

    @Override
    public String toString() {
        return "EarlyStopping[monitor=" + monitor.column() + ", patience=" + patience + ", minDelta=" + minDelta
                + ", mode=" + mode + "]";
    }
}
