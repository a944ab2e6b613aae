package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.data.Standardization;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.GradientStats;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import dev.mpt.optim.scaling.LossScaler;
import org.junit.jupiter.api.Test;

/**
 * The two failures of pure FP16 training that "Mixed Precision Training" (Micikevicius et al.,
 * ICLR 2018) fixes, shown at model level: updates lost without FP32 master weights (section
 * 3.1) and gradients flushed to zero without loss scaling (section 3.2).
 */
class ModelLevelFailuresTest {

    private static final int STEPS = 40;
    private static final double LR = 1e-4;

    /**
     * A 4 -> 1 linear layer with every weight 1.0 (bias 0), input all ones and loss {@code sum(output)}: each
     * weight's gradient is exactly 1, so each SGD step should lower each weight by
     * {@code lr = 1e-4}. Below 1.0 the FP16 spacing is 2^-11, so an FP16 weight of 1.0 only moves
     * when the accumulated change exceeds half of it, 2^-12 = 2.44e-4: never when each step is
     * rounded back to FP16 (1e-4 < 2^-12), at the third step when the change accumulates in an
     * FP32 master (3e-4 > 2^-12 > 2e-4).
     */
    private static Trainer lostUpdates(Precision p) {
        Linear layer = new Linear(4, 1, 1L);
        layer.weight().value().fill_(1f);
        layer.bias().value().fill_(0f);
        return Trainer.builder(layer)
                .precision(p)
                .optimizer(new Sgd(LR))
                .lossScaler(LossScaler.fixed(1024))
                .loss((out, labels) -> out.sum())
                .logEvery(0)
                .build();
    }

    private static float[] weights(Trainer t) {
        return t.model().namedParameters().get("weight").value().toFloatArray();
    }

    @Test
    void smallUpdatesVanishWithoutMastersAndAccumulateWithThem() {
        Tensor x = Tensor.of(new float[] {1, 1, 1, 1}, 1, 4);
        int[] label = {0};
        Trainer noMaster = lostUpdates(Precision.FP16_NO_MASTER);
        Trainer mixed = lostUpdates(Precision.MIXED_FP16);
        int firstChange = -1;
        for (int k = 1; k <= STEPS; k++) {
            assertFalse(noMaster.step(x, label).outcome().skipped());
            assertFalse(mixed.step(x, label).outcome().skipped());
            assertArrayEquals(new float[] {1, 1, 1, 1}, weights(noMaster), "FP16_NO_MASTER moved at step " + k);
            if (firstChange < 0 && weights(mixed)[0] != 1f) {
                firstChange = k;
            }
        }
        assertEquals(3, firstChange, "the FP16 weight moves once the master has moved by more than 2^-12");

        // FP32 master: STEPS subtractions of fl(1e-4) from 1; each result lies in [0.5, 1], so it is
        // rounded by at most 2^-25, and fl(1e-4) differs from 1e-4 by at most 1e-4 * 2^-24.
        double exact = 1 - STEPS * LR;
        double bound = STEPS * (0x1p-25 + LR * 0x1p-24);
        float[] master = mixed.optimizer().masterWeights().master("weight");
        float[] w16 = weights(mixed);
        for (int i = 0; i < 4; i++) {
            assertEquals(exact, master[i], bound, "master " + i);
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(master[i])), w16[i], "fp16 weight " + i);
            assertEquals(exact, w16[i], 0x1p-12 + bound, "fp16 weight " + i + " tracks the FP32 trajectory");
        }
    }

    /** A loss so small (times 2^-20) that its FP16 gradients fall below 2^-24 without scaling. */
    private static final float TINY = 0x1p-20f;

    private static Trainer underflow(Precision p) {
        return Trainer.builder(TestModels.mlp(64, 64, 10, 3))
                .precision(p)
                .optimizer(new Sgd(0.05 / TINY, 0.9))      // the update is lr * g: same steps as an unscaled loss
                .loss((out, labels) -> Losses.crossEntropy(out, labels).mul(TINY))
                .collectGradientStats(true)
                .logEvery(0)
                .seed(3)
                .build();
    }

    /**
     * Cross-entropy times 2^-20 on the digits, in full batches of 64: the logits' gradients
     * {@code (p - y) / 64 * 2^-20} are below 2^-26 (|p - y| < 1), under half of FP16's smallest
     * subnormal, so they round to zero and nothing learns (FP16_NO_SCALING), while
     * the default dynamic scale (2^16) lifts them to about 2^-10 and the FP32 masters receive the
     * unscaled gradients (MIXED_FP16). Learning is measured as held-out loss and accuracy.
     */
    @Test
    void tinyGradientsLearnWithLossScalingAndStallWithout() {
        Dataset.Split s = Digits.load().split(0.2, 42);
        Standardization norm = Standardization.fit(s.train());
        Dataset train = s.train().normalize(norm);
        Dataset val = s.validation().normalize(norm);

        Trainer scaled = underflow(Precision.MIXED_FP16);
        Trainer unscaled = underflow(Precision.FP16_NO_SCALING);
        Evaluation scaledBefore = scaled.evaluate(val);
        Evaluation unscaledBefore = unscaled.evaluate(val);
        assertEquals(scaledBefore, unscaledBefore, "same initial model");
        float[] initial = unscaled.model().namedParameters().get("1.weight").value().toFloatArray();

        boolean firstStep = true;
        for (int epoch = 0; epoch < 5; epoch++) {
            // dropLast: the last batch of 30 would lift (p - y) / 30 * 2^-20 up to 2^-24 and let a few through.
            for (Batch b : train.batches(64, scaled.random()).dropLast()) {
                StepResult rs = scaled.step(b);
                StepResult ru = unscaled.step(b);
                assertFalse(rs.outcome().skipped() || ru.outcome().skipped());
                if (firstStep) {
                    for (var e : ru.outcome().gradientStats().entrySet()) {
                        assertEquals(e.getValue().count(), e.getValue().fp16ZeroCount(),
                                "every FP16 gradient of " + e.getKey() + " flushed to zero without scaling");
                    }
                    GradientStats w = rs.outcome().gradientStats().get("1.weight");
                    assertTrue(w.fractionZero() < 0.5, "with scaling most gradients survive: " + w);
                    firstStep = false;
                }
            }
        }
        Evaluation scaledAfter = scaled.evaluate(val);
        Evaluation unscaledAfter = unscaled.evaluate(val);
        assertTrue(scaledAfter.meanLoss() < scaledBefore.meanLoss() / 4, "scaled run learns: cross-entropy "
                + scaledBefore.meanLoss() / TINY + " -> " + scaledAfter.meanLoss() / TINY);
        assertTrue(scaledAfter.accuracy() > 0.9, "scaled accuracy " + scaledAfter.accuracy());
        assertEquals(unscaledBefore, unscaledAfter, "the unscaled run does not learn at all");
        Parameter w = unscaled.model().namedParameters().get("1.weight");
        assertArrayEquals(initial, w.value().toFloatArray(), "its weights never moved");
    }
}
