package dev.mpt.optim.train;

/**
 * What one epoch of {@link Trainer#fit} measured; one row of {@link History}.
 *
 * @param epoch            the epoch number, 1-based
 * @param trainLoss        the mean of the epoch's finite batch losses, each weighted by its batch
 *                         size (a batch whose loss overflowed to inf or NaN is left out; its step
 *                         was skipped and counts in {@code skippedSteps}); NaN when none was finite
 * @param valLoss          the mean loss over the validation data ({@link Trainer#evaluate}); NaN
 *                         without validation data
 * @param valAccuracy      the accuracy over classification validation data; NaN without
 *                         validation data or for float targets
 * @param learningRate     the learning rate of the epoch's last step
 * @param lossScale        the loss scale after the epoch (the one the next step will use)
 * @param steps            the step attempts of the epoch (its batches)
 * @param skippedSteps     the steps of the epoch skipped for overflowing gradients
 * @param seconds          the epoch's wall time, validation included
 * @param samplesPerSecond the training samples of the epoch over the time of its training steps
 *                         (validation excluded)
 */
public record EpochMetrics(int epoch, double trainLoss, double valLoss, double valAccuracy, double learningRate,
                           double lossScale, long steps, long skippedSteps, double seconds,
                           double samplesPerSecond) {

    /** The value of {@code metric} in this epoch. */
    public double value(Metric metric) {
        return switch (metric) {
            case TRAIN_LOSS -> trainLoss;
            case VAL_LOSS -> valLoss;
            case VAL_ACCURACY -> valAccuracy;
        };
    }
}
