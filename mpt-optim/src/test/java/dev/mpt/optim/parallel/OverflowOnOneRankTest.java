package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.parallel.DpFixtures.Config;
import dev.mpt.optim.parallel.DpFixtures.Poison;
import dev.mpt.optim.parallel.DpFixtures.Result;
import dev.mpt.optim.scaling.LossScaler;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An inf in one rank's input only (rank 2 of 3, step 4): its gradients overflow, the others' do
 * not; every rank must skip that step, back the dynamic scale off identically, and end with the
 * masters of the reference run that meets the same poisoned micro-batch.
 */
class OverflowOnOneRankTest {

    @Test
    void everyRankSkipsAndFollowsTheSameScaleSequence() {
        // initial scale 2^10 stays clear of FP16 overflow for these gradients, so the only skip is the poisoned step
        Config cfg = new Config(Precision.MIXED_FP16, () -> new Adam(1e-2),
                () -> LossScaler.dynamicBuilder().initialScale(0x1p10).growthInterval(3).build(), 0,
                DpFixtures::mlp);
        Poison poison = new Poison(4, 2);
        List<Result> ranks = DpFixtures.train(cfg, 3, 1, 10, poison, null, null);
        List<StepOutcome> rank0 = ranks.get(0).outcomes();
        for (int t = 0; t < rank0.size(); t++) {
            assertEquals(t == 4, rank0.get(t).skipped(), "step " + t + " skipped?");
        }
        StepOutcome skipped = rank0.get(4);
        assertEquals(skipped.scale() / 2, skipped.nextScale(), "the dynamic scale backs off by half");
        assertFalse(Double.isFinite(skipped.gradNorm()), "the overflowing step's norm is not finite");
        assertEquals(skipped.nextScale(), rank0.get(5).scale());
        for (Result r : ranks) {
            assertEquals(DataParallelEquivalenceTest.summary(rank0), DataParallelEquivalenceTest.summary(r.outcomes()));
        }
        Result reference = DpFixtures.train(cfg, 1, 3, 10, poison, null, null).get(0);
        DataParallelEquivalenceTest.assertSameAsReference(reference, ranks, "poisoned rank 2");
        assertTrue(rank0.stream().filter(o -> !o.skipped()).count() == 9, "all other steps applied");
    }
}
