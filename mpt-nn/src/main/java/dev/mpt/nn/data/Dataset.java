package dev.mpt.nn.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * An in-memory labelled dataset: {@code size()} samples, each a row of {@code featureSize()} floats
 * with shape {@link #featureShape()}, and an int label in {@code [0, numClasses())}.
 *
 * <pre>{@code
 * Dataset digits = Digits.load();
 * Dataset.Split s = digits.split(0.2, 42);
 * Standardization norm = Standardization.fit(s.train());
 * Dataset train = s.train().normalize(norm), val = s.validation().normalize(norm);
 * RandomGenerator rng = new SplittableRandom(7);
 * for (int epoch = 0; epoch < 10; epoch++) {
 *     for (Batch b : train.batches(64, rng)) { ... }   // a fresh shuffle each epoch
 * }
 * }</pre>
 *
 * <p>A dataset is immutable; operations return new datasets. Batching gathers only each batch's
 * rows, it never copies the whole set.
 */
public final class Dataset {

    private final float[] features;
    private final int[] labels;
    private final int[] featureShape;
    private final int featureSize;
    private final int numClasses;

    private Dataset(float[] features, int[] labels, int[] featureShape, int featureSize, int numClasses) {
        this.features = features;
        this.labels = labels;
        this.featureShape = featureShape;
        this.featureSize = featureSize;
        this.numClasses = numClasses;
    }

    /**
     * A dataset over the given arrays, which it takes over (they are not copied; do not modify them
     * afterwards).
     *
     * @param features     {@code labels.length * product(featureShape)} finite floats, sample after sample
     * @param labels       one class index in {@code [0, numClasses)} per sample
     * @param featureShape shape of one sample, e.g. {@code [1, 28, 28]} or {@code [784]}; dimensions >= 1
     * @param numClasses   number of classes, >= 1
     * @throws IllegalArgumentException when lengths disagree, a label is out of range or a feature is
     *                                  NaN or infinite
     */
    public static Dataset of(float[] features, int[] labels, int[] featureShape, int numClasses) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        int[] shape = Objects.requireNonNull(featureShape, "featureShape").clone();
        int featureSize = checkShape("Dataset.of", shape);
        if (numClasses < 1) {
            throw new IllegalArgumentException("Dataset.of: numClasses must be >= 1, got " + numClasses);
        }
        if ((long) labels.length * featureSize != features.length) {
            throw new IllegalArgumentException("Dataset.of: features.length " + features.length + " != labels.length "
                    + labels.length + " * featureSize " + featureSize + " (featureShape " + Arrays.toString(shape) + ")");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("Dataset.of: label " + labels[i] + " of sample " + i
                        + " is outside [0, " + numClasses + ")");
            }
        }
        for (int i = 0; i < features.length; i++) {
            if (!Float.isFinite(features[i])) {
                throw new IllegalArgumentException("Dataset.of: feature " + (i % featureSize) + " of sample "
                        + (i / featureSize) + " is " + features[i]);
            }
        }
        return new Dataset(features, labels, shape, featureSize, numClasses);
    }

    /** Validates a feature shape (1..8 dimensions, each >= 1, product fits an int) and returns its product. */
    static int checkShape(String op, int[] shape) {
        if (shape.length == 0 || shape.length > 8) {
            throw new IllegalArgumentException(op + ": featureShape must have 1..8 dimensions, got "
                    + Arrays.toString(shape));
        }
        long p = 1;
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(op + ": featureShape dimensions must be >= 1, got "
                        + Arrays.toString(shape));
            }
            p *= d;
            if (p > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": featureShape " + Arrays.toString(shape)
                        + " has more than 2^31-1 elements");
            }
        }
        return (int) p;
    }

    /** Number of samples. */
    public int size() {
        return labels.length;
    }

    /** Shape of one sample (a copy). */
    public int[] featureShape() {
        return featureShape.clone();
    }

    /** Floats per sample, the product of {@link #featureShape()}. */
    public int featureSize() {
        return featureSize;
    }

    /** Number of classes; labels lie in {@code [0, numClasses())}. */
    public int numClasses() {
        return numClasses;
    }

    /** The label of sample {@code i}. */
    public int label(int i) {
        return labels[Objects.checkIndex(i, labels.length)];
    }

    /** The features of sample {@code i} (a copy). */
    public float[] features(int i) {
        Objects.checkIndex(i, labels.length);
        return Arrays.copyOfRange(features, i * featureSize, (i + 1) * featureSize);
    }

    /** All labels (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    /** How many samples each class has: {@code counts[c]} for {@code c < numClasses()}. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int l : labels) {
            counts[l]++;
        }
        return counts;
    }

    /** The backing feature array, for in-package readers that do not modify it. */
    float[] featureArray() {
        return features;
    }

    /** Copies sample {@code i}'s features into {@code dst[dstOff ..]} and returns its label. */
    int gather(int i, float[] dst, int dstOff) {
        System.arraycopy(features, i * featureSize, dst, dstOff, featureSize);
        return labels[i];
    }

    /** The samples at {@code indices}, in that order (repeats allowed). */
    public Dataset subset(int[] indices) {
        Objects.requireNonNull(indices, "indices");
        float[] f = new float[Math.multiplyExact(indices.length, featureSize)];
        int[] l = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            if (i < 0 || i >= labels.length) {
                throw new IllegalArgumentException("Dataset.subset: index " + i + " at position " + k
                        + " is outside [0, " + labels.length + ")");
            }
            l[k] = gather(i, f, k * featureSize);
        }
        return new Dataset(f, l, featureShape, featureSize, numClasses);
    }

    /** A training and a validation part of one dataset. */
    public record Split(Dataset train, Dataset validation) {
        /** Validates that both parts are present. */
        public Split {
            Objects.requireNonNull(train, "train");
            Objects.requireNonNull(validation, "validation");
        }
    }

    /**
     * Splits the samples at random: {@code round(size * validationFraction)} go to validation, the
     * rest to training, each part keeping the samples' original order. The same seed gives the same
     * split.
     *
     * @param validationFraction in {@code [0, 1]}
     */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("Dataset.split: validationFraction must be in [0, 1], got "
                    + validationFraction);
        }
        int n = size();
        int nVal = (int) Math.round(n * validationFraction);
        int[] perm = permutation(n, new SplittableRandom(seed));
        int[] val = Arrays.copyOf(perm, nVal);
        int[] train = Arrays.copyOfRange(perm, nVal, n);
        Arrays.sort(val);
        Arrays.sort(train);
        return new Split(subset(train), subset(val));
    }

    /** A new dataset with {@code norm} applied to every feature. */
    public Dataset normalize(Standardization norm) {
        Objects.requireNonNull(norm, "norm");
        float[] f = new float[features.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = norm.apply(features[i]);
        }
        return new Dataset(f, labels, featureShape, featureSize, numClasses);
    }

    /** Batches of {@code batchSize} samples in the dataset's order (for evaluation). */
    public Batches batches(int batchSize) {
        return new Batches(this, batchSize, null, false, false);
    }

    /**
     * Batches of {@code batchSize} samples in a random order; every {@link Batches#iterator()} draws a
     * new permutation from {@code rng}, so iterating once per epoch reshuffles each epoch, and a seeded
     * generator reproduces the whole sequence.
     */
    public Batches batches(int batchSize, RandomGenerator rng) {
        return new Batches(this, batchSize, Objects.requireNonNull(rng, "rng"), false, false);
    }

    /** A uniformly random permutation of {@code 0..n-1} (Fisher-Yates, {@code n-1} draws from {@code rng}). */
    static int[] permutation(int n, RandomGenerator rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public String toString() {
        return "Dataset[size=" + size() + ", featureShape=" + Arrays.toString(featureShape) + ", numClasses="
                + numClasses + "]";
    }
}
