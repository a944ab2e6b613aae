package dev.mpt.nn.data;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * An in-memory dataset whose targets are floats rather than class indices: regression values, or
 * multi-hot label vectors for multi-label classification. Each sample is a row of features of shape
 * {@link #featureShape()} and a row of targets of shape {@link #targetShape()}.
 *
 * <pre>{@code
 * TargetDataset houses = TargetDataset.regression(rows, prices);            // float[][] x, float[] y
 * for (TargetBatch b : houses.batches(32, rng)) {
 *     Tensor loss = Losses.mse(model.forward(b.inputs()), b.targets());
 *     ...
 * }
 * TargetDataset tags = TargetDataset.multiHot(rows, new int[][] {{0, 3}, {2}}, 5);
 * // train with Losses.bceWithLogits(model.forward(b.inputs()), b.targets())
 * }</pre>
 *
 * <p>Immutable; the factories copy their arrays. Every feature and target must be finite.
 */
public final class TargetDataset {

    private final float[] features;
    private final float[] targets;
    private final int[] featureShape;
    private final int[] targetShape;
    private final int featureSize;
    private final int targetSize;
    private final int size;

    private TargetDataset(float[] features, int[] featureShape, float[] targets, int[] targetShape, int size) {
        this.features = features;
        this.targets = targets;
        this.featureShape = featureShape;
        this.targetShape = targetShape;
        this.featureSize = Dataset.checkShape("TargetDataset", featureShape);
        this.targetSize = Dataset.checkShape("TargetDataset", targetShape);
        this.size = size;
    }

    /**
     * Samples given flat: {@code features} holds {@code n * product(featureShape)} floats and
     * {@code targets} {@code n * product(targetShape)}, sample after sample (both copied).
     *
     * @throws IllegalArgumentException when the lengths do not give the same sample count, a shape
     *                                  is invalid, or a value is NaN or infinite
     */
    public static TargetDataset of(float[] features, int[] featureShape, float[] targets, int[] targetShape) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(targets, "targets");
        int[] fShape = Objects.requireNonNull(featureShape, "featureShape").clone();
        int[] tShape = Objects.requireNonNull(targetShape, "targetShape").clone();
        int fs = Dataset.checkShape("TargetDataset.of", fShape);
        int ts = Dataset.checkShape("TargetDataset.of", tShape);
        if (features.length % fs != 0 || targets.length % ts != 0 || features.length / fs != targets.length / ts) {
            throw new IllegalArgumentException("TargetDataset.of: features.length " + features.length
                    + " (featureShape " + Arrays.toString(fShape) + ") and targets.length " + targets.length
                    + " (targetShape " + Arrays.toString(tShape) + ") do not describe the same number of samples");
        }
        checkFinite("feature", features, fs);
        checkFinite("target", targets, ts);
        return new TargetDataset(features.clone(), fShape, targets.clone(), tShape, features.length / fs);
    }

    /** Regression with one value per sample: {@code rows[i]} has target {@code targets[i]}; shape {@code [1]}. */
    public static TargetDataset regression(float[][] rows, float[] targets) {
        Objects.requireNonNull(targets, "targets");
        float[][] t = new float[targets.length][];
        for (int i = 0; i < t.length; i++) {
            t[i] = new float[] {targets[i]};
        }
        return ofRows(rows, t);
    }

    /** Samples and targets as rows, each side of one length ({@code [rowLength]} shapes). */
    public static TargetDataset ofRows(float[][] rows, float[][] targets) {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(targets, "targets");
        if (rows.length != targets.length) {
            throw new IllegalArgumentException("TargetDataset.ofRows: " + rows.length + " rows but " + targets.length
                    + " targets");
        }
        if (rows.length == 0 || rows[0] == null || targets[0] == null) {
            throw new IllegalArgumentException("TargetDataset.ofRows: needs at least one non-null row and target");
        }
        int[] fShape = {rows[0].length};
        int[] tShape = {targets[0].length};
        return of(Dataset.flatten("TargetDataset.ofRows", rows, fShape), fShape,
                Dataset.flatten("TargetDataset.ofRows targets", targets, tShape), tShape);
    }

    /**
     * Multi-label classification: sample {@code i} belongs to every class in {@code labelSets[i]}
     * (possibly none); its target is the multi-hot row of {@code numClasses} zeros and ones.
     *
     * @throws IllegalArgumentException when a class index is outside {@code [0, numClasses)} or
     *                                  repeated within a sample, or the counts disagree
     */
    public static TargetDataset multiHot(float[][] rows, int[][] labelSets, int numClasses) {
        Objects.requireNonNull(labelSets, "labelSets");
        if (numClasses < 1) {
            throw new IllegalArgumentException("TargetDataset.multiHot: numClasses must be >= 1, got " + numClasses);
        }
        float[][] t = new float[labelSets.length][numClasses];
        for (int i = 0; i < labelSets.length; i++) {
            int[] set = labelSets[i];
            if (set == null) {
                throw new IllegalArgumentException("TargetDataset.multiHot: labelSets[" + i + "] is null");
            }
            for (int c : set) {
                if (c < 0 || c >= numClasses) {
                    throw new IllegalArgumentException("TargetDataset.multiHot: label " + c + " of sample " + i
                            + " is outside [0, " + numClasses + ")");
                }
                if (t[i][c] != 0) {
                    throw new IllegalArgumentException("TargetDataset.multiHot: label " + c + " appears twice in sample " + i);
                }
                t[i][c] = 1;
            }
        }
        return ofRows(rows, t);
    }

    private static void checkFinite(String what, float[] v, int rowSize) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException("TargetDataset.of: " + what + " " + (i % rowSize) + " of sample "
                        + (i / rowSize) + " is " + v[i]);
            }
        }
    }

    /** Number of samples. */
    public int size() {
        return size;
    }

    /** Shape of one sample's features (a copy). */
    public int[] featureShape() {
        return featureShape.clone();
    }

    /** Shape of one sample's targets (a copy). */
    public int[] targetShape() {
        return targetShape.clone();
    }

    /** The features of sample {@code i} (a copy). */
    public float[] features(int i) {
        Objects.checkIndex(i, size);
        return Arrays.copyOfRange(features, i * featureSize, (i + 1) * featureSize);
    }

    /** The targets of sample {@code i} (a copy). */
    public float[] targets(int i) {
        Objects.checkIndex(i, size);
        return Arrays.copyOfRange(targets, i * targetSize, (i + 1) * targetSize);
    }

    /** Batches of {@code batchSize} samples in the dataset's order; the last may be smaller. */
    public Iterable<TargetBatch> batches(int batchSize) {
        return batches(batchSize, null);
    }

    /**
     * Batches of {@code batchSize} samples in a random order, a fresh permutation from {@code rng}
     * for every {@code iterator()} (each epoch); {@code rng == null} keeps the dataset's order.
     */
    public Iterable<TargetBatch> batches(int batchSize, RandomGenerator rng) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("TargetDataset.batches: batchSize must be >= 1, got " + batchSize);
        }
        return () -> iterator(batchSize, rng == null ? null : Dataset.permutation(size, rng));
    }

    private Iterator<TargetBatch> iterator(int batchSize, int[] order) {
        return new Iterator<>() {
            private int pos;

            @Override
            public boolean hasNext() {
                return pos < size;
            }

            @Override
            public TargetBatch next() {
                if (pos >= size) {
                    throw new NoSuchElementException("TargetDataset.batches: this pass is over");
                }
                int m = Math.min(batchSize, size - pos);
                float[] f = new float[m * featureSize];
                float[] t = new float[m * targetSize];
                for (int k = 0; k < m; k++) {
                    int i = order == null ? pos + k : order[pos + k];
                    System.arraycopy(features, i * featureSize, f, k * featureSize, featureSize);
                    System.arraycopy(targets, i * targetSize, t, k * targetSize, targetSize);
                }
                pos += m;
                return new TargetBatch(f, t, m, featureShape, targetShape);
            }
        };
    }

    @Override
    public String toString() {
        return "TargetDataset[size=" + size + ", featureShape=" + Arrays.toString(featureShape) + ", targetShape="
                + Arrays.toString(targetShape) + "]";
    }
}
