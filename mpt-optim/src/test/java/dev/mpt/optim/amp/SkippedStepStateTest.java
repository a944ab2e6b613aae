package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.BatchNorm1d;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.train.StepResult;
import dev.mpt.optim.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A skipped step leaves every piece of state as it was, the running statistics of BatchNorm
 * included: the training-mode forward has already folded the batch into them when the optimizer
 * finds the overflow, so the optimizer puts them back. And the trainer refuses an input that is
 * finite in FP32 but overflows the model's FP16 before it touches anything.
 */
class SkippedStepStateTest {

    private static final int[] LABELS = {0, 1, 2, 0, 1, 2, 0, 1};

    private static Module model() {
        var rng = new SplittableRandom(3);
        return new Sequential(new Linear(4, 8, rng), new BatchNorm1d(8), new ReLU(), new Linear(8, 3, rng));
    }

    private static Tensor inputs(long seed) {
        return TestModels.gaussian(new SplittableRandom(seed), 8, 4);
    }

    /** Every parameter's and buffer's raw bits. */
    private static List<String> state(Module m) {
        List<String> out = new ArrayList<>();
        m.namedParameters().forEach((n, p) -> out.add(n + Arrays.toString(TestModels.rawBits(p.value()))));
        m.namedBuffers().forEach((n, b) -> out.add(n + Arrays.toString(TestModels.rawBits(b.value()))));
        return out;
    }

    @Test
    void aCustomLoopsSkippedStepPutsTheRunningStatisticsBack() {
        Module m = model();
        AmpOptimizer opt = AmpOptimizer.builder(m, new Adam(1e-2)).precision(Precision.MIXED_FP16).build();
        opt.zeroGrad();
        opt.scale(Losses.crossEntropy(m.forward(inputs(1).to(DType.FP16)), LABELS)).backward();
        assertTrue(!opt.step().skipped());
        List<String> before = state(m);

        opt.zeroGrad();
        Tensor x = inputs(2);
        x.floatData()[5] = 1e5f;                             // finite in FP32, infinite in FP16
        opt.scale(Losses.crossEntropy(m.forward(x.to(DType.FP16)), LABELS)).backward();
        assertTrue(opt.step().skipped());
        assertEquals(before, state(m), "a skipped step changes no weight and no running statistic");

        m.eval();
        assertTrue(m.forward(inputs(3).to(DType.FP16)).allFinite(), "evaluation still works");
    }

    @Test
    void anOptimizerBuiltFromParametersPutsBackTheBuffersOfTheModuleItIsGiven() {
        Module m = model().to(DType.FP16);
        AmpOptimizer opt = AmpOptimizer.builder(m.namedParameters(), new Adam(1e-2)).precision(Precision.MIXED_FP16)
                .buffers(m).build();
        List<String> before = state(m);
        opt.zeroGrad();
        Tensor x = inputs(6);
        x.floatData()[0] = 7e4f;
        opt.scale(Losses.crossEntropy(m.forward(x.to(DType.FP16)), LABELS)).backward();
        assertTrue(opt.step().skipped());
        assertEquals(before, state(m));
    }

    @Test
    void aTrainersStepSkippedForOverflowingGradientsPutsTheRunningStatisticsBack() {
        Module m = model();
        Trainer t = Trainer.builder(m).precision(Precision.MIXED_FP16).optimizer(new Adam(1e-2))
                .lossScaler(LossScaler.fixed(0x1p40)).loss(Losses::crossEntropy).logEvery(0).build();
        List<String> before = state(m);
        StepResult r = t.step(inputs(4), LABELS);            // loss * 2^40 overflows the FP16 gradients
        assertTrue(r.outcome().skipped());
        assertEquals(before, state(m), "a skipped step changes no weight and no running statistic");
    }

    @Test
    void aTrainerRefusesInputsThatOverflowTheModelsDtype() {
        Module m = model();
        Trainer t = Trainer.builder(m).precision(Precision.MIXED_FP16).optimizer(new Adam(1e-2))
                .loss(Losses::crossEntropy).logEvery(0).build();
        List<String> before = state(m);
        Tensor x = inputs(5);
        x.floatData()[9] = -1e5f;
        var e = assertThrows(IllegalArgumentException.class, () -> t.step(x, LABELS));
        assertTrue(e.getMessage().contains("FP16") && e.getMessage().contains("-100000"), e.getMessage());
        assertEquals(before, state(m));
        assertEquals(0, t.steps());
    }
}
