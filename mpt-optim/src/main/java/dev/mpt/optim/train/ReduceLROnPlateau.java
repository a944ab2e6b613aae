package dev.mpt.optim.train;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the learning rate when a metric has stopped improving, as Keras's
 * {@code ReduceLROnPlateau}: each epoch whose value does not beat the best so far by more than
 * {@code minDelta} adds one to a counter, each that does resets it; when the counter reaches
 * {@code patience}, the rate becomes {@code max(lr * factor, minLr)} (unless it is already at or
 * below {@code minLr}) and the counter restarts. The new rate applies from the next epoch's first
 * step; {@link EpochMetrics#learningRate()} shows it from that epoch on. The change is logged
 * (logger {@code dev.mpt.optim.train.Trainer}, INFO).
 *
 * <p>The rate is changed through {@link Trainer#setLearningRateFactor}, a factor on the
 * optimizer's schedule: with a constant rate this is Keras's behaviour exactly; with a schedule
 * the whole schedule is scaled from then on, and {@code minLr} bounds the rate at the moment of the
 * reduction only.
 *
 * <p>Differences: Keras's {@code patience} is used (a reduction after {@code patience} epochs
 * without improvement; PyTorch's {@code patience=p} waits {@code p + 1}); no {@code cooldown};
 * {@code minDelta} is absolute (PyTorch's default threshold is relative).
 */
public final class ReduceLROnPlateau implements Callback {

    private static final String WHO = "ReduceLROnPlateau";
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final Metric monitor;
    private final Mode mode;
    private final double factor;
    private final int patience;
    private final double minDelta;
    private final double minLr;
    private double best;
    private int wait;

    /**
     * @param monitor  the metric watched, e.g. {@link Metric#VAL_LOSS}
     * @param mode     whether lower or higher values are better
     * @param factor   the multiplier of a reduction, in {@code (0, 1)}
     * @param patience epochs without improvement before a reduction, {@code >= 0} (0 acts as 1, as in Keras)
     * @param minDelta the least change that counts as an improvement, {@code >= 0}
     * @param minLr    the lowest rate a reduction sets, finite and {@code >= 0}
     * @throws IllegalArgumentException if an argument is outside its range
     */
    public ReduceLROnPlateau(Metric monitor, Mode mode, double factor, int patience, double minDelta, double minLr) {
        this.monitor = CallbackChecks.notNull(WHO, "monitor", monitor);
        this.mode = CallbackChecks.notNull(WHO, "mode", mode);
        if (!(factor > 0 && factor < 1)) {
            throw new IllegalArgumentException(WHO + ": factor must be in (0, 1), got " + factor);
        }
        if (!(minLr >= 0) || !Double.isFinite(minLr)) {
            throw new IllegalArgumentException(WHO + ": minLr must be finite and >= 0, got " + minLr);
        }
        this.factor = factor;
        this.patience = CallbackChecks.patience(WHO, patience);
        this.minDelta = CallbackChecks.minDelta(WHO, minDelta);
        this.minLr = minLr;
    }

    /** Any improvement counts; the metric's own {@link Metric#mode()}. */
    public ReduceLROnPlateau(Metric monitor, double factor, int patience, double minLr) {
        this(monitor, CallbackChecks.notNull(WHO, "monitor", monitor).mode(), factor, patience, 0, minLr);
    }

    @Override
    public void onFitStart(FitContext fit) {
        fit.requireMetric(WHO, monitor);
        best = mode.worst();
        wait = 0;
    }

    @Override
    public void onEpochEnd(FitContext fit, EpochMetrics epoch) {
        double v = epoch.value(monitor);
        if (mode.improves(v, best, minDelta)) {
            best = v;
            wait = 0;
            return;
        }
        wait++;
        if (wait >= patience) {
            wait = 0;
            Trainer t = fit.trainer();
            double lr = t.learningRate();
            double base = t.baseLearningRate();
            if (lr > minLr && base > 0) {
                double f = lr * factor >= minLr ? t.learningRateFactor() * factor : minLr / base;
                t.setLearningRateFactor(f);
                LOG.info("{}: {} has not improved for {} epochs; learning rate {} -> {} (epoch {})", WHO,
                        monitor.column(), patience, lr, t.learningRate(), epoch.epoch());
            }
        }
    }

    @Override
    public String toString() {
        return "ReduceLROnPlateau[monitor=" + monitor.column() + ", mode=" + mode + ", factor=" + factor
                + ", patience=" + patience + ", minDelta=" + minDelta + ", minLr=" + minLr + "]";
    }
}
