package dev.mpt.nn.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.random.RandomGenerator;

/**
 * The mini-batches of one {@link Dataset}, made by {@link Dataset#batches(int)} (dataset order) or
 * {@link Dataset#batches(int, RandomGenerator)} (shuffled). Each {@link #iterator()} is one pass
 * over the data (one epoch): it draws a fresh permutation, then gathers each batch's rows only when
 * the batch is requested. The last batch holds the remaining {@code size % batchSize} samples unless
 * {@link #dropLast()} is set.
 *
 * <p>By default every batch gets new arrays, so batches may be kept. {@link #reuseBuffers()} makes
 * the iterator refill the same arrays instead (one set for full batches, one for the last partial
 * batch): no allocation per step, but a batch is only valid until the next {@code next()}.
 */
public final class Batches implements Iterable<Batch> {

    private final Dataset data;
    private final int batchSize;
    private final RandomGenerator rng;
    private final boolean dropLast;
    private final boolean reuse;

    Batches(Dataset data, int batchSize, RandomGenerator rng, boolean dropLast, boolean reuse) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("Dataset.batches: batchSize must be >= 1, got " + batchSize);
        }
        this.data = data;
        this.batchSize = batchSize;
        this.rng = rng;
        this.dropLast = dropLast;
        this.reuse = reuse;
    }

    /** The same batches without the last one when it would be smaller than the batch size. */
    public Batches dropLast() {
        return new Batches(data, batchSize, rng, true, reuse);
    }

    /** The same batches, written into arrays reused from one batch to the next. */
    public Batches reuseBuffers() {
        return new Batches(data, batchSize, rng, dropLast, true);
    }

    /** Number of batches per pass. */
    public int count() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The batch size (the last batch may be smaller unless dropped). */
    public int batchSize() {
        return batchSize;
    }

    /** One pass over the data; for shuffled batches, draws a new permutation from the generator. */
    @Override
    public Iterator<Batch> iterator() {
        int n = data.size();
        int[] order = rng == null ? null : Dataset.permutation(n, rng);
        int end = dropLast ? n / batchSize * batchSize : n;
        return new Iterator<>() {
            private int pos;
            private float[] fullFeatures;
            private int[] fullLabels;
            private float[] lastFeatures;
            private int[] lastLabels;

            @Override
            public boolean hasNext() {
                return pos < end;
            }

            @Override
            public Batch next() {
                if (pos >= end) {
                    throw new NoSuchElementException("Batches: this pass is over; call iterator() for the next epoch");
                }
                int m = Math.min(batchSize, end - pos);
                int fs = data.featureSize();
                float[] f;
                int[] l;
                if (!reuse) {
                    f = new float[Math.multiplyExact(m, fs)];
                    l = new int[m];
                } else if (m == batchSize) {
                    if (fullFeatures == null) {
                        fullFeatures = new float[Math.multiplyExact(m, fs)];
                        fullLabels = new int[m];
                    }
                    f = fullFeatures;
                    l = fullLabels;
                } else {
                    if (lastFeatures == null) {
                        lastFeatures = new float[m * fs];
                        lastLabels = new int[m];
                    }
                    f = lastFeatures;
                    l = lastLabels;
                }
                for (int k = 0; k < m; k++) {
                    int i = order == null ? pos + k : order[pos + k];
                    l[k] = data.gather(i, f, k * fs);
                }
                pos += m;
                return new Batch(f, l, m, data.featureShape());
            }
        };
    }

    @Override
    public String toString() {
        return "Batches[batchSize=" + batchSize + ", shuffled=" + (rng != null) + ", dropLast=" + dropLast
                + ", reuseBuffers=" + reuse + ", count=" + count() + "]";
    }
}
