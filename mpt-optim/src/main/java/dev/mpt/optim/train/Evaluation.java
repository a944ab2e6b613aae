package dev.mpt.optim.train;

/**
 * The result of {@link Trainer#evaluate}: classification accuracy and mean loss over a dataset.
 *
 * @param accuracy the fraction of samples whose largest output is at their label, in [0, 1]; NaN
 *                 for float targets (a {@link dev.mpt.nn.data.TargetDataset})
 * @param meanLoss the loss averaged over samples (each batch's mean loss weighted by its size)
 * @param samples  the number of samples evaluated
 */
public record Evaluation(double accuracy, double meanLoss, int samples) {
}
