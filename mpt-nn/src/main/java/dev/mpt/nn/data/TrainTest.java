package dev.mpt.nn.data;

import java.util.Objects;

/**
 * A dataset's published training and test splits, as loaded by {@link FashionMnist} and {@link Mnist}.
 *
 * @param train the training split
 * @param test  the test split, never used to fit anything
 */
public record TrainTest(Dataset train, Dataset test) {

    /** Validates that both splits are present and have the same feature shape and classes. */
    public TrainTest {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
        if (train.featureSize() != test.featureSize() || train.numClasses() != test.numClasses()) {
            throw new IllegalArgumentException("TrainTest: train " + train + " and test " + test + " differ");
        }
    }

    /**
     * Both splits standardized with the mean and standard deviation of the training split
     * ({@link Standardization#fit(Dataset)}).
     */
    public TrainTest standardize() {
        return normalize(Standardization.fit(train));
    }

    /** Both splits with {@code norm} applied. */
    public TrainTest normalize(Standardization norm) {
        return new TrainTest(train.normalize(norm), test.normalize(norm));
    }
}
