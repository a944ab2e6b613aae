package dev.mpt.nn.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Dropout;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Dataset;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Predictor against a double reference of a linear model's logits and softmax. */
class PredictorTest {

    private static final int N = 37;
    private static final int IN = 5;
    private static final int CLASSES = 3;

    private static Dataset data() {
        SplittableRandom r = new SplittableRandom(11);
        float[][] rows = new float[N][IN];
        int[] labels = new int[N];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < IN; j++) {
                rows[i][j] = (float) r.nextDouble(-1, 1);
            }
            labels[i] = r.nextInt(CLASSES);
        }
        return Dataset.ofRows(rows, labels, CLASSES);
    }

    /** {@code z = W x + b} in double, and the sum of |terms| that bounds its FP32 rounding error. */
    private static double[][] reference(Linear l, Dataset d, double[][] magnitude) {
        float[] w = l.weight().value().toFloatArray();
        float[] b = l.bias().value().toFloatArray();
        double[][] z = new double[d.size()][CLASSES];
        for (int i = 0; i < d.size(); i++) {
            float[] x = d.features(i);
            for (int c = 0; c < CLASSES; c++) {
                double s = b[c];
                double m = Math.abs(b[c]);
                for (int j = 0; j < IN; j++) {
                    s += (double) w[c * IN + j] * x[j];
                    m += Math.abs((double) w[c * IN + j] * x[j]);
                }
                z[i][c] = s;
                magnitude[i][c] = m;
            }
        }
        return z;
    }

    @Test
    void logitsProbabilitiesAndClassesMatchADoubleReference() {
        Linear l = new Linear(IN, CLASSES, 3);
        Dataset d = data();
        double[][] mag = new double[N][CLASSES];
        double[][] z = reference(l, d, mag);
        float[][] logits = Predictor.of(l, 8).logits(d);
        float[][] probs = Predictor.of(l, 8).probabilities(d);
        int[] classes = Predictor.of(l, 8).classes(d);
        for (int i = 0; i < N; i++) {
            double max = Double.NEGATIVE_INFINITY;
            int best = 0;
            for (int c = 0; c < CLASSES; c++) {
                // FP32 accumulation of IN + 1 terms: |error| <= (IN + 1) * 2^-24 * sum |terms| (first order)
                assertEquals(z[i][c], logits[i][c], (IN + 1) * 0x1p-24 * mag[i][c] * 1.01, "logit " + i + "," + c);
                if (z[i][c] > max) {
                    max = z[i][c];
                    best = c;
                }
            }
            double sum = 0;
            for (int c = 0; c < CLASSES; c++) {
                sum += Math.exp(z[i][c] - max);
            }
            for (int c = 0; c < CLASSES; c++) {
                // logit error (< 1e-6 here) moves p by at most ~2x that; exp, sum and divide add ~8 ulps
                assertEquals(Math.exp(z[i][c] - max) / sum, probs[i][c], 2e-6, "probability " + i + "," + c);
            }
            assertEquals(best, classes[i], "class of sample " + i);
        }
    }

    @Test
    void resultsDoNotDependOnTheBatchSize() {
        Linear l = new Linear(IN, CLASSES, 3);
        Dataset d = data();
        float[][] one = Predictor.of(l, 1).logits(d);
        float[][] all = Predictor.of(l).logits(d);
        for (int i = 0; i < N; i++) {
            assertArrayEquals(one[i], all[i]);
        }
    }

    @Test
    void runsInEvaluationModeWithoutAGraphAndRestoresTheMode() {
        Linear l = new Linear(IN, CLASSES, 3);
        Sequential withDropout = new Sequential(new Dropout(0.5, new SplittableRandom(1)), l);
        assertTrue(withDropout.isTraining());
        Dataset d = data();
        float[][] a = Predictor.of(withDropout).logits(d);
        float[][] b = Predictor.of(l).logits(d);
        for (int i = 0; i < N; i++) {
            assertArrayEquals(b[i], a[i]);                        // dropout was off
        }
        assertTrue(withDropout.isTraining());
        Tensor out = Predictor.of(l).logits(Tensor.of(d.features(0), 1, IN));
        assertFalse(out.requiresGrad());
    }

    @Test
    void convertsInputsToAnFp16ModelsDtype() {
        Linear l = new Linear(IN, CLASSES, 3);
        l.to(DType.FP16);
        Dataset d = data();
        int[] classes = Predictor.of(l).classes(d);
        assertEquals(N, classes.length);
        assertEquals(DType.FP32, Predictor.of(l).logits(Tensor.of(d.features(0), 1, IN)).dtype());
    }

    @Test
    void metricsOverADataset() {
        Linear l = new Linear(IN, CLASSES, 3);
        Dataset d = data();
        int[] classes = Predictor.of(l).classes(d);
        ConfusionMatrix cm = Predictor.of(l).confusionMatrix(d);
        long right = 0;
        for (int i = 0; i < N; i++) {
            right += classes[i] == d.label(i) ? 1 : 0;
        }
        assertEquals((double) right / N, cm.accuracy());
        assertEquals(cm.accuracy(), Predictor.of(l).topKAccuracy(d, 1));   // no ties in random FP32 logits
        assertEquals(1.0, Predictor.of(l).topKAccuracy(d, CLASSES));
    }

    @Test
    void badInputs() {
        assertEquals("Predictor.of: batchSize must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> Predictor.of(new Linear(2, 2, 1), 0)).getMessage());
        assertEquals("Predictor.confusionMatrix: the model has 2 outputs but the data has 3 classes",
                assertThrows(IllegalArgumentException.class,
                        () -> Predictor.of(new Linear(IN, 2, 1)).confusionMatrix(data())).getMessage());
        assertThrows(NullPointerException.class, () -> Predictor.of(null));
        assertThrows(NullPointerException.class, () -> Predictor.of(new Linear(2, 2, 1)).logits((Dataset) null));
    }
}
