package dev.mpt.nn.data;

import dev.mpt.core.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * One mini-batch: {@code size} samples' features, row-major ({@code size x featureSize} floats), and
 * their class labels.
 *
 * <p>The arrays are not copied: a batch from {@link Batches#reuseBuffers()} is overwritten by the next
 * one.
 *
 * @param features     {@code size * product(featureShape)} floats, sample after sample
 * @param labels       {@code size} class indices
 * @param size         number of samples
 * @param featureShape shape of one sample, e.g. {@code [1, 28, 28]}
 */
public record Batch(float[] features, int[] labels, int size, int[] featureShape) {

    /** Validates that the arrays' lengths agree with {@code size} and {@code featureShape}. */
    public Batch {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(featureShape, "featureShape");
        featureShape = featureShape.clone();
        int featureSize = Dataset.checkShape("Batch", featureShape);
        if (size < 1) {
            throw new IllegalArgumentException("Batch: size must be >= 1, got " + size);
        }
        if (labels.length != size) {
            throw new IllegalArgumentException("Batch: labels.length " + labels.length + " != size " + size);
        }
        if (features.length != (long) size * featureSize) {
            throw new IllegalArgumentException("Batch: features.length " + features.length + " != size " + size
                    + " * featureSize " + featureSize + " (featureShape " + Arrays.toString(featureShape) + ")");
        }
    }

    /** Shape of one sample (a copy). */
    @Override
    public int[] featureShape() {
        return featureShape.clone();
    }

    /** Shape of the whole input: {@code [size, featureShape...]}. */
    public int[] inputShape() {
        int[] s = new int[featureShape.length + 1];
        s[0] = size;
        System.arraycopy(featureShape, 0, s, 1, featureShape.length);
        return s;
    }

    /**
     * The features as a new FP32 tensor of shape {@link #inputShape()} (a copy, so it stays valid
     * when a reused batch buffer is overwritten); convert with {@code to(DType.FP16)} for an FP16
     * model.
     */
    public Tensor inputs() {
        return Tensor.of(features, inputShape());
    }

    /**
     * The features as a new FP32 tensor of shape {@code [size, featureSize()]}, for models that
     * start with a {@code Linear} layer.
     */
    public Tensor flatInputs() {
        return Tensor.of(features, size, featureSize());
    }

    /** Number of floats per sample. */
    public int featureSize() {
        return features.length / size;
    }

    @Override
    public String toString() {
        return "Batch[size=" + size + ", featureShape=" + Arrays.toString(featureShape) + "]";
    }
}
