package dev.mpt.nn.data;

import dev.mpt.core.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * One mini-batch of a {@link TargetDataset}: {@code size} samples' features and float targets,
 * row-major. The arrays are not copied.
 *
 * @param features     {@code size * product(featureShape)} floats
 * @param targetValues {@code size * product(targetShape)} floats (see {@link #targets()} for a tensor)
 * @param size         number of samples, >= 1
 * @param featureShape shape of one sample's features
 * @param targetShape  shape of one sample's targets
 */
public record TargetBatch(float[] features, float[] targetValues, int size, int[] featureShape, int[] targetShape) {

    /** Validates that the arrays' lengths agree with {@code size} and the shapes. */
    public TargetBatch {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(targetValues, "targetValues");
        featureShape = Objects.requireNonNull(featureShape, "featureShape").clone();
        targetShape = Objects.requireNonNull(targetShape, "targetShape").clone();
        if (size < 1) {
            throw new IllegalArgumentException("TargetBatch: size must be >= 1, got " + size);
        }
        long fs = Dataset.checkShape("TargetBatch", featureShape);
        long ts = Dataset.checkShape("TargetBatch", targetShape);
        if (features.length != size * fs || targetValues.length != size * ts) {
            throw new IllegalArgumentException("TargetBatch: features.length " + features.length + " and targetValues.length "
                    + targetValues.length + " do not match size " + size + " x featureShape " + Arrays.toString(featureShape)
                    + " / targetShape " + Arrays.toString(targetShape));
        }
    }

    /** The features as a new FP32 tensor of shape {@code [size, featureShape...]}. */
    public Tensor inputs() {
        return Tensor.of(features, withBatch(featureShape));
    }

    /** The targets as a new FP32 tensor of shape {@code [size, targetShape...]}. */
    public Tensor targets() {
        return Tensor.of(targetValues, withBatch(targetShape));
    }

    @Override
    public int[] featureShape() {
        return featureShape.clone();
    }

    @Override
    public int[] targetShape() {
        return targetShape.clone();
    }

    private int[] withBatch(int[] shape) {
        int[] s = new int[shape.length + 1];
        s[0] = size;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    @Override
    public String toString() {
        return "TargetBatch[size=" + size + ", featureShape=" + Arrays.toString(featureShape) + ", targetShape="
                + Arrays.toString(targetShape) + "]";
    }
}
