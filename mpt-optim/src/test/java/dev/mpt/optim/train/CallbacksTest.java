package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.data.Standardization;
import dev.mpt.optim.amp.MasterWeights;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in callbacks: driven by scripted metric sequences (the decision at each epoch) and
 * inside real fits (that the fit acts on it).
 */
class CallbacksTest {

    private static Dataset train;
    private static Dataset validation;

    @BeforeAll
    static void data() {
        Dataset.Split s = Digits.load().split(0.2, 42);
        Standardization norm = Standardization.fit(s.train());
        train = s.train().normalize(norm);
        validation = s.validation().normalize(norm);
    }

    /** An epoch whose only meaningful value is {@code metric}'s. */
    private static EpochMetrics epoch(int e, Metric metric, double v) {
        double loss = metric == Metric.TRAIN_LOSS ? v : 1;
        double valLoss = metric == Metric.VAL_LOSS ? v : 1;
        double acc = metric == Metric.VAL_ACCURACY ? v : 0.5;
        return new EpochMetrics(e, loss, valLoss, acc, 0.1, 1, 10, 0, 1, 100);
    }

    /** Feeds {@code values} as epochs 1, 2, ... and returns the epoch after which the fit was told to stop (0: never). */
    private static int stopEpoch(Callback c, Metric metric, double... values) {
        FitContext ctx = new FitContext(FitTest.digits(Precision.FP32, 0.1).build(), values.length, 10, true, true);
        c.onFitStart(ctx);
        for (int e = 1; e <= values.length; e++) {
            ctx.startEpoch(e);
            EpochMetrics m = epoch(e, metric, values[e - 1]);
            ctx.add(m);
            c.onEpochEnd(ctx, m);
            if (ctx.stopRequested()) {
                return e;
            }
        }
        return 0;
    }

    @Test
    void earlyStoppingStopsAfterPatienceEpochsWithoutImprovement() {
        // improvements at 1, 2, 5; with patience 2 the counter reaches 2 at epoch 4
        assertEquals(4, stopEpoch(new EarlyStopping(Metric.VAL_LOSS, 2), Metric.VAL_LOSS, 1.0, 0.8, 0.85, 0.9, 0.7));
        // an improvement resets the counter: 3 (1), 4 improves, 5 (1), 6 (2)
        assertEquals(6, stopEpoch(new EarlyStopping(Metric.VAL_LOSS, 2), Metric.VAL_LOSS,
                1.0, 0.8, 0.85, 0.7, 0.75, 0.75, 0.1));
        // patience 0: the first epoch that does not improve
        assertEquals(3, stopEpoch(new EarlyStopping(Metric.VAL_LOSS, 0), Metric.VAL_LOSS, 1.0, 0.9, 0.9, 0.8));
        // minDelta 0.05: neither 0.96 nor 0.955 is below 1.0 - 0.05 (the best stays 1.0)
        assertEquals(3, stopEpoch(new EarlyStopping(Metric.VAL_LOSS, 2, 0.05, Mode.MIN), Metric.VAL_LOSS,
                1.0, 0.96, 0.955, 0.5));
        // 0.94 is: the counter restarts, and 0.8 is below 0.94 - 0.05
        assertEquals(0, stopEpoch(new EarlyStopping(Metric.VAL_LOSS, 2, 0.05, Mode.MIN), Metric.VAL_LOSS,
                1.0, 0.96, 0.94, 0.8));
        // accuracy improves upwards; NaN never improves
        assertEquals(3, stopEpoch(new EarlyStopping(Metric.VAL_ACCURACY, 1), Metric.VAL_ACCURACY, 0.5, 0.6, 0.6));
        assertEquals(2, stopEpoch(new EarlyStopping(Metric.TRAIN_LOSS, 1), Metric.TRAIN_LOSS, 2.0, Double.NaN));
        assertEquals(0, stopEpoch(new EarlyStopping(Metric.VAL_LOSS, 3), Metric.VAL_LOSS, 3, 2, 1, 1, 1));
    }

    @Test
    void earlyStoppingEndsARealFit() {
        // learning rate 0: the training loss stays put (up to summation order), so epoch 1 is the
        // best and the fit stops after epoch 1 + patience
        Trainer t = FitTest.digits(Precision.FP32, 0.0).build();
        EarlyStopping es = new EarlyStopping(Metric.TRAIN_LOSS, 2, 1e-3, Mode.MIN);
        History h = t.fit(train, null, FitOptions.of(10).batchSize(256).callbacks(es));
        assertEquals(3, h.size());
        assertEquals(1, es.bestEpoch());
        assertTrue(h.stopReason().orElseThrow().startsWith("EarlyStopping: train_loss has not improved for 2 epochs"),
                h.stopReason().toString());
        assertEquals(3 * 6, t.steps());
    }

    @Test
    void reduceOnPlateauLowersTheRateAtTheRightEpochs() {
        Trainer t = FitTest.digits(Precision.FP32, 0.05).build();
        var r = new ReduceLROnPlateau(Metric.VAL_LOSS, Mode.MIN, 0.5, 2, 0, 0.01);
        FitContext ctx = new FitContext(t, 9, 10, true, true);
        r.onFitStart(ctx);
        double[] losses = {1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.85, 0.85};
        // epochs 3 and 4 do not improve: the rate halves after 4; 5 (1), 6 improves, 7 (1), 8 (2): halves
        // again, 0.0125; at epoch 10 half of it would be below minLr, so the rate becomes minLr
        double[] rateAfter = {0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.0125, 0.0125};
        for (int e = 1; e <= losses.length; e++) {
            ctx.startEpoch(e);
            r.onEpochEnd(ctx, epoch(e, Metric.VAL_LOSS, losses[e - 1]));
            assertEquals(rateAfter[e - 1], t.learningRate(), "after epoch " + e);
        }
        for (int e = 10; e <= 11; e++) {
            ctx.startEpoch(e);
            r.onEpochEnd(ctx, epoch(e, Metric.VAL_LOSS, 0.85));
        }
        // max(0.0125 * 0.5, minLr) = 0.05 * (0.01 / 0.05): two roundings, each within 2^-53 relative
        double tol = 2 * 0x1p-53 * 0.01;
        assertEquals(0.01, t.learningRate(), tol);
        for (int e = 12; e <= 15; e++) {
            r.onEpochEnd(ctx, epoch(e, Metric.VAL_LOSS, 0.85));
        }
        assertEquals(0.01, t.learningRate(), tol);      // at minLr: no further change
    }

