package dev.mpt.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Datasets from the user's own arrays: {@link Dataset#ofRows} and {@link TargetDataset}. */
class OwnDataTest {

    private static void assertMessage(String expected, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertEquals(expected, e.getMessage());
    }

    @Test
    void rowsBecomeSamplesInOrder() {
        float[][] rows = {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
        Dataset d = Dataset.ofRows(rows, new int[] {2, 0, 1}, 3);
        assertEquals(3, d.size());
        assertArrayEquals(new int[] {4}, d.featureShape());
        assertArrayEquals(rows[1], d.features(1));
        assertArrayEquals(new int[] {2, 0, 1}, d.labels());
        rows[1][0] = 99;                                        // copied, not taken over
        assertEquals(5f, d.features(1)[0]);

        Dataset images = Dataset.ofRows(rows, new int[] {1, 2, 2}, new int[] {0, 0, 1}, 2);
        assertArrayEquals(new int[] {3, 1, 2, 2}, images.batches(3).iterator().next().inputShape());
    }

    @Test
    void rowsBadInputs() {
        assertMessage("Dataset.ofRows: row 1 has 3 floats, expected 2 (shape [2])",
                () -> Dataset.ofRows(new float[][] {{1, 2}, {1, 2, 3}}, new int[] {0, 1}, 2));
        assertMessage("Dataset.ofRows: row 1 is null",
                () -> Dataset.ofRows(new float[][] {{1, 2}, null}, new int[] {0, 1}, 2));
        assertMessage("Dataset.ofRows: rows must hold at least one non-null row, got none",
                () -> Dataset.ofRows(new float[0][], new int[0], 2));
        assertMessage("Dataset.of: label 2 of sample 1 is outside [0, 2)",
                () -> Dataset.ofRows(new float[][] {{1}, {2}}, new int[] {0, 2}, 2));
        assertMessage("Dataset.of: features.length 2 != labels.length 3 * featureSize 1 (featureShape [1])",
                () -> Dataset.ofRows(new float[][] {{1}, {2}}, new int[] {0, 1, 1}, 2));
        assertMessage("Dataset.of: feature 1 of sample 0 is NaN",
                () -> Dataset.ofRows(new float[][] {{1, Float.NaN}}, new int[] {0}, 2));
        assertMessage("Dataset.ofRows: featureShape dimensions must be >= 1, got [0]",
                () -> Dataset.ofRows(new float[][] {{}}, new int[] {0}, 2));
        assertThrows(NullPointerException.class, () -> Dataset.ofRows(null, new int[] {0}, 2));
    }

    @Test
    void regressionTargets() {
        float[][] x = {{0, 1}, {1, 0}, {1, 1}};
        TargetDataset d = TargetDataset.regression(x, new float[] {0.5f, -1, 2});
        assertEquals(3, d.size());
        assertArrayEquals(new int[] {1}, d.targetShape());
        TargetBatch b = d.batches(2).iterator().next();
        assertArrayEquals(new int[] {2, 2}, b.inputs().shape());
        assertArrayEquals(new int[] {2, 1}, b.targets().shape());
        assertArrayEquals(new float[] {0.5f, -1}, b.targets().toFloatArray());
        assertArrayEquals(new float[] {0, 1, 1, 0}, b.inputs().toFloatArray());
    }

    @Test
    void shuffledBatchesKeepFeaturesWithTheirTargetsAndCoverEverySample() {
        int n = 10;
        float[][] x = new float[n][];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = new float[] {i, i + 0.5f};
            y[i] = 100 + i;
        }
        TargetDataset d = TargetDataset.regression(x, y);
        List<Float> seen = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        for (TargetBatch b : d.batches(4, new SplittableRandom(3))) {
            sizes.add(b.size());
            float[] f = b.features();
            float[] t = b.targetValues();
            for (int k = 0; k < b.size(); k++) {
                assertEquals(f[2 * k] + 0.5f, f[2 * k + 1]);
                assertEquals(100 + f[2 * k], t[k]);
                seen.add(f[2 * k]);
            }
        }
        assertEquals(List.of(4, 4, 2), sizes);
        float[] all = new float[n];
        for (int i = 0; i < n; i++) {
            all[i] = seen.get(i);
        }
        Arrays.sort(all);
        for (int i = 0; i < n; i++) {
            assertEquals(i, all[i]);
        }
    }

    @Test
    void multiHotTargets() {
        TargetDataset d = TargetDataset.multiHot(new float[][] {{1}, {2}, {3}}, new int[][] {{0, 3}, {}, {2}}, 4);
        assertArrayEquals(new int[] {4}, d.targetShape());
        assertArrayEquals(new float[] {1, 0, 0, 1}, d.targets(0));
        assertArrayEquals(new float[] {0, 0, 0, 0}, d.targets(1));
        assertArrayEquals(new float[] {0, 0, 1, 0}, d.targets(2));
    }

    @Test
    void flatArraysWithShapes() {
        TargetDataset d = TargetDataset.of(new float[12], new int[] {1, 2, 2}, new float[6], new int[] {2});
        assertEquals(3, d.size());
        assertArrayEquals(new int[] {3, 1, 2, 2}, d.batches(3).iterator().next().inputs().shape());
    }

    @Test
    void targetBadInputs() {
        float[][] x = {{0, 1}, {1, 0}};
        assertMessage("TargetDataset.ofRows: 2 rows but 3 targets",
                () -> TargetDataset.regression(x, new float[] {1, 2, 3}));
        assertMessage("TargetDataset.of: target 0 of sample 1 is Infinity",
                () -> TargetDataset.regression(x, new float[] {1, Float.POSITIVE_INFINITY}));
        assertMessage("TargetDataset.of: feature 0 of sample 1 is NaN",
                () -> TargetDataset.regression(new float[][] {{0, 1}, {Float.NaN, 0}}, new float[] {1, 2}));
        assertMessage("TargetDataset.ofRows targets: row 1 has 1 floats, expected 2 (shape [2])",
                () -> TargetDataset.ofRows(x, new float[][] {{1, 2}, {3}}));
        assertMessage("TargetDataset.multiHot: label 4 of sample 0 is outside [0, 4)",
                () -> TargetDataset.multiHot(x, new int[][] {{4}, {}}, 4));
        assertMessage("TargetDataset.multiHot: label 1 appears twice in sample 1",
                () -> TargetDataset.multiHot(x, new int[][] {{0}, {1, 1}}, 4));
        assertMessage("TargetDataset.multiHot: numClasses must be >= 1, got 0",
                () -> TargetDataset.multiHot(x, new int[][] {{}, {}}, 0));
        assertMessage("TargetDataset.multiHot: labelSets[1] is null",
                () -> TargetDataset.multiHot(x, new int[][] {{0}, null}, 4));
        assertMessage("TargetDataset.of: features.length 5 (featureShape [2]) and targets.length 2 (targetShape [1])"
                + " do not describe the same number of samples",
                () -> TargetDataset.of(new float[5], new int[] {2}, new float[2], new int[] {1}));
        assertMessage("TargetDataset.batches: batchSize must be >= 1, got 0",
                () -> TargetDataset.regression(x, new float[] {1, 2}).batches(0));
        assertMessage("TargetBatch: size must be >= 1, got 0",
                () -> new TargetBatch(new float[0], new float[0], 0, new int[] {1}, new int[] {1}));
    }
}
