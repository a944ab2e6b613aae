package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.nn.BatchNorm1d;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.GradientClipping;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import dev.mpt.optim.scaling.LossScaler;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The data-parallel optimizer's order of calls, arguments, sharded memory, and buffers. */
class DataParallelOptimizerTest {

    private static DataParallelOptimizer single(Module m) {
        return DataParallelOptimizer.builder(m, InProcessCollective.group(1).get(0), new Adam(1e-3))
                .precision(Precision.MIXED_FP16).build();
    }

    @Test
    void callsOutOfOrderSayWhatToDo() {
        Module m = DpFixtures.mlp();
        DataParallelOptimizer opt = single(m);
        var e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("no scaled loss since zeroGrad(); call scale(loss).backward()"),
                e.getMessage());
        e = assertThrows(IllegalStateException.class, opt::accumulate);
        assertTrue(e.getMessage().contains("no scale(loss).backward() since the last zeroGrad()"), e.getMessage());
        opt.scale(DpFixtures.loss(m, Precision.MIXED_FP16, 0, 0, false));
        e = assertThrows(IllegalStateException.class, opt::accumulate);
        assertTrue(e.getMessage().contains("no parameter has a gradient"), e.getMessage());
        opt.scale(DpFixtures.loss(m, Precision.MIXED_FP16, 0, 0, false)).backward();
        opt.step();
        e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("called twice without a new backward"), e.getMessage());
        e = assertThrows(IllegalStateException.class,
                () -> opt.scale(DpFixtures.loss(m, Precision.MIXED_FP16, 0, 0, false)));
        assertTrue(e.getMessage().contains("Call zeroGrad() after each step()"), e.getMessage());
    }

    @Test
    void stepWithoutAnyGradientFailsOnEveryRankAlike() {
        Module m = DpFixtures.mlp();
        DataParallelOptimizer opt = single(m);
        opt.scale(DpFixtures.loss(m, Precision.MIXED_FP16, 0, 0, false));   // no backward
        var e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("no rank has a gradient for any parameter"), e.getMessage());
    }

    @Test
    void badSettingsAreRefused() {
        Module m = DpFixtures.mlp();
        Collective c = InProcessCollective.group(1).get(0);
        var b = DataParallelOptimizer.builder(m, c, new Sgd(0.1));
        var e = assertThrows(IllegalArgumentException.class, () -> b.clipGradNorm(0));
        assertEquals("DataParallelOptimizer.Builder.clipGradNorm: maxNorm must be finite and > 0, got 0.0",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.lossScaler(LossScaler.dynamic()).build());
        assertTrue(e.getMessage().contains("precision FP32 does not scale the loss"), e.getMessage());
        assertThrows(NullPointerException.class, () -> DataParallelOptimizer.builder(null, c, new Sgd(0.1)));
        assertThrows(NullPointerException.class, () -> DataParallelOptimizer.builder(m, null, new Sgd(0.1)));
        var noParams = new ReLU();
        e = assertThrows(IllegalArgumentException.class,
                () -> DataParallelOptimizer.builder(noParams, c, new Sgd(0.1)).build());
        assertTrue(e.getMessage().contains("the model has no parameters"), e.getMessage());
    }

    @Test
    void ranksThatAccumulateDifferentlyAllFail() {
        var e = assertThrows(CollectiveException.class, () -> DataParallel.workers(2).run(DpFixtures::mlp, w -> {
            var opt = DataParallelOptimizer.builder(w.model(), w.collective(), new Sgd(0.1)).build();
            opt.zeroGrad();
            for (int i = 0; i <= w.rank(); i++) {
                opt.scale(DpFixtures.loss(w.model(), Precision.FP32, 0, i, false)).backward();
                opt.accumulate();
            }
            return opt.step();
        }));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("every rank must accumulate the same number per step"),
                e.getCause().getMessage());
        assertEquals(1, e.getSuppressed().length, "both ranks refuse the step");
    }

    @Test
    void replicasOfDifferentModelsAreRefusedAtBuild() {
        var e = assertThrows(CollectiveException.class, () -> DataParallel.workers(2)
                .run(() -> new Linear(3, 4, new SplittableRandom(1)), w -> {
                    Module m = w.rank() == 0 ? w.model() : new Linear(3, 5, new SplittableRandom(1));
                    return DataParallelOptimizer.builder(m, w.collective(), new Sgd(0.1)).build();
                }));
        assertTrue(e.getCause().getMessage().contains("has other parameters (names, shapes or dtypes)"),
                e.getCause().getMessage());
    }

    /**
     * ZeRO stage 1: the FP32 gradients, masters and Adam's two moments of each element live on one
     * rank, so the ranks' shard bytes add up to a single process's, and each rank holds at most
     * its even part plus one block.
     */
    @Test
    void mastersAndStateAreShardedNotReplicated() {
        long total = DataParallel.workers(1).run(DpFixtures::mlp, w -> builtAdam(w).shardBytes()).get(0);
        int elements = DpFixtures.IN * DpFixtures.HIDDEN + DpFixtures.HIDDEN + DpFixtures.HIDDEN * DpFixtures.CLASSES
                + DpFixtures.CLASSES;
        assertEquals(4L * 4 * elements, total, "gradient, master and two moments, 4 bytes each");
        List<Long> perRank = DataParallel.workers(4).run(DpFixtures::mlp, w -> builtAdam(w).shardBytes());
        assertEquals(total, perRank.stream().mapToLong(Long::longValue).sum());
        for (long bytes : perRank) {
            assertTrue(bytes <= 4L * 4 * (elements / 4 + GradientClipping.BLOCK), bytes + " bytes");
        }
    }

    private static DataParallelOptimizer builtAdam(DataParallel.Worker w) {
        return DataParallelOptimizer.builder(w.model(), w.collective(), new Adam(1e-3))
                .precision(Precision.MIXED_FP16).build();
    }

    /**
     * Rank 0's weights reach every replica at build (each rank's factory drew other weights here),
     * and after a step every replica holds rank 0's BatchNorm running statistics, although each
     * folded in its own micro-batch.
     */
    @Test
    void replicasStartFromRankZerosWeightsAndKeepRankZerosBuffers() {
        List<List<int[]>> states = DataParallel.workers(3).run(DpFixtures::mlp, w -> {
            var rng = new SplittableRandom(100 + w.rank());
            Module m = new Sequential(new Linear(4, 6, rng), new BatchNorm1d(6), new Linear(6, 2, rng));
            var opt = DataParallelOptimizer.builder(m, w.collective(), new Sgd(0.1)).build();
            int[] initial = TestModels.rawBits(m.namedParameters().get("0.weight").value());
            opt.zeroGrad();
            Tensor x = TestModels.gaussian(new SplittableRandom(w.rank()), 5, 4);
            opt.scale(Losses.crossEntropy(m.forward(x), new int[] {0, 1, 0, 1, 1})).backward();
            int[] before = TestModels.rawBits(m.namedBuffers().get("1.running_mean").value());
            opt.step();
            return List.of(initial, before,
                    TestModels.rawBits(m.namedBuffers().get("1.running_mean").value()),
                    TestModels.rawBits(m.namedParameters().get("2.weight").value()));
        });
        for (int r = 1; r < 3; r++) {
            assertArrayEquals(states.get(0).get(0), states.get(r).get(0), "rank " + r + " starts from rank 0's weights");
            assertNotEquals(Arrays.toString(states.get(0).get(1)), Arrays.toString(states.get(r).get(1)),
                    "rank " + r + "'s forward folded its own batch");
            assertArrayEquals(states.get(0).get(2), states.get(r).get(2), "rank " + r + " holds rank 0's statistics");
            assertArrayEquals(states.get(0).get(3), states.get(r).get(3), "rank " + r + "'s updated weights");
        }
        assertArrayEquals(states.get(0).get(1), states.get(0).get(2), "rank 0's own statistics are kept");
    }
}