    @Test
    void reduceOnPlateauInARealFitShowsInTheHistory() {
        // minDelta 10: no epoch after the first counts as an improvement; patience 1: the rate halves
        // after epochs 2 and 3, so epochs 3 and 4 run at half and a quarter of it
        Trainer t = FitTest.digits(Precision.MIXED_FP16, 0.05).build();
        var r = new ReduceLROnPlateau(Metric.TRAIN_LOSS, Mode.MIN, 0.5, 1, 10, 0);
        History h = t.fit(train, null, FitOptions.of(4).batchSize(256).callbacks(r));
        assertArrayEquals(new double[] {0.05, 0.05, 0.05 * 0.5, 0.05 * 0.25},
                h.epochs().stream().mapToDouble(EpochMetrics::learningRate).toArray());
        assertEquals(0.125, t.learningRateFactor());   // reduced after epoch 4 as well
    }

    /**
     * Monitoring the validation accuracy with mode MIN makes the first epoch the "best" (accuracy
     * rises): the restore must bring back epoch 1's weights and masters bit for bit, not the last.
     */
    @Test
    void bestCheckpointRestoresTheBestEpochBitForBit(@TempDir Path dir) {
        Trainer t = FitTest.digits(Precision.MIXED_FP16, 0.05).build();
        List<List<int[]>> weights = new ArrayList<>();
        List<List<float[]>> masters = new ArrayList<>();
        Callback snapshot = new Callback() {
            @Override
            public void onEpochEnd(FitContext fit, EpochMetrics epoch) {
                List<int[]> w = new ArrayList<>();
                List<float[]> m = new ArrayList<>();
                MasterWeights mw = fit.trainer().optimizer().masterWeights();
                fit.trainer().model().namedParameters().forEach((n, p) -> {
                    w.add(TestModels.rawBits(p.value()));
                    m.add(mw.master(n).clone());
                });
                weights.add(w);
                masters.add(m);
            }
        };
        var best = new BestCheckpoint(dir.resolve("best.safetensors"), Metric.VAL_ACCURACY, Mode.MIN, true);
        History h = t.fit(train, validation, FitOptions.of(3).batchSize(64).callbacks(snapshot, best));
        double[] acc = h.values(Metric.VAL_ACCURACY);
        int argmin = 0;
        for (int e = 1; e < acc.length; e++) {
            if (acc[e] < acc[argmin]) {
                argmin = e;
            }
        }
        assertEquals(argmin + 1, best.bestEpoch());
        assertNotEquals(3, best.bestEpoch(), "accuracy " + Arrays.toString(acc));
        int b = best.bestEpoch() - 1;
        List<int[]> now = new ArrayList<>();
        t.model().parameters().forEach(p -> now.add(TestModels.rawBits(p.value())));
        MasterWeights mw = t.optimizer().masterWeights();
        int i = 0;
        for (String n : t.model().namedParameters().keySet()) {
            assertArrayEquals(weights.get(b).get(i), now.get(i), n);
            assertArrayEquals(masters.get(b).get(i), mw.master(n), n);
            assertFalse(Arrays.equals(weights.get(2).get(i), now.get(i)), n + " equals the last epoch's");
            i++;
        }
        assertEquals((long) best.bestEpoch() * 23, t.steps());
        assertEquals(h.epochs().get(b).valAccuracy(), t.evaluate(validation).accuracy());
    }

    @Test
    void bestCheckpointWithoutRestoreKeepsTheLastWeights(@TempDir Path dir) throws IOException {
        Trainer t = FitTest.digits(Precision.FP32, 0.05).build();
        var best = new BestCheckpoint(dir.resolve("b.safetensors"), Metric.VAL_LOSS, false);
        t.fit(train, validation, FitOptions.of(2).batchSize(128).callbacks(best));
        assertEquals(2 * 12, t.steps());
        assertTrue(best.bestEpoch() >= 1);
        Trainer other = FitTest.digits(Precision.FP32, 0.05).build();
        other.restore(best.file());
        assertEquals(best.best(), other.evaluate(validation).meanLoss());
    }

    @Test
    void theLearningRateFactorIsSavedAndRestored(@TempDir Path dir) throws IOException {
        Trainer t = FitTest.digits(Precision.FP32, 0.05).build();
        t.setLearningRateFactor(0.3);
        assertEquals(0.05 * 0.3, t.learningRate());
        t.save(dir.resolve("c.safetensors"));
        Trainer other = FitTest.digits(Precision.FP32, 0.05).build();
        other.restore(dir.resolve("c.safetensors"));
        assertEquals(0.3, other.learningRateFactor());
        assertEquals(0.05 * 0.3, other.learningRate());
        assertTrue(other.toString().contains("learningRateFactor=0.3"), other.toString());
        assertTrue(other.optimizer().optimizer().toString().contains("lr=0.05 x 0.3"),
                other.optimizer().optimizer().toString());
    }
}
