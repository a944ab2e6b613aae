package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.nn.Module;
import dev.mpt.optim.Adam;
import dev.mpt.optim.AdamW;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.parallel.DpFixtures.Config;
import dev.mpt.optim.parallel.DpFixtures.Poison;
import dev.mpt.optim.parallel.DpFixtures.Result;
import dev.mpt.optim.scaling.LossScaler;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The promise of the data-parallel step: {@code N} ranks with one micro-batch each give FP32 masters
 * bit for bit equal to one process that accumulates the same {@code N} micro-batches in rank order
 * (the reference: the world-1 path of the same step, {@link DataParallelOptimizer#accumulate()}),
 * after 20 steps, with the same skips, scales and gradient norms. Exact equality is the right test:
 * both sides perform the same FP32 and double operations in the same order (the class comment of
 * {@link DataParallelOptimizer} lists them), so any difference is a bug, not rounding.
 */
class DataParallelEquivalenceTest {

    static final int STEPS = 20;

    /**
     * FP16, Adam, clipping at 0.5 (below the norms seen, so it acts), a dynamic scaler starting at
     * 2^20: the scaled gradients overflow FP16 at first, so the run backs off, and growth every 3
     * clean steps makes it overflow again: skips and growths both occur within 20 steps.
     */
    static Config fp16Adam() {
        return new Config(Precision.MIXED_FP16, () -> new Adam(1e-2),
                () -> LossScaler.dynamicBuilder().initialScale(0x1p20).growthInterval(3).build(), 0.5,
                DpFixtures::mlp);
    }

    @Test
    void fp16AdamWithClippingAndDynamicScalingMatchesTheReferenceForTwoAndFourRanks() {
        for (int world : new int[] {2, 4}) {
            Result reference = DpFixtures.train(fp16Adam(), 1, world, STEPS, Poison.NONE, null, null).get(0);
            List<Result> ranks = DpFixtures.train(fp16Adam(), world, 1, STEPS, Poison.NONE, null, null);
            assertSameAsReference(reference, ranks, "FP16 Adam, " + world + " ranks");
            List<StepOutcome> o = reference.outcomes();
            assertTrue(o.stream().anyMatch(StepOutcome::skipped), "the run must exercise a skipped step");
            assertTrue(o.stream().anyMatch(s -> s.nextScale() > s.scale()), "the run must exercise a growth");
            assertTrue(o.stream().anyMatch(s -> !s.skipped() && s.gradNorm() > 0.5), "clipping must act");
        }
    }

    @Test
    void bf16SgdWithFp32NormParametersMatchesTheReference() {
        Config cfg = new Config(Precision.MIXED_BF16, () -> new Sgd(0.05, 0.9), () -> LossScaler.fixed(1), 0,
                DpFixtures::mlpWithNorm);
        Result reference = DpFixtures.train(cfg, 1, 2, STEPS, Poison.NONE, null, null).get(0);
        assertSameAsReference(reference, DpFixtures.train(cfg, 2, 1, STEPS, Poison.NONE, null, null), "BF16 SGD");
    }

    @Test
    void fp32AdamWMatchesTheReferenceForFourRanks() {
        Config cfg = new Config(Precision.FP32, () -> new AdamW(1e-2), () -> LossScaler.fixed(1), 1.0,
                DpFixtures::mlp);
        Result reference = DpFixtures.train(cfg, 1, 4, STEPS, Poison.NONE, null, null).get(0);
        assertSameAsReference(reference, DpFixtures.train(cfg, 4, 1, STEPS, Poison.NONE, null, null), "FP32 AdamW");
    }

    /** The no-master ablation: each owner widens its shard of the FP16 weights before the update. */
    @Test
    void fp16WithoutMastersMatchesTheReference() {
        Config cfg = new Config(Precision.FP16_NO_MASTER, () -> new Sgd(0.05), () -> LossScaler.fixed(0x1p8), 0,
                DpFixtures::mlp);
        Result reference = DpFixtures.train(cfg, 1, 2, 10, Poison.NONE, null, null).get(0);
        assertSameAsReference(reference, DpFixtures.train(cfg, 2, 1, 10, Poison.NONE, null, null), "FP16 no masters");
    }

    @Test
    void resultsDoNotDependOnTheKernelThreadCount() {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            List<Result> one = DpFixtures.train(fp16Adam(), 2, 1, 6, Poison.NONE, null, null);
            Parallel.setThreads(3);
            List<Result> three = DpFixtures.train(fp16Adam(), 2, 1, 6, Poison.NONE, null, null);
            assertEquals(DpFixtures.bits(one.get(0).masters()), DpFixtures.bits(three.get(0).masters()));
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** One rank with one micro-batch per step is AmpOptimizer, bit for bit (same divisions, norm and rule). */
    @Test
    void oneRankWithOneMicroBatchIsAmpOptimizer() {
        Config cfg = fp16Adam();
        Result dp = DpFixtures.train(cfg, 1, 1, STEPS, Poison.NONE, null, null).get(0);
        Module model = cfg.model().get();
        AmpOptimizer amp = AmpOptimizer.builder(model, cfg.optimizer().get()).precision(cfg.precision())
                .lossScaler(cfg.scaler().get()).clipGradNorm(cfg.clip()).build();
        List<StepOutcome> outcomes = new ArrayList<>();
        for (int t = 0; t < STEPS; t++) {
            amp.zeroGrad();
            amp.scale(DpFixtures.loss(model, cfg.precision(), t, 0, false)).backward();
            outcomes.add(amp.step());
        }
        Map<String, float[]> masters = new LinkedHashMap<>();
        for (String n : amp.masterWeights().names()) {
            masters.put(n, amp.masterWeights().master(n));
        }
        assertEquals(DpFixtures.bits(masters), DpFixtures.bits(dp.masters()));
        assertEquals(summary(outcomes), summary(dp.outcomes()));
    }

    static void assertSameAsReference(Result reference, List<Result> ranks, String what) {
        assertSameAsReference(reference, ranks, 0, what);
    }

    /** As above, for ranks that ran the reference's steps from {@code from} on (resumed there). */
    static void assertSameAsReference(Result reference, List<Result> ranks, int from, String what) {
        List<String> steps = summary(reference.outcomes());
        for (int i = 0; i < ranks.size(); i++) {
            int r = i;
            Result rank = ranks.get(r);
            assertEquals(DpFixtures.bits(reference.masters()), DpFixtures.bits(rank.masters()),
                    what + ": rank " + r + "'s masters");
            assertEquals(steps.subList(from, steps.size()), summary(rank.outcomes()), what + ": rank " + r + "'s steps");
            reference.weights().forEach((n, bits) -> assertArrayEquals(bits, rank.weights().get(n),
                    what + ": rank " + r + "'s replica weight " + n));
        }
    }

    /** Skip, scale, next scale and the norm's bits of every step. */
    static List<String> summary(List<StepOutcome> outcomes) {
        return outcomes.stream().map(o -> o.step() + ":" + o.skipped() + ":" + o.scale() + "->" + o.nextScale() + ":"
                + Long.toHexString(Double.doubleToRawLongBits(o.gradNorm())) + ":" + o.learningRate()).toList();
    }
}
