package dev.mpt.nn.data;

/**
 * Standardization of features: {@code x' = (x - mean) / std}, computed in double and rounded once
 * to float. Fit it on the training split ({@link #fit(Dataset)}) and apply the same values to every
 * split, so validation and test data never leak into the statistics.
 *
 * @param mean subtracted from every feature
 * @param std  every feature is divided by it; finite and positive
 */
public record Standardization(double mean, double std) {

    /** Validates that {@code mean} is finite and {@code std} finite and positive. */
    public Standardization {
        if (!Double.isFinite(mean)) {
            throw new IllegalArgumentException("Standardization: mean must be finite, got " + mean);
        }
        if (!(std > 0) || !Double.isFinite(std)) {
            throw new IllegalArgumentException("Standardization: std must be finite and > 0, got " + std);
        }
    }

    /**
     * The mean and population standard deviation of all feature values of {@code train}, over every
     * sample and position: {@code mean = sum x / N}, {@code std = sqrt(sum (x - mean)^2 / N)}, two
     * passes accumulated in double. A constant dataset (std 0) gets std 1, so applying it only
     * centres the data.
     */
    public static Standardization fit(Dataset train) {
        float[] x = train.featureArray();
        if (x.length == 0) {
            throw new IllegalArgumentException("Standardization.fit: dataset has no feature values");
        }
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        double mean = sum / x.length;
        double sq = 0;
        for (float v : x) {
            double d = v - mean;
            sq += d * d;
        }
        double std = Math.sqrt(sq / x.length);
        return new Standardization(mean, std > 0 ? std : 1.0);
    }

    /** {@code (float) ((x - mean) / std)}. */
    public float apply(float x) {
        return (float) ((x - mean) / std);
    }
}
