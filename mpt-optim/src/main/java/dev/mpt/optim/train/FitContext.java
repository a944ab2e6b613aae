package dev.mpt.optim.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link Callback} sees of a running {@link Trainer#fit}: the trainer, the epoch, the
 * history so far, and a way to stop after the current epoch (Keras's
 * {@code model.stop_training = True}).
 */
public final class FitContext {

    private final Trainer trainer;
    private final int epochs;
    private final long stepsPerEpoch;
    private final boolean validation;
    private final boolean classification;
    private final List<EpochMetrics> history = new ArrayList<>();
    private int epoch;
    private String stopReason;

    FitContext(Trainer trainer, int epochs, long stepsPerEpoch, boolean validation, boolean classification) {
        this.trainer = trainer;
        this.epochs = epochs;
        this.stepsPerEpoch = stepsPerEpoch;
        this.validation = validation;
        this.classification = classification;
    }

    /** The trainer being fitted (to save, restore, or change its learning-rate factor). */
    public Trainer trainer() {
        return trainer;
    }

    /** The number of epochs the fit was asked for. */
    public int epochs() {
        return epochs;
    }

    /** The current epoch, 1-based; 0 before the first ({@link Callback#onFitStart}). */
    public int epoch() {
        return epoch;
    }

    /** The number of steps (batches) in each epoch. */
    public long stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** The epochs finished so far. */
    public History history() {
        return new History(history, validation, classification, stopReason);
    }

    /** Whether this fit produces values of {@code metric} (validation metrics need validation data). */
    public boolean has(Metric metric) {
        return history().has(metric);
    }

    /**
     * Asks the fit to stop after the current epoch; the first reason given is kept in
     * {@link History#stopReason()}.
     */
    public void stop(String reason) {
        Objects.requireNonNull(reason, "FitContext.stop: reason is null");
        if (stopReason == null) {
            stopReason = reason;
        }
    }

    /** Whether a callback asked to stop. */
    public boolean stopRequested() {
        return stopReason != null;
    }

    /**
     * Throws when this fit does not produce {@code metric}: the check each built-in callback makes
     * in {@link Callback#onFitStart}.
     *
     * @param who the callback, for the message
     */
    void requireMetric(String who, Metric metric) {
        if (!has(metric)) {
            throw new IllegalArgumentException(who + ": monitors " + metric.column() + ", but this fit "
                    + (metric == Metric.VAL_ACCURACY && validation
                            ? "validates on float targets, which have no accuracy; monitor val_loss"
                            : "has no validation data; pass validation data to fit, or monitor train_loss"));
        }
    }

    void startEpoch(int e) {
        epoch = e;
    }

    void add(EpochMetrics m) {
        history.add(m);
    }

    String stopReason() {
        return stopReason;
    }
}
