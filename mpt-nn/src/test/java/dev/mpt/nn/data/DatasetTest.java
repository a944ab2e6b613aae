package dev.mpt.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DatasetTest {

    /** n samples of shape [2], sample i = {i, -i}, label i % 3: a batch's rows reveal their indices. */
    private static Dataset indexed(int n) {
        float[] f = new float[2 * n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            f[2 * i] = i;
            f[2 * i + 1] = -i;
            y[i] = i % 3;
        }
        return Dataset.of(f, y, new int[] {2}, 3);
    }

    /** The sample indices of every batch of one pass, checking each row's features against its label. */
    private static List<int[]> indices(Iterable<Batch> batches) {
        List<int[]> out = new ArrayList<>();
        for (Batch b : batches) {
            int[] idx = new int[b.size()];
            for (int k = 0; k < b.size(); k++) {
                idx[k] = (int) b.features()[2 * k];
                assertEquals(-idx[k], b.features()[2 * k + 1]);
                assertEquals(idx[k] % 3, b.labels()[k]);
            }
            assertArrayEquals(new int[] {b.size(), 2}, b.inputShape());
            out.add(idx);
        }
        return out;
    }

    @Test
    void batchSizesIncludeTheLastPartialBatch() {
        Dataset d = indexed(10);
        Batches b = d.batches(3);
        assertEquals(4, b.count());
        List<int[]> idx = indices(b);
        assertEquals(List.of(3, 3, 3, 1), idx.stream().map(a -> a.length).toList());
        assertArrayEquals(new int[] {0, 1, 2}, idx.get(0));
        assertArrayEquals(new int[] {9}, idx.get(3));
        Batches dropped = d.batches(3).dropLast();
        assertEquals(3, dropped.count());
        assertEquals(List.of(3, 3, 3), indices(dropped).stream().map(a -> a.length).toList());
        assertEquals(1, d.batches(10).count());
        assertEquals(1, d.batches(64).count());
        assertEquals(0, d.batches(64).dropLast().count());
        assertFalse(d.batches(64).dropLast().iterator().hasNext());
    }

    @Test
    void shuffledPassVisitsEverySampleOnce() {
        Dataset d = indexed(103);
        Batches batches = d.batches(8, new SplittableRandom(5));
        for (int epoch = 0; epoch < 3; epoch++) {
            int[] seen = new int[103];
            for (int[] idx : indices(batches)) {
                for (int i : idx) {
                    seen[i]++;
                }
            }
            for (int i = 0; i < 103; i++) {
                assertEquals(1, seen[i], "sample " + i + " in epoch " + epoch);
            }
        }
    }

    private static int[] order(Dataset d, Batches b) {
        return indices(b).stream().flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void seededShufflingIsReproducibleAndSeedsDiffer() {
        Dataset d = indexed(50);
        int[] a = order(d, d.batches(7, new SplittableRandom(42)));
        int[] b = order(d, d.batches(7, new SplittableRandom(42)));
        int[] c = order(d, d.batches(7, new SplittableRandom(43)));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertFalse(Arrays.equals(a, sorted), "a seeded shuffle of 50 samples left them in order");
        // each pass draws a new permutation from the same generator
        Batches twice = d.batches(7, new SplittableRandom(42));
        int[] first = order(d, twice);
        int[] second = order(d, twice);
        assertArrayEquals(a, first);
        assertFalse(Arrays.equals(first, second));
    }

    @Test
    void reusedBuffersAreRefilled() {
        Dataset d = indexed(7);
        Iterator<Batch> it = d.batches(3).reuseBuffers().iterator();
        Batch b0 = it.next();
        float[] buf = b0.features();
        assertEquals(0f, buf[0]);
        Batch b1 = it.next();
        assertSame(buf, b1.features());
        assertSame(b0.labels(), b1.labels());
        assertEquals(3f, buf[0]);
        Batch last = it.next();
        assertEquals(1, last.size());
        assertEquals(6f, last.features()[0]);
        assertFalse(it.hasNext());
        assertThrows(NoSuchElementException.class, it::next);
        // without reuse every batch has its own arrays
        Iterator<Batch> fresh = d.batches(3).iterator();
        assertNotEquals(System.identityHashCode(fresh.next().features()),
                System.identityHashCode(fresh.next().features()));
    }

    @Test
    void splitIsDisjointCompleteAndSeeded() {
        Dataset d = indexed(100);
        Dataset.Split s = d.split(0.25, 9);
        assertEquals(75, s.train().size());
        assertEquals(25, s.validation().size());
        boolean[] seen = new boolean[100];
        for (Dataset part : List.of(s.train(), s.validation())) {
            int previous = -1;
            for (int k = 0; k < part.size(); k++) {
                int i = (int) part.features(k)[0];
                assertFalse(seen[i], "sample " + i + " in both parts");
                assertTrue(i > previous, "parts keep the original order");
                previous = i;
                seen[i] = true;
                assertEquals(i % 3, part.label(k));
            }
        }
        Dataset.Split again = d.split(0.25, 9);
        assertArrayEquals(s.validation().labels(), again.validation().labels());
        assertArrayEquals(s.validation().features(3), again.validation().features(3));
        Dataset.Split other = d.split(0.25, 10);
        boolean differs = false;
        for (int k = 0; k < 25; k++) {
            differs |= other.validation().features(k)[0] != s.validation().features(k)[0];
        }
        assertTrue(differs);
        assertEquals(0, d.split(0, 1).validation().size());
        assertEquals(100, d.split(1, 1).validation().size());
        assertThrows(IllegalArgumentException.class, () -> d.split(1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> d.split(Double.NaN, 1));
    }

    @Test
    void normalizationMatchesBigDecimalReference() {
        SplittableRandom rng = new SplittableRandom(3);
        int n = 500;
        int fs = 7;
        float[] f = new float[n * fs];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (rng.nextDouble() * rng.nextDouble()); // skewed values in [0, 1)
        }
        Dataset d = Dataset.of(f, new int[n], new int[] {fs}, 1);
        Standardization norm = Standardization.fit(d);
        // exact reference: mean and variance of the float values in BigDecimal
        MathContext mc = MathContext.DECIMAL128;
        BigDecimal sum = BigDecimal.ZERO;
        for (float v : f) {
            sum = sum.add(new BigDecimal(v));
        }
        BigDecimal mean = sum.divide(BigDecimal.valueOf(f.length), mc);
        BigDecimal sq = BigDecimal.ZERO;
        for (float v : f) {
            BigDecimal dv = new BigDecimal(v).subtract(mean);
            sq = sq.add(dv.multiply(dv));
        }
        double std = sq.divide(BigDecimal.valueOf(f.length), mc).sqrt(mc).doubleValue();
        // Recursive summation of N values in [0, 1) in double: |error| <= (N-1) * u * sum|x| with
        // u = 2^-53, and sum|x| < N, so after dividing by N the mean is off by < (N-1) u, plus u
        // for the division. The squared deviations are also in [0, 1): the variance gets the same
        // bound (plus u for the square), and the mean's error enters it only to second order;
        // std = sqrt(var) then moves by |d var| / (2 std) plus u for the square root.
        double u = 0x1p-53;
        double tolMean = f.length * u;
        double tolStd = (f.length + 1) * u / (2 * std) + u;
        assertEquals(mean.doubleValue(), norm.mean(), tolMean);
        assertEquals(std, norm.std(), tolStd);
        Dataset z = d.normalize(norm);
        for (int i = 0; i < n; i += 37) {
            float[] row = z.features(i);
            for (int j = 0; j < fs; j++) {
                // one double subtraction and division, then one rounding to float
                assertEquals((float) ((f[i * fs + j] - norm.mean()) / norm.std()), row[j]);
            }
        }
        Standardization refit = Standardization.fit(z);
        // Each standardized value is rounded to float, z' = z (1 + e) with |e| <= 2^-24, so the mean
        // moves by <= 2^-24 * mean|z| <= 2^-24 * rms(z) = 2^-24 and the std by <= 2^-24 * rms(z);
        // another 2^-24 covers the double computation of mean and std.
        assertEquals(0, refit.mean(), 2 * 0x1p-24);
        assertEquals(1, refit.std(), 2 * 0x1p-24);
    }

    @Test
    void constantDataGetsUnitStd() {
        Dataset d = Dataset.of(new float[] {2, 2, 2, 2}, new int[] {0, 0}, new int[] {2}, 1);
        Standardization n = Standardization.fit(d);
        assertEquals(2, n.mean());
        assertEquals(1, n.std());
    }

    @Test
    void trainTestStandardizesWithTrainingStatistics() {
        Dataset train = Dataset.of(new float[] {0, 2, 4, 6}, new int[] {0, 1}, new int[] {2}, 2);
        Dataset test = Dataset.of(new float[] {3, 3}, new int[] {1}, new int[] {2}, 2);
        TrainTest s = new TrainTest(train, test).standardize();
        // train mean 3, population std sqrt(5)
        assertArrayEquals(new float[] {0, 0}, s.test().features(0));
        assertEquals((float) (-3 / Math.sqrt(5)), s.train().features(0)[0]);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> Dataset.of(new float[5], new int[2], new int[] {2}, 1));
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> Dataset.of(new float[4], new int[] {0, 3}, new int[] {2}, 3));
        assertTrue(label.getMessage().contains("label 3 of sample 1"), label.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> Dataset.of(new float[] {0, 0, Float.NaN, 0}, new int[2], new int[] {2}, 1));
        assertTrue(nan.getMessage().contains("feature 0 of sample 1 is NaN"), nan.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Dataset.of(new float[] {Float.POSITIVE_INFINITY}, new int[1], new int[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> Dataset.of(new float[0], new int[0], new int[] {0}, 1));
        assertThrows(IllegalArgumentException.class, () -> Dataset.of(new float[0], new int[0], new int[0], 1));
        assertThrows(IllegalArgumentException.class, () -> Dataset.of(new float[0], new int[0], new int[] {1}, 0));
        assertThrows(NullPointerException.class, () -> Dataset.of(null, new int[0], new int[] {1}, 1));
        Dataset d = indexed(4);
        assertThrows(IllegalArgumentException.class, () -> d.batches(0));
        assertThrows(NullPointerException.class, () -> d.batches(2, null));
        assertThrows(IllegalArgumentException.class, () -> d.subset(new int[] {4}));
        assertThrows(IndexOutOfBoundsException.class, () -> d.label(-1));
        assertThrows(IllegalArgumentException.class, () -> new Standardization(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Standardization(Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> new Batch(new float[3], new int[2], 2, new int[] {2}));
        assertThrows(IllegalArgumentException.class, () -> new Batch(new float[4], new int[1], 2, new int[] {2}));
    }

    @Test
    void subsetGathersInOrderWithRepeats() {
        Dataset s = indexed(5).subset(new int[] {4, 0, 4});
        assertEquals(3, s.size());
        assertArrayEquals(new float[] {4, -4}, s.features(0));
        assertArrayEquals(new float[] {0, 0}, s.features(1));
        assertArrayEquals(new int[] {1, 0, 1}, s.labels());
    }
}
