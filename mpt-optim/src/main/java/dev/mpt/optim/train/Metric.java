package dev.mpt.optim.train;

/**
 * A per-epoch value of {@link History} that callbacks can monitor; {@link #column()} is its name
 * in {@link History#writeCsv} (and Keras's name for it, except that Keras calls the training loss
 * {@code loss}).
 */
public enum Metric {
    /** The epoch's mean training loss ({@link EpochMetrics#trainLoss()}); lower is better. */
    TRAIN_LOSS("train_loss", Mode.MIN),
    /** The mean loss over the validation data; lower is better. */
    VAL_LOSS("val_loss", Mode.MIN),
    /** The accuracy over classification validation data; higher is better. */
    VAL_ACCURACY("val_accuracy", Mode.MAX);

    private final String column;
    private final Mode mode;

    Metric(String column, Mode mode) {
        this.column = column;
        this.mode = mode;
    }

    /** The CSV column and log name, e.g. {@code val_loss}. */
    public String column() {
        return column;
    }

    /** The direction in which this metric improves (what Keras's {@code mode="auto"} picks). */
    public Mode mode() {
        return mode;
    }
}
