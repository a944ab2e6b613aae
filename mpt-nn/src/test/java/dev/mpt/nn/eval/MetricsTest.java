package dev.mpt.nn.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Confusion matrix and top-k against counts worked out by hand (exact rationals, then double). */
class MetricsTest {

    private static void assertMessage(String expected, Runnable r) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, r::run).getMessage());
    }

    @Test
    void perClassPrecisionRecallF1() {
        //               true:  0  0  0  1  1  2  2  2  2
        int[] labels    = {0, 0, 0, 1, 1, 2, 2, 2, 2};
        int[] predicted = {0, 0, 1, 1, 2, 2, 2, 2, 0};
        ConfusionMatrix cm = ConfusionMatrix.of(labels, predicted, 4);
        assertEquals(2, cm.count(0, 0));
        assertEquals(1, cm.count(0, 1));
        assertEquals(1, cm.count(2, 0));
        assertEquals(9, cm.total());
        assertEquals(6.0 / 9, cm.accuracy(), 0);
        // class 0: TP 2, predicted as 0: 3, support 3
        assertEquals(2.0 / 3, cm.precision(0), 0);
        assertEquals(2.0 / 3, cm.recall(0), 0);
        // class 1: TP 1, predicted 2, support 2
        assertEquals(0.5, cm.precision(1), 0);
        assertEquals(0.5, cm.recall(1), 0);
        // class 2: TP 3, predicted 4, support 4 -> F1 3/4
        assertEquals(0.75, cm.f1(2), 1e-15);
        // class 3: absent and never predicted -> 0 by convention
        assertEquals(0, cm.precision(3));
        assertEquals(0, cm.recall(3));
        assertEquals(0, cm.f1(3));
        assertEquals((2.0 / 3 + 0.5 + 0.75 + 0) / 4, cm.macroF1(), 1e-15);
        assertEquals(4, cm.support(2));
    }

    @Test
    void confusionBadInputs() {
        assertMessage("ConfusionMatrix.of: 2 labels but 1 predictions",
                () -> ConfusionMatrix.of(new int[] {0, 1}, new int[] {0}, 2));
        assertMessage("ConfusionMatrix.of: label 2 of sample 0 is outside [0, 2)",
                () -> ConfusionMatrix.of(new int[] {2}, new int[] {0}, 2));
        assertMessage("ConfusionMatrix.of: prediction -1 of sample 0 is outside [0, 2)",
                () -> ConfusionMatrix.of(new int[] {0}, new int[] {-1}, 2));
        assertMessage("ConfusionMatrix.of: numClasses must be >= 1, got 0",
                () -> ConfusionMatrix.of(new int[0], new int[0], 0));
    }

    @Test
    void topK() {
        float[][] scores = {
            {0.1f, 0.7f, 0.2f},   // label 2: one higher -> top-2 hit, top-1 miss
            {0.5f, 0.3f, 0.2f},   // label 0: top-1 hit
            {0.2f, 0.3f, 0.5f},   // label 0: two higher -> top-3 only
            {0.4f, 0.4f, 0.2f},   // label 1 tied with 0: nothing strictly higher -> top-1 hit
        };
        int[] labels = {2, 0, 0, 1};
        assertEquals(0.5, TopK.accuracy(scores, labels, 1));
        assertEquals(0.75, TopK.accuracy(scores, labels, 2));
        assertEquals(1.0, TopK.accuracy(scores, labels, 3));
    }

    @Test
    void topKBadInputs() {
        float[][] s = {{0, 1}, {1, 0}};
        assertMessage("TopK.accuracy: k must be in [1, 2], got 3", () -> TopK.accuracy(s, new int[] {0, 1}, 3));
        assertMessage("TopK.accuracy: k must be in [1, 2], got 0", () -> TopK.accuracy(s, new int[] {0, 1}, 0));
        assertMessage("TopK.accuracy: 2 score rows and 1 labels; need the same number, at least one",
                () -> TopK.accuracy(s, new int[] {0}, 1));
        assertMessage("TopK.accuracy: label 5 of sample 1 is outside [0, 2)",
                () -> TopK.accuracy(s, new int[] {0, 5}, 1));
        assertMessage("TopK.accuracy: row 1 has 3 scores, row 0 has 2",
                () -> TopK.accuracy(new float[][] {{0, 1}, {0, 1, 2}}, new int[] {0, 1}, 1));
        assertMessage("TopK.accuracy: row 0 holds NaN",
                () -> TopK.accuracy(new float[][] {{Float.NaN, 1}}, new int[] {0}, 1));
    }
}
