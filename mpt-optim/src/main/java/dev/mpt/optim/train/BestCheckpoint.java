package dev.mpt.optim.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Saves the trainer ({@link Trainer#save}) to one file after every epoch whose monitored metric
 * is better than every earlier epoch's (strictly; Keras's
 * {@code ModelCheckpoint(save_best_only=True)}), and with {@code restoreBest} restores that file
 * ({@link Trainer#restore}) when the fit ends, early stop or not.
 *
 * <p>Difference from Keras's {@code restore_best_weights}: the restore brings back the whole
 * trainer as it was after the best epoch (weights bit for bit, FP32 masters, optimizer state, loss
 * scale, step counters, learning-rate factor, random generator), not only the weights, so training
 * that continues afterwards continues from the best epoch. The {@link History} keeps every epoch
 * that ran.
 */
public final class BestCheckpoint implements Callback {

    private static final String WHO = "BestCheckpoint";

    private final Path file;
    private final Metric monitor;
    private final Mode mode;
    private final boolean restoreBest;
    private double best;
    private int bestEpoch;

    /**
     * @param file        where to save; its directory must exist when the fit starts
     * @param monitor     the metric watched, e.g. {@link Metric#VAL_ACCURACY}
     * @param mode        whether lower or higher values are better
     * @param restoreBest whether to restore the best epoch's checkpoint when the fit ends
     */
    public BestCheckpoint(Path file, Metric monitor, Mode mode, boolean restoreBest) {
        this.file = CallbackChecks.notNull(WHO, "file", file);
        this.monitor = CallbackChecks.notNull(WHO, "monitor", monitor);
        this.mode = CallbackChecks.notNull(WHO, "mode", mode);
        this.restoreBest = restoreBest;
    }

    /** With the metric's own {@link Metric#mode()}. */
    public BestCheckpoint(Path file, Metric monitor, boolean restoreBest) {
        this(file, monitor, CallbackChecks.notNull(WHO, "monitor", monitor).mode(), restoreBest);
    }

    @Override
    public void onFitStart(FitContext fit) {
        fit.requireMetric(WHO, monitor);
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(WHO + ": the directory of " + file + " does not exist; create it "
                    + "before the fit");
        }
        best = mode.worst();
        bestEpoch = 0;
    }

    @Override
    public void onEpochEnd(FitContext fit, EpochMetrics epoch) {
        double v = epoch.value(monitor);
        if (mode.improves(v, best, 0)) {
            best = v;
            bestEpoch = epoch.epoch();
            try {
                fit.trainer().save(file);
            } catch (IOException e) {
                throw new UncheckedIOException(WHO + ": cannot save epoch " + epoch.epoch() + " to " + file, e);
            }
        }
    }

    @Override
    public void onFitEnd(FitContext fit, History history) {
        if (restoreBest && bestEpoch > 0) {
            try {
                fit.trainer().restore(file);
            } catch (IOException e) {
                throw new UncheckedIOException(WHO + ": cannot restore epoch " + bestEpoch + " from " + file, e);
            }
        }
    }

    /** The best value seen in the current (or last) fit; {@link Mode#worst()} before any epoch. */
    public double best() {
        return best;
    }

    /** The epoch saved last (the best), 1-based; 0 when none was saved. */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** The checkpoint file. */
    public Path file() {
        return file;
    }

    @Override
    public String toString() {
        return "BestCheckpoint[file=" + file + ", monitor=" + monitor.column() + ", mode=" + mode + ", restoreBest="
                + restoreBest + "]";
    }
}
