package dev.mpt.nn.loss;

import dev.mpt.core.Tensor;

/**
 * A loss: a scalar FP32 tensor with autograd from a model's output and the targets of a batch.
 * The target type says what a loss needs: {@code Loss<int[]>} for class labels (the
 * {@code int[] labels()} of a {@link dev.mpt.nn.data.Batch}), {@code Loss<Tensor>} for
 * regression targets. The methods of {@link Losses} fit as method references:
 *
 * <pre>{@code
 * Loss<int[]> ce = Losses::crossEntropy;
 * Loss<int[]> smoothed = (logits, labels) -> Losses.crossEntropy(logits, labels, 0.1);
 * Loss<Tensor> mse = Losses::mse;
 * Tensor loss = ce.apply(model.forward(batch.inputs()), batch.labels());
 * loss.backward();
 * }</pre>
 *
 * @param <T> the target type, {@code int[]} or {@link Tensor}
 */
@FunctionalInterface
public interface Loss<T> {

    /** The loss of {@code output} against {@code targets}: a rank-0 FP32 tensor. */
    Tensor apply(Tensor output, T targets);
}
