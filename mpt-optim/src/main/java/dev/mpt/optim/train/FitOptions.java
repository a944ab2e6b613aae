package dev.mpt.optim.train;

import java.util.List;
import java.util.Objects;

/**
 * Settings of one {@link Trainer#fit}: epochs, batch size, shuffling, callbacks. An immutable
 * value; each method returns a copy with one setting changed and checks it at once:
 *
 * <pre>{@code
 * FitOptions o = FitOptions.of(20).batchSize(64).callbacks(new EarlyStopping(Metric.VAL_LOSS, 3));
 * }</pre>
 */
public final class FitOptions {

    /** Default batch size (Keras's {@code fit} default). */
    public static final int DEFAULT_BATCH_SIZE = 32;

    private final int epochs;
    private final int batchSize;
    private final boolean shuffle;
    private final int evalBatchSize;
    private final List<Callback> callbacks;

    private FitOptions(int epochs, int batchSize, boolean shuffle, int evalBatchSize, List<Callback> callbacks) {
        this.epochs = epochs;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.evalBatchSize = evalBatchSize;
        this.callbacks = callbacks;
    }

    /**
     * {@code epochs} epochs in batches of {@link #DEFAULT_BATCH_SIZE}, shuffled by the trainer's
     * generator, validated in batches of 256, no callbacks.
     *
     * @throws IllegalArgumentException if {@code epochs < 1}
     */
    public static FitOptions of(int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("Trainer.fit: epochs must be >= 1, got " + epochs);
        }
        return new FitOptions(epochs, DEFAULT_BATCH_SIZE, true, Trainer.EVAL_BATCH, List.of());
    }

    /** Training batches of {@code size} samples (the last one of an epoch may be smaller). */
    public FitOptions batchSize(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("FitOptions.batchSize: size must be >= 1, got " + size);
        }
        return new FitOptions(epochs, size, shuffle, evalBatchSize, callbacks);
    }

    /**
     * Whether each epoch visits the training samples in a fresh random order drawn from
     * {@link Trainer#random()} (default true; saved in checkpoints, so a restored run draws the same
     * orders), or in the dataset's order.
     */
    public FitOptions shuffle(boolean on) {
        return new FitOptions(epochs, batchSize, on, evalBatchSize, callbacks);
    }

    /** Validation batches of {@code size} samples (default 256; affects speed and memory only). */
    public FitOptions evalBatchSize(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("FitOptions.evalBatchSize: size must be >= 1, got " + size);
        }
        return new FitOptions(epochs, batchSize, shuffle, size, callbacks);
    }

    /** The callbacks, run in this order (replacing any set before). */
    public FitOptions callbacks(Callback... list) {
        Objects.requireNonNull(list, "FitOptions.callbacks: list is null");
        for (int i = 0; i < list.length; i++) {
            if (list[i] == null) {
                throw new NullPointerException("FitOptions.callbacks: callback " + i + " is null");
            }
        }
        return new FitOptions(epochs, batchSize, shuffle, evalBatchSize, List.of(list));
    }

    /** The number of epochs. */
    public int epochs() {
        return epochs;
    }

    /** The training batch size. */
    public int batchSize() {
        return batchSize;
    }

    /** Whether training batches are shuffled. */
    public boolean shuffle() {
        return shuffle;
    }

    /** The validation batch size. */
    public int evalBatchSize() {
        return evalBatchSize;
    }

    /** The callbacks, in order. */
    public List<Callback> callbacks() {
        return callbacks;
    }

    @Override
    public String toString() {
        return "FitOptions[epochs=" + epochs + ", batchSize=" + batchSize + ", shuffle=" + shuffle + ", evalBatchSize="
                + evalBatchSize + ", callbacks=" + callbacks + "]";
    }
}
