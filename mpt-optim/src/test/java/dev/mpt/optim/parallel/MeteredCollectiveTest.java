package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.scaling.LossScaler;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bytes a 16-bit data-parallel step would send, counted per rank. */
class MeteredCollectiveTest {

    /**
     * One FP16 step of the 6005-parameter MLP on 4 ranks with shards [0, 4096, 4096, 4800, 6005]:
     * rank r sends {@code 2 (6005 - own_r)} bytes of gradients, {@code 2 own_r * 3} of weights and
     * {@code 8 * 3 * (2 + 4 + blocks_r)} of the step summary (micro-batch count, overflow flag,
     * 4 presence flags and one sum of squares per block).
     */
    @Test
    void countsTheGradientAndWeightExchangeOfOneStep() {
        List<Long> bytes = DataParallel.workers(4).run(DpFixtures::mlp, w -> {
            var c = new MeteredCollective(w.collective());
            var opt = DataParallelOptimizer.builder(w.model(), c, new Sgd(0.1)).precision(Precision.MIXED_FP16)
                    .lossScaler(LossScaler.fixed(256)).build();
            long atBuild = c.bytesSent();
            opt.zeroGrad();
            opt.scale(DpFixtures.loss(w.model(), Precision.MIXED_FP16, 0, w.rank(), false)).backward();
            opt.step();
            return c.bytesSent() - atBuild;
        });
        int[] own = {4096, 0, 704, 1205};
        int[] blocks = {1, 0, 1, 3};
        for (int r = 0; r < 4; r++) {
            long expected = 2L * (6005 - own[r]) + 2L * own[r] * 3 + 8L * 3 * (2 + 4 + blocks[r]);
            assertEquals(expected, bytes.get(r), "rank " + r);
        }
    }
}
